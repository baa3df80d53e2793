"""The Ingestor: one EventBridge event -> parsed and handed to the path for its source.

It composes the parts: the join loop (joins.py) with its derived views (views.py), the Batch path
(batch.py) and the Step Functions path (executions.py), which call each other through it: a Batch job can
identify a state machine, and a failed execution's `cause` is a Batch job.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from runwatch.aws.state_machines import StateMachineInspector
from runwatch.domain.run_state import RunKey, RunState, run_key_of
from runwatch.domain.task_state import TaskKey, TaskState
from runwatch.events.batch import JobObservation
from runwatch.events.envelope import AnyEvent, RejectedEvent, parse_event
from runwatch.events.models import BatchJobStateChangeEvent, StepFunctionsExecutionStatusChangeEvent
from runwatch.services.ingest.batch import BatchPath, QueueIndex
from runwatch.services.ingest.executions import ExecutionPath, MachineRegistry
from runwatch.services.ingest.joins import Joins, StateStore, StoredRuns
from runwatch.services.ingest.reporting import Counters, NoCounters
from runwatch.services.ingest.views import (
    DerivedView,
    FlowEntryView,
    FlowIndex,
    JobIndex,
    JobLookupView,
    RunTagIndex,
    RunTagView,
)
from runwatch.store.repository import StoreUnavailable

Raw = str | bytes | dict[str, Any]
# An event as the batch holds it: a job's event as its observation (None: not Metaflow's job, ignored).
Observed = JobObservation | None | StepFunctionsExecutionStatusChangeEvent


@dataclass(slots=True)
class BatchResult:
    """What became of each message of a batch."""

    outcomes: dict[str, str] = field(default_factory=dict)
    rejected: dict[str, RejectedEvent] = field(default_factory=dict)
    failed: dict[str, Exception] = field(default_factory=dict)


class IngestStore(
    StateStore, StoredRuns, FlowIndex, RunTagIndex, JobIndex, QueueIndex, MachineRegistry, Protocol
):
    """What ingest needs of the table (StatusRepository; an in-memory fake in unit tests)."""


class Ingestor:
    def __init__(
        self,
        repository: IngestStore,
        counters: Counters | None = None,
        inspector: StateMachineInspector | None = None,
        cache_size: int = 20_000,
        state_machine_prefix: str | None = None,
        run_views: Sequence[DerivedView[RunState]] | None = None,
        task_views: Sequence[DerivedView[TaskState]] | None = None,
    ) -> None:
        """`run_views` default to the flow entry and the run's tag items; `task_views` to the job lookup; pass
        views to choose others. Every write of a run carries its usage (the repository's sum of its steps)."""
        self.counters = counters or NoCounters()
        views = (FlowEntryView(repository), RunTagView(repository)) if run_views is None else run_views
        if task_views is None:
            task_views = (JobLookupView(repository),)
        self.joins = Joins(
            repository,
            run_views=views,
            task_views=task_views,
            cache_size=cache_size,
            stored_run=repository.run_and_usage,
        )
        self.executions = ExecutionPath(
            self.joins,
            repository,
            self.counters,
            apply_job=self._apply_job,
            inspector=inspector,
            state_machine_prefix=state_machine_prefix,
            cache_size=cache_size,
        )
        self.batch = BatchPath(
            self.joins,
            repository,
            self.counters,
            identify=self.executions.identify,
            state_machine_prefix=state_machine_prefix,
        )

    def ingest(self, raw: str | bytes | dict[str, Any]) -> str:
        """Apply one event. Raises RejectedEvent (never retry) or StoreUnavailable (retry later)."""
        result = self.ingest_batch([("", raw)])
        if result.rejected:
            raise result.rejected[""]
        if result.failed:
            raise result.failed[""]
        return result.outcomes[""]

    def ingest_batch(self, messages: Sequence[tuple[str, Raw]]) -> BatchResult:
        """Apply a batch of (message id, event), writing each changed item once (services/ingest/joins.py).

        Each message ends in exactly one of: an outcome, rejected (bad input: never retry) or failed (a write
        it contributed to failed: retry later; what it joined is applied again then)."""
        result = BatchResult()
        read: list[tuple[str, Observed]] = []
        for message, raw in messages:
            try:
                read.append((message, self._observe(parse_event(raw))))
            except RejectedEvent as rejected:
                result.rejected[message] = rejected
        with self.joins.batch() as staged:
            self._read_ahead(observed for _, observed in read)
            for message, observed in read:
                staged.message = message
                try:
                    result.outcomes[message] = self._apply(observed)
                except RejectedEvent as rejected:
                    result.rejected[message] = rejected
                except Exception as exc:  # isolated: only this message is retried
                    staged.failed.setdefault(message, exc)
        for message, error in staged.failed.items():
            result.outcomes.pop(message, None)
            result.failed[message] = error
        for outcome in result.outcomes.values():
            self.counters.add(f"events_{outcome}")
        return result

    def _observe(self, event: AnyEvent) -> Observed:
        """A job's event is read into its observation at once (Step Functions events when applied)."""
        return self.batch.observe(event) if isinstance(event, BatchJobStateChangeEvent) else event

    def _read_ahead(self, batch: Iterable[Observed]) -> None:
        """Read the batch's tasks and runs in one go (Step Functions events name a run only once identified)."""
        tasks: set[TaskKey] = set()
        runs: set[RunKey] = set()
        for observed in batch:
            if isinstance(observed, JobObservation):
                tasks.add(observed.task.key)
                runs.add(run_key_of(observed.task.key))
        with contextlib.suppress(StoreUnavailable):  # then each item is read when joined, failing its message
            self.joins.read_ahead(tasks, runs)

    def _apply(self, observed: Observed) -> str:
        if isinstance(observed, StepFunctionsExecutionStatusChangeEvent):
            return self.executions.apply_event(observed)
        return self.batch.apply_observed(observed)

    def observe_run(self, observation: RunState) -> bool:
        """Join a run-level fact that no event carries (the sweeper's "abandoned"); True if it changed."""
        return self.joins.run(observation)

    def _apply_job(self, observation: JobObservation) -> str:
        return self.batch.apply_job(observation)
