"""The optimistic join loop, per batch: join observations in memory, then write each changed item once.

Each stored state is the join of all observations seen (see domain/merge.py), so duplicates and any order
end in the same state. Joins are staged for a batch (staging.py): every item is read once (the batch reads
ahead with BatchGetItem), all of the batch's observations of it are joined in memory, and the flush writes
it once, only when the join changed something material and conditional on the version read. A lost race
re-reads the item and joins the batch's observations again. States read or written are kept in a bounded
cache; that is safe because every write is conditional on the version it read.

The flush writes tasks first, grouped by step: the changed tasks of one step and their summed change to the
step summary (domain/step_summary.py, from each task's state before and after) go in one transaction, so the
summary is exact under races and written once per batch, not once per task. At fan-out, consumers of one step
race in two ways. Tasks another consumer changed meanwhile (`StaleItems`, which brings them back as stored) are
joined again and the write is tried again at once; a part that lost twice in a row is halved, so every retry
stands a better chance and the write always ends. The step's item taken by another writer (`StepBusy`) sends
the retry, and this consumer's later writes of that step, to a shard of the summary (store/step_items.py), so
the step item never becomes the place where they queue. A transaction that ends in a server error is read back
and joined again (its task writes are conditional, so nothing counts twice). Runs come next: what a task tells
its run (a final failure, the end step's success) is derived from the task as written, so a run never holds a
fact of a task whose write failed; each run is joined again into the run as stored just before its write (read
with its steps' usage), and an ended run is written when one of its tasks became unfinished, which puts it back
in the sweeper's view. After a change is written, the derived views (views.py) are told; what a queued view
(the job lookups) held back is written last, together, and a task whose lookups did not land fails its
messages. Lost races are counted (`conflicts`, and `lost_on` by what they lost on) so the benchmark can report
them per event.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Protocol

from runwatch.domain.run_state import RunKey, RunState, merge_run, run_key_of, run_observation_of_task
from runwatch.domain.step_summary import StepChange, combined, step_change
from runwatch.domain.task_state import TaskKey, TaskState, merge_task
from runwatch.domain.usage import UsageTotals
from runwatch.services.ingest.staging import Pending, Staged
from runwatch.services.ingest.views import DerivedView, QueuedView
from runwatch.services.lru import LRU
from runwatch.store.repository import (
    MAX_TASKS_PER_TRANSACTION,
    Conflict,
    OutcomeUnknown,
    StaleItems,
    StepBusy,
    StoreUnavailable,
    Versioned,
)

MAX_CONFLICT_RETRIES = 8
# The longest random wait after a transaction met another one on a task, doubling with each one.
BACKOFF_SECONDS = 0.05
MAX_BACKOFF_SECONDS = 1.0
# Lost races in a row before a part of a step's tasks gives up (it is halved after two, down to one task).
MAX_GROUP_RETRIES = 20
HALVE_AFTER = 2


class StoredRuns(Protocol):
    """runwatch.store.repository.StatusRepository."""

    def run_and_usage(self, key: RunKey) -> tuple[Versioned | None, UsageTotals]: ...


class StateStore(Protocol):
    """runwatch.store.repository.StatusRepository (an in-memory fake in unit tests)."""

    def load_task(self, key: TaskKey) -> Versioned | None: ...
    def load_run(self, key: RunKey) -> Versioned | None: ...
    def load_states(
        self, tasks: Collection[TaskKey], runs: Collection[RunKey]
    ) -> tuple[dict[TaskKey, Versioned], dict[RunKey, Versioned]]: ...
    def save_tasks(
        self, writes: Sequence[tuple[TaskState, int | None]], change: StepChange | None, spread: bool = False
    ) -> list[int]: ...
    def save_run(self, state: RunState, version: int | None) -> int: ...


class Joins:
    """Joins task and run observations into the table, then updates the derived views of what changed."""

    def __init__(
        self,
        store: StateStore,
        run_views: Sequence[DerivedView[RunState]] = (),
        task_views: Sequence[DerivedView[TaskState]] = (),
        cache_size: int = 20_000,
        pause: Callable[[float], None] = time.sleep,
        stored_run: Callable[[RunKey], tuple[Versioned | None, UsageTotals]] | None = None,
    ) -> None:
        """`stored_run` (the run as stored and the sum of its step summaries' compute) is read right before
        every write of a run: the write joins into the newest stored run, so it seldom loses a race to another
        consumer, and carries the usage, so run listings show it without reading steps or a write of its own.
        Without it a run is written on the state read for the batch, and re-read after a lost race."""
        self.store = store
        self.pause = pause
        self.stored_run = stored_run
        self.run_views = tuple(run_views)
        self.task_views = tuple(task_views)
        self._tasks: LRU[TaskKey, Versioned] = LRU(cache_size)
        self._runs: LRU[RunKey, Versioned] = LRU(cache_size)
        # Steps whose summary item another writer held: their changes go to its shards from then on.
        self._contended: LRU[tuple[RunKey, str], bool] = LRU(1_000)
        self._staged: Staged | None = None
        self.conflicts = 0  # conditional writes that lost a race and were joined again
        # The same, by what was lost on: "tasks" (changed meanwhile), "step" (its summary item), "run", "other"
        self.lost_on: Counter[str] = Counter()
        self.server_errors = 0  # task transactions whose outcome a server error left unknown (read back)

    # -- staging -----------------------------------------------------------------------------------
    @contextmanager
    def batch(self) -> Iterator[Staged]:
        """Stage every join made inside the block; write them when it ends (inside an open batch: join it)."""
        if self._staged is not None:
            yield self._staged
            return
        staged = self._staged = Staged()
        try:
            yield staged
        finally:
            self._staged = None
        self._flush(staged)

    def read_ahead(self, tasks: Collection[TaskKey], runs: Collection[RunKey]) -> None:
        """Read the items the open batch will join into, in as few requests as the store allows."""
        staged = self._staged
        if staged is None:
            return
        task_keys = {k for k in tasks if k not in staged.read_tasks and self._tasks.get(k) is None}
        run_keys = {k for k in runs if k not in staged.read_runs and self._runs.get(k) is None}
        if not task_keys and not run_keys:
            return
        found_tasks, found_runs = self.store.load_states(task_keys, run_keys)
        staged.read_tasks.update({k: found_tasks.get(k) for k in task_keys})
        staged.read_runs.update({k: found_runs.get(k) for k in run_keys})

    def task(self, observation: TaskState) -> tuple[TaskState, bool]:
        """The task's joined state, and whether the observation changed it."""
        with self.batch() as staged:
            pending, changed = self._stage(
                staged.tasks, observation.key, observation, merge_task, _same, self._task_base, staged
            )
        self._raise_if_failed(staged)
        return pending.state, changed

    def run(self, observation: RunState) -> bool:
        """Whether the observation changed the run."""
        with self.batch() as staged:
            _, changed = self._stage(
                staged.runs, observation.key, observation, merge_run, _material, self._run_base, staged
            )
        self._raise_if_failed(staged)
        return changed

    def run_of_task(self, task: TaskState, run: RunState) -> bool:
        """Tell the run what its task tells (joined when the task is written); whether that changes it now."""
        with self.batch() as staged:
            staged.task_runs.append((task.key, run, staged.message))
            derived = run_observation_of_task(task, run)
            pending = staged.runs.get(derived.key)
            current = pending.state if pending is not None else _state(self._run_base(staged, derived.key))
            changed = current is None or _material(merge_run(current, derived)) != _material(current)
        self._raise_if_failed(staged)
        return changed

    def first_in_batch(self, what: Hashable) -> bool:
        """Whether `what` is asked for the first time in the open batch (later asks in it get False)."""
        with self.batch() as staged:
            if what in staged.done_once:
                return False
            staged.done_once.add(what)
            return True

    def after_batch(self, action: Callable[[], None]) -> None:
        """Do `action` once the open batch is written, unless the current message failed."""
        with self.batch() as staged:
            staged.after.append((staged.message, action))

    def _stage[K, S](
        self,
        table: dict[K, Pending[S]],
        key: K,
        observation: S,
        merge: Callable[[S, S], S],
        material: Callable[[S], object],
        base_of: Callable[[Staged, K], Versioned | None],
        staged: Staged,
    ) -> tuple[Pending[S], bool]:
        pending = table.get(key)
        if pending is None:
            base = base_of(staged, key)
            pending = table[key] = Pending(base, observation, observation)
            pending.rebase(base, merge)
            changed = base is None or material(pending.state) != material(base.state)
        else:
            before = material(pending.state)
            pending.joined(observation, merge)
            changed = material(pending.state) != before
        pending.messages.add(staged.message)
        return pending, changed

    def _task_base(self, staged: Staged, key: TaskKey) -> Versioned | None:
        cached = self._tasks.get(key)
        if cached is not None:
            return cached
        return staged.read_tasks[key] if key in staged.read_tasks else self.store.load_task(key)

    def _run_base(self, staged: Staged, key: RunKey) -> Versioned | None:
        cached = self._runs.get(key)
        if cached is not None:
            return cached
        if key not in staged.read_runs:
            staged.read_runs[key] = self.store.load_run(key)
        return staged.read_runs[key]

    def _raise_if_failed(self, staged: Staged) -> None:
        """Outside a batch a failed write is the caller's error (inside one, its message fails)."""
        if self._staged is None and staged.failed:
            raise next(iter(staged.failed.values()))

    # -- the flush ---------------------------------------------------------------------------------
    def _flush(self, staged: Staged) -> None:
        for group in _step_groups(staged.tasks.values()):
            self._write_tasks(staged, group)
        self._derive_runs(staged)
        for pending in staged.runs.values():
            self._write_run(staged, pending)
        self._write_queued(staged)
        for message, action in staged.after:
            if message not in staged.failed:
                try:
                    action()
                except StoreUnavailable as exc:
                    staged.failed.setdefault(message, exc)

    def _write_queued(self, staged: Staged) -> None:
        """What the queued task views held back; a task whose writes did not land fails its messages."""
        for view in self.task_views:
            if isinstance(view, QueuedView):
                for key, error in view.write_queued().items():
                    if (pending := staged.tasks.get(key)) is not None:
                        staged.fail([pending], error)

    def _derive_runs(self, staged: Staged) -> None:
        """Join into each run what its tasks, as written, tell it (not what a failed write would have)."""
        for key, run, message in staged.task_runs:
            task = staged.tasks.get(key)
            if task is None or message in staged.failed:
                continue
            staged.message = message
            derived = run_observation_of_task(task.state, run)
            try:
                self._stage(staged.runs, derived.key, derived, merge_run, _material, self._run_base, staged)
            except StoreUnavailable as exc:
                staged.failed.setdefault(message, exc)

    def _write_tasks(self, staged: Staged, group: list[Pending[TaskState]]) -> None:
        """Write a step's changed tasks and their summed step change; what lost a race is tried again."""
        parts = [(group, 0)]
        while parts:
            part, losses = parts.pop()
            dirty = self._changed_tasks(part)
            if not dirty:
                continue
            if losses == MAX_GROUP_RETRIES:
                self._fail_tasks(staged, dirty, StoreUnavailable(f"gave up after {losses} conflicts"))
                continue
            again = self._save_part(staged, dirty, losses)
            parts.extend((p, losses + 1) for p in again if p)

    def _save_part(
        self, staged: Staged, dirty: list[Pending[TaskState]], losses: int
    ) -> list[list[Pending[TaskState]]]:
        """One transaction of a step's changed tasks; after a lost race, the parts to write again."""
        key = dirty[0].state.key
        step = (run_key_of(key), key.step)
        change = combined(c for p in dirty if (c := step_change(p.before, p.state)) is not None)
        writes = [(p.state, p.version) for p in dirty]
        try:
            versions = self.store.save_tasks(writes, change, spread=self._contended.get(step) is not None)
        except StaleItems as lost:
            # Another consumer changed some of these tasks: join again into them as the loss sent them back
            # (the others read again), and try again at once.
            self._lost("tasks")
            for i, stored in lost.found.items():
                dirty[i].rebase(stored, merge_task)
            unread = [dirty[i] for i in lost.stale if i not in lost.found]
            if unread and not self._reread_tasks(staged, dirty, unread):
                return []
            return _halves(dirty) if losses + 1 >= HALVE_AFTER else [dirty]
        except StepBusy:
            self._lost("step")
            self._contended.put(step, True)
            return [dirty]
        except OutcomeUnknown:
            self.server_errors += 1
            self._back_off(losses)
            return self._read_back(staged, dirty)
        except Conflict:
            # Another transaction held a task: wait a random, growing moment, then join afresh.
            self._lost("other")
            self._back_off(losses)
            return [dirty] if self._reread_tasks(staged, dirty, dirty) else []
        except StoreUnavailable as exc:
            self._fail_tasks(staged, dirty, exc)
            return []
        self._written(staged, dirty, versions)
        return []

    def _written(self, staged: Staged, tasks: list[Pending[TaskState]], versions: list[int]) -> None:
        """Tasks just written: remembered at their new versions, told to the views, and their run reopened if
        one of them became unfinished."""
        for pending, version in zip(tasks, versions, strict=True):
            pending.mark_written(version)
            if _became_unfinished(pending.written_before, pending.state):
                staged.reopened_runs.add(run_key_of(pending.state.key))
            self._tasks.put(pending.state.key, Versioned(pending.state, version))
            for view in self.task_views:
                view.update(pending.written_before, pending.state)

    def _read_back(self, staged: Staged, dirty: list[Pending[TaskState]]) -> list[list[Pending[TaskState]]]:
        """After a transaction of unknown outcome: re-read its tasks and join again. A task found holding its
        joined state was written (by it, or by another consumer): the views hear of it, since their writes
        are idempotent; the others are written again."""
        befores = [(pending, pending.before) for pending in dirty]
        if not self._reread_tasks(staged, dirty, dirty):
            return []
        for pending, before in befores:
            if pending.base is not None and pending.state == pending.base.state and before != pending.state:
                for view in self.task_views:
                    view.update(before, pending.state)
        return [dirty]

    def _back_off(self, losses: int) -> None:
        """Wait a random moment, growing with the losses in a row, so that racing consumers fall out of step."""
        self.pause(random.uniform(0, min(MAX_BACKOFF_SECONDS, BACKOFF_SECONDS * 2**losses)))

    def _lost(self, on: str) -> None:
        self.conflicts += 1
        self.lost_on[on] += 1

    def _changed_tasks(self, group: list[Pending[TaskState]]) -> list[Pending[TaskState]]:
        """The tasks the batch changed; the others are remembered as read (the next batch need not read them)."""
        changed = []
        for pending in group:
            if pending.base is None or pending.state != pending.base.state:
                changed.append(pending)
            else:
                self._tasks.put(pending.state.key, pending.base)
        return changed

    def _reread_tasks(
        self, staged: Staged, part: list[Pending[TaskState]], stale: list[Pending[TaskState]]
    ) -> bool:
        """Join the part's stale tasks again from what is stored; if they cannot be read, the part fails."""
        try:
            found, _ = self.store.load_states([p.state.key for p in stale], ())
        except StoreUnavailable as exc:
            self._fail_tasks(staged, part, exc)
            return False
        for pending in stale:
            pending.rebase(found.get(pending.state.key), merge_task)
        return True

    def _fail_tasks(self, staged: Staged, pending: list[Pending[TaskState]], error: Exception) -> None:
        for item in pending:
            self._tasks.pop(item.state.key)
        staged.fail(pending, error)

    def _write_run(self, staged: Staged, pending: Pending[RunState]) -> None:
        key = pending.state.key
        # An ended run may have been taken out of the sweeper's view; one of its tasks that became unfinished
        # (a late first event) must not stay unwatched, and every write of a run puts it back in that view.
        reopen = key in staged.reopened_runs and pending.state.is_terminal
        for _ in range(MAX_CONFLICT_RETRIES):
            try:
                if _needless(pending, reopen) or not self._join_stored_run(pending, reopen):
                    if pending.base is not None:  # always, when the write is needless: remember it as read
                        self._runs.put(key, Versioned(pending.state, pending.base.version))
                    return
                version = self.store.save_run(pending.state, pending.version)
            except Conflict:
                self._lost("run")
                if self.stored_run is None:  # else the next try reads the run anyway
                    try:
                        pending.rebase(self.store.load_run(key), merge_run)
                    except StoreUnavailable as exc:
                        self._fail_run(staged, pending, exc)
                        return
                continue
            except StoreUnavailable as exc:
                self._fail_run(staged, pending, exc)
                return
            pending.mark_written(version)
            self._runs.put(key, Versioned(pending.state, version))
            self._tell_run_views(staged, pending)
            return
        self._fail_run(staged, pending, StoreUnavailable(f"gave up after {MAX_CONFLICT_RETRIES} conflicts"))

    def _join_stored_run(self, pending: Pending[RunState], reopen: bool) -> bool:
        """Join the batch's observations into the run as stored now, with its usage; whether it is still to
        be written (another consumer may have written the same facts since the batch read it)."""
        if self.stored_run is None:
            return True
        stored, usage = self.stored_run(pending.state.key)
        if _version(stored) != pending.version:
            pending.rebase(stored, merge_run)
            if _needless(pending, reopen):
                return False
        pending.state = replace(pending.state, usage=usage)
        return True

    def _tell_run_views(self, staged: Staged, pending: Pending[RunState]) -> None:
        try:
            for view in self.run_views:
                view.update(pending.written_before, pending.state)
        except StoreUnavailable as exc:
            staged.fail([pending], exc)

    def _fail_run(self, staged: Staged, pending: Pending[RunState], error: Exception) -> None:
        self._runs.pop(pending.state.key)
        staged.fail([pending], error)


def _step_groups(pending: Collection[Pending[TaskState]]) -> Iterator[list[Pending[TaskState]]]:
    """The batch's tasks by step, in transactions of at most MAX_TASKS_PER_TRANSACTION."""
    groups: dict[tuple[RunKey, str], list[Pending[TaskState]]] = {}
    for item in pending:
        key = item.state.key
        groups.setdefault((run_key_of(key), key.step), []).append(item)
    for group in groups.values():
        for first in range(0, len(group), MAX_TASKS_PER_TRANSACTION):
            yield group[first : first + MAX_TASKS_PER_TRANSACTION]


def _halves[T](part: list[T]) -> list[list[T]]:
    middle = (len(part) + 1) // 2
    return [part[:middle], part[middle:]]


def _state[S](versioned: Versioned | None) -> S | None:
    return versioned.state if versioned is not None else None


def _same[S](state: S) -> S:
    return state


def _material(state: RunState) -> RunState:
    return state.material()


def _became_unfinished(before: TaskState | None, after: TaskState) -> bool:
    """A task new and not finished, or that had finished and is going again (a retry seen after its end)."""
    return not after.is_terminal and (before is None or before.is_terminal)


def _needless(pending: Pending[RunState], reopen: bool) -> bool:
    """Whether the run's write can be skipped: the batch adds nothing material to the run as read, and the run
    need not be written to come back into the sweeper's view."""
    return (
        not reopen and pending.base is not None and _material(pending.state) == _material(pending.base.state)
    )


def _version(versioned: Versioned | None) -> int | None:
    return versioned.version if versioned is not None else None
