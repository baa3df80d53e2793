"""The optimistic join loop: read a stored state, join an observation into it, write only what changed.

Each stored state is the join of all observations seen (see domain/merge.py), so duplicates and any order
end in the same state. A write happens only when the join changes something material, and is conditional on
the version read: a lost race re-reads and joins again. States read or written are kept in a bounded cache;
that is safe because a join that changes nothing against an older state changes nothing against a newer one.
A task's write carries its change to the step summary (domain/step_summary.py, from the states before and
after), which the store applies in the same transaction: a view that must be exact under races cannot run
after the write. After a change is written, the derived views (views.py) are told. Lost races are counted
(`conflicts`) so the benchmark can report them per event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from runwatch.domain.run_state import RunKey, RunState, merge_run
from runwatch.domain.step_summary import StepChange, step_change
from runwatch.domain.task_state import TaskKey, TaskState, merge_task
from runwatch.services.ingest.views import DerivedView
from runwatch.services.lru import LRU
from runwatch.store.repository import Conflict, StoreUnavailable, Versioned

MAX_CONFLICT_RETRIES = 8


class StateStore(Protocol):
    """runwatch.store.repository.StatusRepository (an in-memory fake in unit tests)."""

    def load_task(self, key: TaskKey) -> Versioned | None: ...
    def save_task(self, state: TaskState, version: int | None, change: StepChange | None = None) -> int: ...
    def load_run(self, key: RunKey) -> Versioned | None: ...
    def save_run(self, state: RunState, version: int | None) -> int: ...


@dataclass(frozen=True, slots=True)
class Joined[S]:
    state: S  # the joined state (as stored now)
    changed: bool  # whether it was written
    before: S | None  # what it was joined into: None for a new item


class Joins:
    """Joins task and run observations into the table, then updates the derived views of what changed."""

    def __init__(
        self,
        store: StateStore,
        run_views: Sequence[DerivedView[RunState]] = (),
        task_views: Sequence[DerivedView[TaskState]] = (),
        cache_size: int = 20_000,
    ) -> None:
        self.store = store
        self.run_views = tuple(run_views)
        self.task_views = tuple(task_views)
        self._tasks: LRU[TaskKey, Versioned] = LRU(cache_size)
        self._runs: LRU[RunKey, Versioned] = LRU(cache_size)
        self.conflicts = 0  # conditional writes that lost a race and were joined again

    def _save_task(self, state: TaskState, before: TaskState | None, version: int | None) -> int:
        return self.store.save_task(state, version, step_change(before, state))

    def _save_run(self, state: RunState, _before: RunState | None, version: int | None) -> int:
        return self.store.save_run(state, version)

    def task(self, observation: TaskState) -> tuple[TaskState, bool]:
        """The task's joined state, and whether the observation changed it."""
        joined = self._join(
            self._tasks,
            observation.key,
            observation,
            merge_task,
            self.store.load_task,
            self._save_task,
            _same,
        )
        if joined.changed:
            for view in self.task_views:
                view.update(joined.before, joined.state)
        return joined.state, joined.changed

    def run(self, observation: RunState) -> bool:
        """Whether the observation changed the run."""
        joined = self._join(
            self._runs,
            observation.key,
            observation,
            merge_run,
            self.store.load_run,
            self._save_run,
            _material,
        )
        if joined.changed:
            for view in self.run_views:
                view.update(joined.before, joined.state)
        return joined.changed

    def _join[K, S](
        self,
        cache: LRU[K, Versioned],
        key: K,
        observation: S,
        merge: Callable[[S, S], S],
        load: Callable[[K], Versioned | None],
        save: Callable[[S, S | None, int | None], int],
        material: Callable[[S], object],
    ) -> Joined[S]:
        """Read (cache or table), join, and write only if something material changed."""
        for _ in range(MAX_CONFLICT_RETRIES):
            stored = cache.get(key) or load(key)
            merged = observation if stored is None else merge(stored.state, observation)
            if stored is not None and material(merged) == material(stored.state):
                cache.put(key, Versioned(merged, stored.version))
                return Joined(merged, changed=False, before=stored.state)
            before = stored.state if stored else None
            try:
                version = save(merged, before, stored.version if stored else None)
            except Conflict:
                self.conflicts += 1
                cache.pop(key)
                continue
            except StoreUnavailable:
                cache.pop(key)
                raise
            cache.put(key, Versioned(merged, version))
            return Joined(merged, changed=True, before=before)
        raise StoreUnavailable(f"gave up after {MAX_CONFLICT_RETRIES} conflicting writes on {key}")


def _same[S](state: S) -> S:
    return state


def _material(state: RunState) -> RunState:
    return state.material()
