"""The sweeper's reads: what is not finished (from the sparse `active_keys` index) and a flow's recent runs.

Queries only, no scans. `active_keys` holds the keys of runs alone: every run from its first write until a
sweep finds it ended with no unfinished task in its step summaries (so a run that failed while events of its
other tasks were lost is still swept). Tasks carry no entry (an entry put and deleted per task was 15 % of
ingest's write units); a run's unfinished tasks are found from its step summaries instead (docs/design.md §3):

- one Query of the run's `STEP#` items gives each step's task counts by status;
- a step that counts pending or starting tasks is read with one Query of its task range filtered on the
  unfinished statuses (pending and starting tasks carry no index entry of their own);
- a step whose unfinished tasks are all running or retrying reads just those, from `by_step_status_keys`
  (keys, then BatchGetItem);
- a step that counts none is not read at all.

So a sweep reads, for R runs in `active_keys`: 1 Query for their keys and ceil(R/100) BatchGetItems for the
runs, R Queries for the step summaries, and per step with unfinished tasks either its task range (when some are
pending or starting) or one Query per running/retrying status plus a BatchGetItem per 100 of those tasks. An
ended run whose steps count no unfinished task is taken out of `active_keys` (a conditional update on its
version: a write of the run meanwhile wins and puts it back, to be judged at the next sweep). `queries` and
`items` count the requests made and the items read; `writes` the clears sent; `cleared` the runs taken out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

from runwatch.domain.run_state import RunState
from runwatch.domain.step_summary import StepSummary
from runwatch.domain.task_state import TaskState
from runwatch.domain.times import iso
from runwatch.domain.vocab import TASK_STATUSES, TERMINAL_TASK_STATUSES
from runwatch.store.guard import Conflict, guarded
from runwatch.store.keyed_reads import KeyedReads, index_entries
from runwatch.store.keys import (
    ACTIVE_RUN,
    INDEXED_TASK_STATUSES,
    RUN_SK,
    STEP_SK_PREFIX,
    TASK_SK_PREFIX,
    flow_pk,
    run_pk,
    step_status_pk,
)
from runwatch.store.models import RunItem, TableItem, TaskItem
from runwatch.store.records import run_from_item, task_from_item
from runwatch.store.step_items import step_summaries
from runwatch.store.together import all_together

UNFINISHED_TASK_STATUSES: Final = tuple(s for s in TASK_STATUSES if s not in TERMINAL_TASK_STATUSES)
# The unfinished statuses `by_step_status_keys` lists; the others are only found by reading the step's tasks.
_INDEXED_UNFINISHED: Final = tuple(s for s in UNFINISHED_TASK_STATUSES if s in INDEXED_TASK_STATUSES)


@dataclass(frozen=True, slots=True)
class _ActiveRun:
    """A run read from `active_keys`: its state and the version its entry can be cleared at."""

    state: RunState
    version: int


class SweepReads:
    def __init__(self) -> None:
        self.queries = 0
        self.items = 0
        self.writes = 0  # clears sent, the ones that lost to a newer write of the run included
        self.cleared = 0
        self._keyed = KeyedReads()
        # The runs `active_runs` read, for the `active_tasks` call that follows it in a sweep.
        self._runs_read: list[_ActiveRun] | None = None

    def _read(self, query: Any) -> list[Any]:
        self.queries += 1
        items: list[Any] = guarded(lambda: list(query()))
        self.items += len(items)
        return items

    def _active_run_items(self) -> list[_ActiveRun]:
        """Every run in `active_keys`: its keys (one Query), then the runs (a BatchGetItem per 100)."""
        entries = index_entries(RunItem.active_index, ACTIVE_RUN)
        before = self._keyed.requests
        raws = self._keyed.items_in_order(entries)
        self.queries += 1 + self._keyed.requests - before
        self.items += len(raws)
        items = (TableItem.from_raw_data(raw) for raw in raws)
        return [_ActiveRun(run_from_item(i), int(i.version)) for i in items if isinstance(i, RunItem)]

    def active_runs(self) -> list[RunState]:
        """Every run not finished yet (running or unknown), least recently active first."""
        self._runs_read = self._active_run_items()
        runs = [run.state for run in self._runs_read if not run.state.is_terminal]
        return sorted(runs, key=lambda run: run.activity_at or run.first_seen_at or 0)

    def active_tasks(self) -> list[TaskState]:
        """Every task not finished yet, least recently active first: found from the step summaries of the runs
        in `active_keys` (those `active_runs` just read, else read now)."""
        runs, self._runs_read = self._runs_read, None
        if runs is None:
            runs = self._active_run_items()
        step_items = all_together([partial(_step_items, run.state) for run in runs])
        tasks: list[TaskState] = []
        for run, (raws, requests) in zip(runs, step_items, strict=True):
            self.queries += requests
            self.items += len(raws)
            unfinished = [step for step in step_summaries(raws) if step.unfinished_counts]
            if not unfinished and run.state.is_terminal:
                self._clear(run)
            tasks.extend(self._unfinished_tasks(run.state, unfinished))
        return sorted(tasks, key=lambda task: task.last_event_at or 0)

    def _unfinished_tasks(self, run: RunState, steps: list[StepSummary]) -> list[TaskState]:
        tasks: list[TaskState] = []
        for step in steps:
            counts = step.unfinished_counts
            if set(counts) <= set(_INDEXED_UNFINISHED):
                tasks.extend(
                    self._indexed_tasks(run, step.step, [s for s in _INDEXED_UNFINISHED if s in counts])
                )
            else:
                tasks.extend(self._step_range_tasks(run, step.step))
        return tasks

    def _indexed_tasks(self, run: RunState, step: str, statuses: list[str]) -> list[TaskState]:
        """The step's tasks in statuses `by_step_status_keys` lists: their keys, then the tasks."""
        key = run.key
        entries = [
            entry
            for status in statuses
            for entry in self._entries(
                step_status_pk(key.account, key.region, key.flow, key.run_id, step, status)
            )
        ]
        before = self._keyed.requests
        raws = self._keyed.items_in_order(entries)
        self.queries += self._keyed.requests - before
        self.items += len(raws)
        items = (TableItem.from_raw_data(raw) for raw in raws)
        return [
            task_from_item(i)
            for i in items
            if isinstance(i, TaskItem) and i.status not in TERMINAL_TASK_STATUSES
        ]

    def _entries(self, partition: str) -> list[dict[str, Any]]:
        self.queries += 1
        return index_entries(TaskItem.by_step_status_index, partition)

    def _step_range_tasks(self, run: RunState, step: str) -> list[TaskState]:
        """The step's unfinished tasks read from its range of the run's partition, filtered on their status."""
        prefix = f"{TASK_SK_PREFIX}{step}#"
        items: Iterable[Any] = self._read(
            lambda: TaskItem.query(
                _run_pk(run),
                TaskItem.sk.startswith(prefix),
                filter_condition=TaskItem.status.is_in(*UNFINISHED_TASK_STATUSES),
            )
        )
        return [task_from_item(i) for i in items if isinstance(i, TaskItem)]

    def _clear(self, run: _ActiveRun) -> None:
        """Take an ended run whose steps count no unfinished task out of `active_keys`, if still unchanged."""
        item = RunItem(_run_pk(run.state), RUN_SK)
        item.version = run.version
        self.writes += 1
        try:
            guarded(lambda: item.update(actions=[RunItem.active_pk.remove()]))
        except Conflict:
            return  # written meanwhile: that write decided, and the next sweep judges it again
        self.cleared += 1

    def recent_runs(self, flow: str, limit: int, started_before_ms: int | None = None) -> list[RunState]:
        """The flow's newest runs (at most `limit`), only those started at or before a time if one is given."""
        condition = None
        if started_before_ms is not None:
            # Range keys start with the ISO start time, so the next millisecond bounds every run started by then.
            condition = RunItem.started_sk < (iso(started_before_ms + 1) or "")
        items: Iterable[Any] = self._read(
            lambda: RunItem.by_flow_index.query(
                flow_pk(flow), range_key_condition=condition, scan_index_forward=False, limit=limit
            )
        )
        return [run_from_item(i) for i in items if isinstance(i, RunItem)]


def _run_pk(run: RunState) -> str:
    key = run.key
    return run_pk(key.account, key.region, key.flow, key.run_id)


def _step_items(run: RunState) -> tuple[list[dict[str, Any]], int]:
    """The run's raw `STEP#` items and shards (a Query, paged), and the requests it took."""
    query = TableItem.query(_run_pk(run), TableItem.sk.startswith(STEP_SK_PREFIX))
    pages = guarded(lambda: list(query.page_iter))
    return [raw for page in pages for raw in page.get("Items", [])], max(1, len(pages))
