"""The Ingestor: one EventBridge event -> parsed and handed to the path for its source.

It composes the parts: the join loop (joins.py) with its derived views (views.py), the Batch path
(batch.py) and the Step Functions path (executions.py), which call each other through it: a Batch job can
identify a state machine, and a failed execution's `cause` is a Batch job.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from runwatch.aws.state_machines import StateMachineInspector
from runwatch.domain.run_state import RunState
from runwatch.domain.task_state import TaskState
from runwatch.events.batch import JobObservation
from runwatch.events.envelope import AnyEvent, parse_event
from runwatch.events.models import BatchJobStateChangeEvent
from runwatch.services.ingest.batch import BatchPath, QueueIndex
from runwatch.services.ingest.executions import ExecutionPath, MachineRegistry
from runwatch.services.ingest.joins import Joins, StateStore
from runwatch.services.ingest.reporting import Counters, NoCounters
from runwatch.services.ingest.views import (
    DerivedView,
    FlowEntryView,
    FlowIndex,
    JobIndex,
    JobLookupView,
    RunTagIndex,
    RunTagView,
    RunUsageView,
    UsageIndex,
)


class IngestStore(
    StateStore, FlowIndex, RunTagIndex, UsageIndex, JobIndex, QueueIndex, MachineRegistry, Protocol
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
        """`run_views` default to the flow entry, the run's tag items and its usage; `task_views` to the job
        lookup; pass views to choose others."""
        self.counters = counters or NoCounters()
        views = (
            (FlowEntryView(repository), RunTagView(repository), RunUsageView(repository))
            if run_views is None
            else run_views
        )
        if task_views is None:
            task_views = (JobLookupView(repository),)
        self.joins = Joins(repository, run_views=views, task_views=task_views, cache_size=cache_size)
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
        event = parse_event(raw)
        outcome = self.apply(event)
        self.counters.add(f"events_{outcome}")
        return outcome

    def apply(self, event: AnyEvent) -> str:
        if isinstance(event, BatchJobStateChangeEvent):
            return self.batch.apply_event(event)
        return self.executions.apply_event(event)

    def observe_run(self, observation: RunState) -> bool:
        """Join a run-level fact that no event carries (the sweeper's "abandoned"); True if it changed."""
        return self.joins.run(observation)

    def _apply_job(self, observation: JobObservation) -> str:
        return self.batch.apply_job(observation)
