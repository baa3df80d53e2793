"""Reads and conditional writes of runwatch's items; DynamoDB errors become two domain errors.

`Conflict`: a conditional write lost a race (the caller re-reads and merges again; never an error to
report). `StoreUnavailable`: throttling or an outage (the caller fails the record so it is redelivered).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import PynamoDBException

from runwatch.domain.markers import Marker
from runwatch.domain.run_state import RunKey, RunState
from runwatch.domain.task_state import TaskKey, TaskState
from runwatch.domain.times import iso
from runwatch.store.keys import (
    FLOWS_PK,
    RUN_SK,
    STATE_MACHINE_SK,
    marker_pk,
    parked_pk,
    queue_pk,
    run_pk,
    started_sk,
    state_machine_pk,
    task_sk,
)
from runwatch.store.models import (
    FlowItem,
    MarkerItem,
    ParkedExecutionItem,
    RunItem,
    StateMachineItem,
    TableItem,
    TaskItem,
)
from runwatch.store.records import marker_from_item, run_from_item, run_to_item, task_from_item, task_to_item

CONDITIONAL_FAILED = "ConditionalCheckFailedException"
PARKED_TTL_SECONDS = 7 * 86_400
# A state machine found not to be Metaflow's may be redeployed by Metaflow under the same name.
NEGATIVE_VERDICT_TTL_MS = 86_400_000


class Conflict(Exception):
    """A conditional write found the item changed since it was read."""


class StoreUnavailable(Exception):
    """DynamoDB could not serve the request (throttled, unreachable, failing)."""


@dataclass(frozen=True, slots=True)
class Versioned:
    state: Any
    version: int


def _get[M: TableItem](model: type[M], pk: str, sk: str, consistent: bool = False) -> M | None:
    try:
        item = model.get(pk, sk, consistent_read=consistent)
    except model.DoesNotExist:
        return None
    return item if isinstance(item, model) else None


def _now_ms() -> int:
    return int(time.time() * 1000)


def guarded[R](call: Callable[[], R]) -> R:
    """Run one DynamoDB call, mapping its errors to Conflict / StoreUnavailable."""
    try:
        return call()
    except PynamoDBException as exc:
        if getattr(exc, "cause_response_code", None) == CONDITIONAL_FAILED:
            raise Conflict(str(exc)) from None
        raise StoreUnavailable(
            f"{type(exc).__name__}: {getattr(exc, 'cause_response_code', None) or exc}"
        ) from exc


class StatusRepository:
    def __init__(self, retention_days: int = 90, clock: Callable[[], int] = _now_ms) -> None:
        self.retention_days = retention_days
        self.clock = clock
        self.write_requests = 0

    def _write[R](self, call: Callable[[], R]) -> R:
        """One counted DynamoDB write request (the benchmark reports writes per event)."""
        self.write_requests += 1
        return guarded(call)

    # -- runs and tasks ------------------------------------------------------------------------------
    def load_task(self, key: TaskKey) -> Versioned | None:
        item = guarded(
            lambda: _get(
                TaskItem,
                run_pk(key.account, key.region, key.flow, key.run_id),
                task_sk(key.step, key.task_id),
            )
        )
        if item is None:
            return None
        return Versioned(task_from_item(item), int(item.version))

    def save_task(self, state: TaskState, version: int | None) -> int:
        item = task_to_item(state, version, self.clock(), self.retention_days)
        self._write(item.save)
        return int(item.version)

    def load_run(self, key: RunKey) -> Versioned | None:
        item = guarded(lambda: _get(RunItem, run_pk(key.account, key.region, key.flow, key.run_id), RUN_SK))
        if item is None:
            return None
        return Versioned(run_from_item(item), int(item.version))

    def save_run(self, state: RunState, version: int | None) -> int:
        item = run_to_item(state, version, self.clock(), self.retention_days)
        self._write(item.save)
        return int(item.version)

    def record_flow_run(self, state: RunState) -> None:
        """Point the flow's entry at this run unless it already points at a newer one.

        The entry expires with the retention of its newest run, so flows with no runs left drop out.
        """
        key = state.key
        sk = started_sk(iso(state.started_at) or "", key.run_id)
        expires = self.clock() // 1000 + self.retention_days * 86_400
        item = FlowItem(
            FLOWS_PK,
            key.flow,
            flow=key.flow,
            last_run_id=key.run_id,
            last_account=key.account,
            last_region=key.region,
            last_started_sk=sk,
            expires_at=expires,
        )
        with contextlib.suppress(Conflict):  # a newer run is already recorded
            self._write(
                lambda: item.save(
                    condition=FlowItem.last_started_sk.does_not_exist() | (FlowItem.last_started_sk < sk)
                )
            )

    def pending_tasks_on_queue(self, queue_arn: str, limit: int = 100) -> list[TaskState]:
        items = guarded(lambda: list(TaskItem.by_queue_index.query(queue_pk(queue_arn), limit=limit)))
        return [task_from_item(i) for i in items if isinstance(i, TaskItem)]

    def run_with_tasks(self, key: RunKey) -> tuple[Versioned | None, list[TaskState]]:
        """The run and all its tasks in one Query of the run's partition."""
        run: Versioned | None = None
        tasks: list[TaskState] = []
        for item in guarded(
            lambda: list(TableItem.query(run_pk(key.account, key.region, key.flow, key.run_id)))
        ):
            if isinstance(item, RunItem):
                run = Versioned(run_from_item(item), int(item.version))
            elif isinstance(item, TaskItem):
                tasks.append(task_from_item(item))
        return run, tasks

    # -- Step Functions state machines and parked execution events --------------------------------------
    def state_machine_flow(self, arn: str) -> tuple[bool, str | None]:
        """(known, flow): known with flow None means verified not Metaflow (for a day, then asked again)."""
        item = guarded(
            lambda: _get(StateMachineItem, state_machine_pk(arn), STATE_MACHINE_SK, consistent=True)
        )
        if item is None:
            return False, None
        flow: str | None = item.flow  # null=True: PynamoDB's typing does not say so
        if flow is None and self.clock() - int(item.checked_at) > NEGATIVE_VERDICT_TTL_MS:
            return False, None
        return True, flow

    def record_state_machine(self, arn: str, flow: str | None, source: str) -> None:
        item = StateMachineItem(
            state_machine_pk(arn), STATE_MACHINE_SK, flow=flow, verdict_source=source, checked_at=self.clock()
        )
        self._write(item.save)

    def park_execution(self, execution_arn: str, order_key: str, event_json: str) -> None:
        expires = self.clock() // 1000 + PARKED_TTL_SECONDS
        item = ParkedExecutionItem(parked_pk(execution_arn), order_key, event=event_json, expires_at=expires)
        self._write(item.save)

    def parked_executions(self, execution_arn: str) -> list[tuple[str, str]]:
        items = guarded(
            lambda: list(ParkedExecutionItem.query(parked_pk(execution_arn), consistent_read=True))
        )
        return [(i.sk, i.event) for i in items if isinstance(i, ParkedExecutionItem)]

    def drop_parked(self, execution_arn: str, order_key: str) -> None:
        self._write(lambda: ParkedExecutionItem(parked_pk(execution_arn), order_key).delete())

    # -- markers: "this was done once" ----------------------------------------------------------------
    def claim_marker(
        self, kind: str, subject: str, what: str, detail: str | None = None, ttl_days: int = 30
    ) -> bool:
        """Create a marker; False when it already existed (someone else did the thing)."""
        now = self.clock()
        item = MarkerItem(
            marker_pk(kind, subject),
            what,
            created_at=now,
            detail=detail,
            expires_at=now // 1000 + ttl_days * 86_400,
        )
        try:
            self._write(lambda: item.save(condition=MarkerItem.pk.does_not_exist()))
        except Conflict:
            return False
        return True

    def release_marker(self, kind: str, subject: str, what: str) -> None:
        self._write(lambda: MarkerItem(marker_pk(kind, subject), what).delete())

    def markers(self, kind: str, subject: str) -> Iterator[Marker]:
        for item in guarded(lambda: list(MarkerItem.query(marker_pk(kind, subject)))):
            if isinstance(item, MarkerItem):
                yield marker_from_item(item)
