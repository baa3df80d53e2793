"""Derived views: what ingest keeps up to date from a joined state, after the state itself was written.

A view is told every change a join writes, as the state before (None for a new item) and after, and updates
its own items from that; it never takes part in the join. The flow entry (each flow's newest run, for the
flow listing) is one; the run's tag items (runs by tag) another; the Batch job lookup (which task attempt a
job id ran) a third, fed by task changes. The run's compute for listings is no view: it rides in the run's own
write (joins.py), which would otherwise be followed by a second write of the run item and its index entries.
"""

from __future__ import annotations

from typing import Protocol

from runwatch.domain.lookups import new_job_attempts
from runwatch.domain.run_state import RunState
from runwatch.domain.task_state import TaskKey, TaskState


class DerivedView[S](Protocol):
    def update(self, before: S | None, after: S) -> None: ...


class FlowIndex(Protocol):
    """runwatch.store.repository.StatusRepository."""

    def record_flow_run(self, state: RunState) -> None: ...


class FlowEntryView:
    """The flow's entry points at its newest run: written for a new run, or one now known to start earlier."""

    def __init__(self, store: FlowIndex) -> None:
        self.store = store

    def update(self, before: RunState | None, after: RunState) -> None:
        if before is None or before.started_at != after.started_at:
            self.store.record_flow_run(after)


class RunTagIndex(Protocol):
    """runwatch.store.repository.StatusRepository."""

    def record_run_tags(self, before: RunState | None, after: RunState) -> None: ...


class RunTagView:
    """One item per (tag, run): written when the tags are first known, again only when what the items hold
    changes (a tag added, the start known earlier, user or project learnt)."""

    def __init__(self, store: RunTagIndex) -> None:
        self.store = store

    def update(self, before: RunState | None, after: RunState) -> None:
        if before is None or _tag_facts(before) != _tag_facts(after):
            self.store.record_run_tags(before, after)


def _tag_facts(state: RunState) -> tuple[object, ...]:
    return (state.tags, state.started_at, state.user, state.project, state.branch, state.orchestrator)


class JobIndex(Protocol):
    """runwatch.store.repository.StatusRepository."""

    def record_job(self, job_id: str, task: TaskKey, attempt: int) -> None: ...


class JobLookupView:
    """Each Batch job id points at the task attempt it ran: one put when a job id is new to its task (or, for
    a Step Functions retry inside the same job, when it runs a later attempt), nothing for other changes."""

    def __init__(self, store: JobIndex) -> None:
        self.store = store

    def update(self, before: TaskState | None, after: TaskState) -> None:
        for job_id, attempt in new_job_attempts(before, after):
            self.store.record_job(job_id, after.key, attempt)
