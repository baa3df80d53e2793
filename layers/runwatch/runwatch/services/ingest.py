"""Ingest: one EventBridge event -> joined into the stored run/task state with conditional writes.

Each stored state is the join of all observations seen (see domain/merge.py), so duplicates and any order
end in the same state. A write happens only when the join changes something, and is conditional on the
version read: a lost race re-reads and joins again. States read or written are kept in a bounded cache;
that is safe because a join that changes nothing against an older state changes nothing against a newer one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from runwatch.aws.state_machines import InspectorUnavailable, StateMachineInspector
from runwatch.domain.run_state import RunKey, RunState, merge_run, run_observation_of_task
from runwatch.domain.task_state import TaskKey, TaskState, merge_task
from runwatch.events.batch import JobObservation, NotMetaflow, observe_job
from runwatch.events.envelope import AnyEvent, RejectedEvent, parse_event
from runwatch.events.models import BATCH_JOB_QUEUE_BLOCKED, BatchJobDetail, BatchJobStateChangeEvent
from runwatch.events.step_functions import ExecutionObservation, observe_execution
from runwatch.services.lru import LRU
from runwatch.store.repository import Conflict, StoreUnavailable, Versioned

APPLIED = "applied"
DUPLICATE = "duplicate"
IGNORED = "ignored"
PARKED = "parked"

MAX_CONFLICT_RETRIES = 8
_NOT_METAFLOW = ""  # registry verdict for state machines that are not Metaflow's


class IngestStore(Protocol):
    """What ingest needs of the table (StatusRepository; an in-memory fake in unit tests)."""

    def load_task(self, key: TaskKey) -> Versioned | None: ...
    def save_task(self, state: TaskState, version: int | None) -> int: ...
    def load_run(self, key: RunKey) -> Versioned | None: ...
    def save_run(self, state: RunState, version: int | None) -> int: ...
    def record_flow_run(self, state: RunState) -> None: ...
    def pending_tasks_on_queue(self, queue_arn: str, limit: int = 100) -> list[TaskState]: ...
    def state_machine_flow(self, arn: str) -> tuple[bool, str | None]: ...
    def record_state_machine(self, arn: str, flow: str | None, source: str) -> None: ...
    def park_execution(self, execution_arn: str, order_key: str, event_json: str) -> None: ...
    def parked_executions(self, execution_arn: str) -> list[tuple[str, str]]: ...
    def drop_parked(self, execution_arn: str, order_key: str) -> None: ...


class Counters(Protocol):
    def add(self, name: str, value: int = 1) -> None: ...


class NoCounters:
    def add(self, name: str, value: int = 1) -> None:
        return None


class Ingestor:
    def __init__(
        self,
        repository: IngestStore,
        counters: Counters | None = None,
        inspector: StateMachineInspector | None = None,
        cache_size: int = 20_000,
        state_machine_prefix: str | None = None,
    ) -> None:
        self.repo = repository
        self.counters = counters or NoCounters()
        self.inspector = inspector
        self.state_machine_prefix = state_machine_prefix
        self._tasks: LRU[TaskKey, Versioned] = LRU(cache_size)
        self._runs: LRU[RunKey, Versioned] = LRU(cache_size)
        self._machines: LRU[str, str] = LRU(1_000)
        self._drained: LRU[str, bool] = LRU(cache_size)

    # -- entry point ---------------------------------------------------------------------------------
    def ingest(self, raw: str | bytes | dict[str, Any]) -> str:
        """Apply one event. Raises RejectedEvent (never retry) or StoreUnavailable (retry later)."""
        event = parse_event(raw)
        outcome = self.apply(event)
        self.counters.add(f"events_{outcome}")
        return outcome

    def observe_run(self, observation: RunState) -> bool:
        """Join a run-level fact that no event carries (the sweeper's "abandoned"); True if it changed."""
        return self._join_run(observation)

    def apply(self, event: AnyEvent) -> str:
        if isinstance(event, BatchJobStateChangeEvent):
            return self._apply_batch_event(event)
        observation = observe_execution(
            event.detail, account=event.account, region=event.region, event_time=event.time
        )
        return self._apply_execution(observation, event)

    # -- Batch ---------------------------------------------------------------------------------------
    def _apply_batch_event(self, event: BatchJobStateChangeEvent) -> str:
        blocked = event.detail_type == BATCH_JOB_QUEUE_BLOCKED
        try:
            observation = self._observe_job(event.detail, event.account, event.region, event.time, blocked)
        except NotMetaflow:
            self.counters.add("foreign_jobs")
            return IGNORED
        return self._apply_job(observation)

    def _observe_job(
        self, detail: BatchJobDetail, account: str, region: str, time: datetime, blocked: bool
    ) -> JobObservation:
        try:
            return observe_job(
                detail,
                account=account,
                region=region,
                event_time=time,
                queue_blocked=blocked,
                state_machine_prefix=self.state_machine_prefix,
            )
        except ValueError as exc:
            raise RejectedEvent(f"incomplete Metaflow job {detail.jobId}: {exc}") from None

    def _apply_job(self, observation: JobObservation) -> str:
        task, task_changed = self._join_task(observation.task)
        run_changed = self._join_run(run_observation_of_task(task, observation.run))
        if observation.state_machine_arn and observation.run.execution_arn:
            self._identify(observation.state_machine_arn, task.key.flow, observation.run.execution_arn)
        if observation.queue_blocked:
            self._mark_queue_blocked(observation.task)
        return APPLIED if task_changed or run_changed else DUPLICATE

    def _mark_queue_blocked(self, blocked: TaskState) -> None:
        """Record the blocked reason against every task pending on the same queue."""
        if not blocked.job_queue:
            return
        for task in self.repo.pending_tasks_on_queue(blocked.job_queue):
            if task.key != blocked.key:
                self._join_task(
                    TaskState(
                        key=task.key,
                        orchestrator=task.orchestrator,
                        blocked_reason=blocked.blocked_reason,
                        blocked_at=blocked.blocked_at,
                    )
                )

    # -- Step Functions ------------------------------------------------------------------------------
    def _apply_execution(self, observation: ExecutionObservation, event: AnyEvent) -> str:
        flow = self._flow_of_machine(observation)
        if flow == _NOT_METAFLOW:
            self.counters.add("foreign_executions")
            return IGNORED
        if flow is None:
            # Serialised only here: most execution events belong to a known machine and are never parked.
            event_json = event.model_dump_json(by_alias=True)
            self.repo.park_execution(observation.execution_arn, _order_key(observation), event_json)
            # A Batch event may have identified the machine meanwhile and missed what was just parked.
            known, flow = self.repo.state_machine_flow(observation.state_machine_arn)
            if not known or not flow:
                return PARKED
            self._machines.put(observation.state_machine_arn, flow)
            self._drain_parked(observation.execution_arn, flow)
            return APPLIED
        return APPLIED if self._apply_identified_execution(observation, flow) else DUPLICATE

    def _apply_identified_execution(self, observation: ExecutionObservation, flow: str) -> bool:
        """Join an execution of a known Metaflow flow into its run (and its failed job into that task)."""
        changed = self._join_run(observation.run_state(flow, self.state_machine_prefix))
        if observation.failed_job is not None:
            job = self._observe_failed_job(observation)
            if job is not None and self._apply_job(job) == APPLIED:
                changed = True
        return changed

    def _observe_failed_job(self, observation: ExecutionObservation) -> JobObservation | None:
        """The failed job that Step Functions puts in `cause` is one more observation of that task."""
        assert observation.failed_job is not None
        at = datetime.fromtimestamp(observation.fact.at / 1000, tz=UTC)
        try:
            return self._observe_job(
                observation.failed_job, observation.account, observation.region, at, False
            )
        except (NotMetaflow, RejectedEvent):
            return None

    def _flow_of_machine(self, observation: ExecutionObservation) -> str | None:
        """The flow, _NOT_METAFLOW, or None when nothing tells yet."""
        arn = observation.state_machine_arn
        cached = self._machines.get(arn)
        if cached is not None:
            return cached
        known, flow = self.repo.state_machine_flow(arn)
        verdict: str | None = (flow or _NOT_METAFLOW) if known else None
        if verdict is None and observation.flow_hint:
            verdict = observation.flow_hint
            self.repo.record_state_machine(arn, verdict, "execution-event")
        if verdict is None and self.inspector is not None:
            try:
                described = self.inspector.flow_of(arn)
            except InspectorUnavailable:
                described = None
            else:
                verdict = described or _NOT_METAFLOW
                self.repo.record_state_machine(arn, described, "describe-state-machine")
        if verdict:  # only Metaflow verdicts are kept in memory: a negative one is re-read (it can expire)
            self._machines.put(arn, verdict)
        return verdict

    def _identify(self, state_machine_arn: str, flow: str, execution_arn: str) -> None:
        """A Batch job proves its state machine is Metaflow's: record it and apply what waited for it."""
        if self._machines.get(state_machine_arn) != flow:
            known, stored = self.repo.state_machine_flow(state_machine_arn)
            if not known or stored != flow:
                self.repo.record_state_machine(state_machine_arn, flow, "batch-job")
            self._machines.put(state_machine_arn, flow)
        if execution_arn not in self._drained:
            self._drain_parked(execution_arn, flow)

    def _drain_parked(self, execution_arn: str, flow: str) -> None:
        for order_key, event_json in self.repo.parked_executions(execution_arn):
            event = parse_event(event_json)
            if not isinstance(event, BatchJobStateChangeEvent):
                observation = observe_execution(
                    event.detail, account=event.account, region=event.region, event_time=event.time
                )
                self._apply_identified_execution(observation, flow)
            self.repo.drop_parked(execution_arn, order_key)
        self._drained.put(execution_arn, True)

    # -- joins ---------------------------------------------------------------------------------------
    def _join_task(self, observation: TaskState) -> tuple[TaskState, bool]:
        task, before = _join(
            self._tasks,
            observation.key,
            observation,
            merge_task,
            self.repo.load_task,
            self.repo.save_task,
            _same,
        )
        return task, task is not before

    def _join_run(self, observation: RunState) -> bool:
        run, before = _join(
            self._runs,
            observation.key,
            observation,
            merge_run,
            self.repo.load_run,
            self.repo.save_run,
            _material,
        )
        if run is before:
            return False
        if before is None or before.started_at != run.started_at:
            self.repo.record_flow_run(run)  # a new run, or one now known to have started earlier
        return True


def _same[S](state: S) -> S:
    return state


def _material(state: RunState) -> RunState:
    return state.material()


def _join[K, S](
    cache: LRU[K, Versioned],
    key: K,
    observation: S,
    merge: Callable[[S, S], S],
    load: Callable[[K], Versioned | None],
    save: Callable[[S, int | None], int],
    material: Callable[[S], object],
) -> tuple[S, S | None]:
    """Read (cache or table), join, and write only if something material changed.

    Returns the joined state and the state it was joined into; they are the same object when nothing
    was written.
    """
    for _ in range(MAX_CONFLICT_RETRIES):
        stored = cache.get(key) or load(key)
        merged = observation if stored is None else merge(stored.state, observation)
        if stored is not None and material(merged) == material(stored.state):
            cache.put(key, Versioned(merged, stored.version))
            return merged, merged
        try:
            version = save(merged, stored.version if stored else None)
        except Conflict:
            cache.pop(key)
            continue
        except StoreUnavailable:
            cache.pop(key)
            raise
        cache.put(key, Versioned(merged, version))
        return merged, (stored.state if stored else None)
    raise StoreUnavailable(f"gave up after {MAX_CONFLICT_RETRIES} conflicting writes on {key}")


def _order_key(observation: ExecutionObservation) -> str:
    fact = observation.fact
    return f"{fact.redrive_count:04d}#{int(fact.terminal)}#{fact.at:016d}#{fact.status}"


def event_summary(raw: object) -> str:
    """A short description of a message for logs, without its payload."""
    if isinstance(raw, dict):
        return json.dumps({k: raw.get(k) for k in ("id", "source", "detail-type")})
    return f"{type(raw).__name__} of {len(raw) if isinstance(raw, str | bytes) else '?'} bytes"
