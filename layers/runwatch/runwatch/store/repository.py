"""Reads and conditional writes of runwatch's items; DynamoDB errors become two domain errors.

A task's change to its step summary (domain/step_summary.py) is written with the task: the task puts
(each conditional on its version; a batch's tasks of one step together) and the step's `ADD` of the summed
counter differences go in one TransactWriteItems, so the difference is applied exactly once. The step's
bounds ride in the same update, conditional on widening the stored ones. The step item is shared by every
consumer of a wide step: when a transaction meets another one on it (or its bounds condition fails because
another writer widened them further), the caller writes again with `spread`, and the change goes to one of
the step's shard items, picked at random, with bounds of its own (store/step_items.py merges them on read).
Small runs whose writers never meet keep exactly one item per step.

`Conflict`: a conditional write lost a race, or a transaction met another one on the same item (the caller
re-reads and merges again; never an error to report); `StaleItems` names the tasks that changed, `StepBusy`
says the step's summary item was the one taken. `StoreUnavailable`: throttling or an outage (the caller
fails the record so it is redelivered).
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

from pynamodb.attributes import NumberAttribute
from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path, Value
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from runwatch.domain.lookups import JobLookup
from runwatch.domain.markers import Marker
from runwatch.domain.run_state import RunKey, RunState
from runwatch.domain.step_summary import StepChange
from runwatch.domain.task_state import TaskKey, TaskState
from runwatch.domain.times import iso
from runwatch.domain.usage import UsageTotals
from runwatch.domain.usage import total as usage_total
from runwatch.store import run_tags
from runwatch.store.guard import TRANSACTION_CANCELED, guarded
from runwatch.store.guard import Conflict as Conflict
from runwatch.store.guard import OutcomeUnknown as OutcomeUnknown
from runwatch.store.guard import StaleItems as StaleItems
from runwatch.store.guard import StepBusy as StepBusy
from runwatch.store.guard import StoreUnavailable as StoreUnavailable
from runwatch.store.keyed_reads import KeyedReads, index_entries
from runwatch.store.keys import (
    FLOWS_PK,
    RUN_SK,
    STATE_MACHINE_SK,
    job_attempt_sk,
    job_pk,
    marker_pk,
    parked_pk,
    queue_pk,
    run_pk,
    started_sk,
    state_machine_pk,
    step_shard_sk,
    step_sk,
    task_sk,
)
from runwatch.store.models import (
    FlowItem,
    JobItem,
    MarkerItem,
    ParkedExecutionItem,
    RunItem,
    RunTagItem,
    StateMachineItem,
    StepItem,
    TableItem,
    TaskItem,
)
from runwatch.store.records import (
    expiry,
    marker_from_item,
    run_from_item,
    run_to_item,
    task_from_item,
    task_to_item,
)
from runwatch.store.run_head import run_head_query, split_run_head
from runwatch.store.step_items import STEP_COUNTER_PREFIX, STEP_SHARDS, step_summaries
from runwatch.store.versioned import Versioned as Versioned

_STEP_TAKEN = {"ConditionalCheckFailed", "TransactionConflict"}
# TransactWriteItems takes 100 items: the tasks of one step and the step's summary.
MAX_TASKS_PER_TRANSACTION = 99
# BatchWriteItem takes 25 items.
MAX_ITEMS_PER_BATCH_WRITE = 25
_STEP_KIND = TableItem.kind.get_discriminator(StepItem)
PARKED_TTL_SECONDS = 7 * 86_400
# A state machine found not to be Metaflow's may be redeployed by Metaflow under the same name.
NEGATIVE_VERDICT_TTL_MS = 86_400_000


def _get[M: TableItem](model: type[M], pk: str, sk: str, consistent: bool = False) -> M | None:
    try:
        item = model.get(pk, sk, consistent_read=consistent)
    except model.DoesNotExist:
        return None
    return item if isinstance(item, model) else None


def _now_ms() -> int:
    return int(time.time() * 1000)


def _step_actions(change: StepChange, expires_at: float) -> list[Action]:
    """The step item's update for a change: its kind and name, its expiry, and the counters' ADDs."""
    actions: list[Action] = [
        Path(TableItem.kind.attr_name).set(Value(_STEP_KIND)),
        StepItem.step.set(change.step),
        StepItem.expires_at.set(expires_at),
    ]
    return actions + [Path(STEP_COUNTER_PREFIX + name).add(Value(n)) for name, n in change.deltas.items()]


def _step_update(
    change: StepChange, expires_at: float, bounds: list[tuple[NumberAttribute, int, bool]]
) -> tuple[list[Action], Condition | None]:
    """The step's update in a task transaction: the counters' ADDs and the bounds it widens, each of those
    conditional on being wider than the stored one."""
    actions = _step_actions(change, expires_at)
    condition: Condition | None = None
    for attribute, value, lower in bounds:
        actions.append(attribute.set(value))
        wider = _wider(attribute, value, lower)
        condition = wider if condition is None else condition & wider
    return actions, condition


def _wider(attribute: NumberAttribute, value: int, lower: bool) -> Condition:
    """The stored bound is missing or narrower than `value`."""
    narrower: Condition = attribute > value if lower else attribute < value
    either: Condition = attribute.does_not_exist() | narrower
    return either


def _transact(transaction: Callable[[], None], step_position: int | None) -> None:
    """Run a task transaction; a lost race names the tasks whose condition failed (StaleItems, with each one
    as stored now: its put asked for it back), else says whether the step's item was what it lost on
    (StepBusy)."""
    try:
        transaction()
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons or []
        codes = [getattr(reason, "code", None) for reason in reasons]
        if exc.cause_response_code != TRANSACTION_CANCELED:
            raise
        stale = frozenset(
            i for i, code in enumerate(codes) if code == "ConditionalCheckFailed" and i != step_position
        )
        if stale:
            raise StaleItems(str(exc), stale, _stored_tasks(reasons, stale)) from None
        if step_position is not None and step_position < len(codes) and codes[step_position] in _STEP_TAKEN:
            raise StepBusy(str(exc)) from None
        raise


def _stored_tasks(reasons: Sequence[Any], positions: Collection[int]) -> dict[int, Versioned]:
    """The tasks a cancelled transaction returned (ReturnValuesOnConditionCheckFailure=ALL_OLD), by
    position; one it did not return (gone, or not sent back) is left out, to be read again."""
    found = {}
    for i in positions:
        raw = getattr(reasons[i], "raw_item", None)
        item = TableItem.from_raw_data(raw) if raw else None
        if isinstance(item, TaskItem):
            found[i] = Versioned(task_from_item(item), int(item.version))
    return found


class StatusRepository:
    def __init__(
        self,
        retention_days: int = 90,
        clock: Callable[[], int] = _now_ms,
        quiet: bool = False,
        shards: random.Random | None = None,
    ) -> None:
        self.retention_days = retention_days
        self.clock = clock
        self.shards = shards or random.Random()  # picks the shard a spread change goes to
        # Quiet: the run and task writes carry `quiet`, so the notifier records their transitions unsent.
        self.quiet = quiet
        self.write_requests = 0
        # The widest bound each step (its item and shards together) is known to hold (bounds only widen): a
        # task's bound inside it is no news.
        self._known_bounds: dict[tuple[str, str, str], int] = {}
        # The newest run each flow's entry is known to point at (the entry only moves to newer runs): an older
        # run's put would fail its condition, so it is not sent.
        self._known_flow_entries: dict[str, str] = {}

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

    def save_task(self, state: TaskState, version: int | None, change: StepChange | None = None) -> int:
        """Write the task if its version is still `version`, with its change to the step's summary."""
        return self.save_tasks([(state, version)], change)[0]

    def load_states(
        self, tasks: Collection[TaskKey], runs: Collection[RunKey]
    ) -> tuple[dict[TaskKey, Versioned], dict[RunKey, Versioned]]:
        """Tasks and runs read together (BatchGetItem, 100 keys a request); missing items are left out."""
        wanted: dict[tuple[str, str], TaskKey | RunKey] = {}
        for task in tasks:
            wanted[
                (run_pk(task.account, task.region, task.flow, task.run_id), task_sk(task.step, task.task_id))
            ] = task
        for run in runs:
            wanted[(run_pk(run.account, run.region, run.flow, run.run_id), RUN_SK)] = run
        found_tasks: dict[TaskKey, Versioned] = {}
        found_runs: dict[RunKey, Versioned] = {}
        if not wanted:
            return found_tasks, found_runs
        for item in guarded(lambda: list(TableItem.batch_get(list(wanted)))):
            key = wanted.get((item.pk, item.sk))
            if isinstance(item, TaskItem) and isinstance(key, TaskKey):
                found_tasks[key] = Versioned(task_from_item(item), int(item.version))
            elif isinstance(item, RunItem) and isinstance(key, RunKey):
                found_runs[key] = Versioned(run_from_item(item), int(item.version))
        return found_tasks, found_runs

    def save_tasks(
        self, writes: Sequence[tuple[TaskState, int | None]], change: StepChange | None, spread: bool = False
    ) -> list[int]:
        """Write tasks of one step, each if its version is still the one given, with their summed change to
        the step, all in one transaction (at most MAX_TASKS_PER_TRANSACTION). Raises StaleItems naming the
        tasks whose version moved on, StepBusy when only the step's item was taken, or Conflict for another
        lost race (nothing is written then).

        The change goes to the step's item, or with `spread` to one of its shards picked at random; the
        bounds it widens ride in that item's update, conditional on being wider than the ones it holds.
        """
        items = [task_to_item(state, version, self.clock(), self.retention_days) for state, version in writes]
        for item in items:
            item.quiet = True if self.quiet else None
        pk = items[0].pk
        bounds = self._unknown_bounds(pk, change)
        if change is None or (not change.deltas and not bounds):
            if len(items) == 1:
                self._write(items[0].save)
                return [int(items[0].version)]
            change = None
        step_update = None if change is None else _step_update(change, items[0].expires_at, bounds)
        target = None
        if change is not None:
            sk = (
                step_shard_sk(change.step, self.shards.randrange(1, STEP_SHARDS))
                if spread
                else step_sk(change.step)
            )
            target = StepItem(pk, sk)

        def transaction() -> None:
            with TransactWrite(connection=TableItem._get_connection().connection) as write:
                for item in items:
                    write.save(item, return_values=ALL_OLD)  # a lost race sends back what won it
                if target is not None and step_update is not None:
                    write.update(target, actions=step_update[0], condition=step_update[1])

        self._write(lambda: _transact(transaction, len(items) if target is not None else None))
        if change is not None:
            for attribute, value, _ in bounds:
                self._known_bounds[(pk, change.step, attribute.attr_name)] = value
        return [int(item.version) for item in items]

    def _unknown_bounds(self, pk: str, change: StepChange | None) -> list[tuple[NumberAttribute, int, bool]]:
        """The step's bounds this change may widen: (attribute, value, is a lower bound), less those known
        to be stored already at least as wide."""
        if change is None:
            return []
        if len(self._known_bounds) > 100_000:
            self._known_bounds.clear()
        wanted = (
            (StepItem.first_created_at, change.bounds.first_created_at, True),
            (StepItem.earliest_start, change.bounds.earliest_start, True),
            (StepItem.latest_stop, change.bounds.latest_stop, False),
        )
        found = []
        for attribute, value, lower in wanted:
            known = self._known_bounds.get((pk, change.step, attribute.attr_name))
            if value is None or (known is not None and (known <= value if lower else known >= value)):
                continue
            found.append((attribute, value, lower))
        return found

    def load_run(self, key: RunKey) -> Versioned | None:
        item = guarded(lambda: _get(RunItem, run_pk(key.account, key.region, key.flow, key.run_id), RUN_SK))
        if item is None:
            return None
        return Versioned(run_from_item(item), int(item.version))

    def save_run(self, state: RunState, version: int | None) -> int:
        item = run_to_item(state, version, self.clock(), self.retention_days)
        item.quiet = True if self.quiet else None
        self._write(item.save)
        return int(item.version)

    def record_flow_run(self, state: RunState) -> None:
        """Point the flow's entry at this run unless it already points at a newer one.

        The entry expires with the retention of its newest run, so flows with no runs left drop out. A run no
        newer than the one this process last saw the entry hold is not sent: its put could only fail.
        """
        key = state.key
        sk = started_sk(iso(state.started_at) or "", key.run_id)
        known = self._known_flow_entries.get(key.flow)
        if known is not None and known >= sk:
            return
        expires = expiry(self.clock(), self.retention_days)
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
        # Written, or the entry already points at this run or a newer one: either way it holds >= sk.
        if len(self._known_flow_entries) > 10_000:
            self._known_flow_entries.clear()
        self._known_flow_entries[key.flow] = sk

    def record_run_tags(self, before: RunState | None, after: RunState) -> None:
        """Keep the run's tag items (store/run_tags.py) in step with its state: put what is new, delete
        what moved; one BatchWriteItem per 25 items, and nothing when the tag items did not change."""
        puts, deletes = run_tags.tag_changes(before, after, self.clock(), self.retention_days)
        self._batch_write(RunTagItem, puts, [RunTagItem(pk, sk) for pk, sk in deletes])

    def record_jobs(self, lookups: Sequence[JobLookup]) -> None:
        """Point each Batch job id at the task attempt it ran: one item per (job, attempt), put without a
        condition (an attempt of a job always ran the same task, so putting it again changes nothing), in
        BatchWriteItem requests of 25. PynamoDB sends the UnprocessedItems again (twice, at once: its default
        max_retry_attempts); what is still unwritten then raises StoreUnavailable, as does a failed request."""
        expires = expiry(self.clock(), self.retention_days)
        items = {
            (job_pk(lookup.job_id), job_attempt_sk(lookup.attempt)): JobItem(
                job_pk(lookup.job_id),
                job_attempt_sk(lookup.attempt),
                flow=lookup.task.flow,
                run_id=lookup.task.run_id,
                step=lookup.task.step,
                task_id=lookup.task.task_id,
                attempt=lookup.attempt,
                account=lookup.task.account,
                region=lookup.task.region,
                expires_at=expires,
            )
            for lookup in lookups
        }  # a request must not name one key twice
        self._batch_write(JobItem, list(items.values()))

    def _batch_write[M: TableItem](
        self, model: type[M], puts: Sequence[M], deletes: Sequence[M] = ()
    ) -> None:
        """Puts and deletes of one item type in BatchWriteItems of 25 (none when there is nothing to write)."""
        if not puts and not deletes:
            return

        def write() -> None:
            with model.batch_write() as batch:
                for item in puts:
                    batch.save(item)
                for item in deletes:
                    batch.delete(item)

        self.write_requests += -(-(len(puts) + len(deletes)) // MAX_ITEMS_PER_BATCH_WRITE)
        guarded(write)

    def run_and_usage(self, key: RunKey) -> tuple[Versioned | None, UsageTotals]:
        """The run as stored now and the sum of its step summaries' compute: the run's head (store/run_head.py),
        read consistently. A run's write reads it right before it is sent, so the write carries the newest
        usage and rarely loses a race to another consumer's write of the run."""
        query = run_head_query(key, consistent=True)
        pages = guarded(lambda: list(query.page_iter))
        item, steps = split_run_head(raw for page in pages for raw in page.get("Items", []))
        run = Versioned(run_from_item(item), int(item.version)) if item is not None else None
        return run, usage_total(summary.usage for summary in step_summaries(steps))

    def pending_tasks_on_queue(self, queue_arn: str, limit: int = 100) -> list[TaskState]:
        """The first `limit` pending tasks on a queue: their keys from `by_queue_keys`, then the tasks."""
        entries = index_entries(TaskItem.by_queue_index, queue_pk(queue_arn), limit=limit)
        items = (TableItem.from_raw_data(raw) for raw in KeyedReads().items_in_order(entries))
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
            expires_at=expiry(now, ttl_days),
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
