"""Derived views: what ingest keeps up to date from a joined state, after the state itself was written.

A view is told every change a join writes, as the state before (None for a new item) and after, and updates
its own items from that; it never takes part in the join. The flow entry (each flow's newest run, for the
flow listing) is one; the run's tag items (runs by tag) another; the Batch job lookup (which task attempt a
job id ran) a third, fed by task changes. A view may queue its writes instead (a QueuedView): the job lookup
does, and the flush writes what it queued once the batch's items are written, 25 items a request, rather
than one request per job. The run's compute for listings is no view: it rides in the run's own write
(joins.py), which would otherwise be followed by a second write of the run item and its index entries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from runwatch.domain.lookups import JobLookup, new_job_attempts
from runwatch.domain.run_state import RunState
from runwatch.domain.task_state import TaskKey, TaskState
from runwatch.store.repository import MAX_ITEMS_PER_BATCH_WRITE, StoreUnavailable


class DerivedView[S](Protocol):
    def update(self, before: S | None, after: S) -> None: ...


@runtime_checkable
class QueuedView(Protocol):
    """A task view that queues what `update` would write; `write_queued` writes it at the end of the batch and
    names the tasks whose writes did not land (their messages fail, so SQS brings them again)."""

    def update(self, before: TaskState | None, after: TaskState) -> None: ...
    def write_queued(self) -> Mapping[TaskKey, Exception]: ...


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

    def record_jobs(self, lookups: Sequence[JobLookup]) -> None: ...


# Lookups that did not land are tried again with the next batch's, up to this many (the oldest are dropped).
MAX_HELD_LOOKUPS = 1_000


class JobLookupView:
    """Each Batch job id points at the task attempts it ran: a lookup is queued when a job id is new to its
    task (or, for a Step Functions retry inside the same job, when it runs a later attempt), nothing for
    other changes; the batch's lookups are written together at its end, one BatchWriteItem per 25.

    A lookup is one item per (job, attempt), so the writes need no condition and no order. A request that
    fails fails the tasks of its lookups; those lookups are also held for the next batch, since the message's
    next delivery finds its task already written and queues nothing."""

    def __init__(self, store: JobIndex, per_request: int = MAX_ITEMS_PER_BATCH_WRITE) -> None:
        self.store = store
        self.per_request = per_request
        self._queued: dict[tuple[str, int], TaskKey] = {}

    def update(self, before: TaskState | None, after: TaskState) -> None:
        for job_id, attempt in new_job_attempts(before, after):
            self._queued[(job_id, attempt)] = after.key

    def write_queued(self) -> dict[TaskKey, Exception]:
        queued, self._queued = list(self._queued.items()), {}
        failed: dict[TaskKey, Exception] = {}
        for first in range(0, len(queued), self.per_request):
            part = queued[first : first + self.per_request]
            try:
                self.store.record_jobs([JobLookup(job, task, attempt) for (job, attempt), task in part])
            except StoreUnavailable as exc:
                failed.update((task, exc) for _, task in part)
                self._queued.update(part)
        self._hold_at_most(MAX_HELD_LOOKUPS)
        return failed

    def _hold_at_most(self, limit: int) -> None:
        for key in list(self._queued)[: max(0, len(self._queued) - limit)]:
            del self._queued[key]
