"""The sweeper's reads: what is not finished (the sparse `active_keys` index) and a flow's recent runs (`by_flow`).

Queries only, on indexes whose partitions stay small (no scans): `active_keys` holds the keys of non-terminal
runs and tasks only (their items are then read by key), and a flow's history is read newest first with a bound.
`queries` and `items` count the requests made and the items read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from runwatch.domain.run_state import RunState
from runwatch.domain.task_state import TaskState
from runwatch.domain.times import iso
from runwatch.store.guard import guarded
from runwatch.store.keyed_reads import KeyedReads, index_entries
from runwatch.store.keys import ACTIVE_RUN, ACTIVE_TASK, flow_pk
from runwatch.store.models import RunItem, TableItem, TaskItem
from runwatch.store.records import run_from_item, task_from_item


class SweepReads:
    def __init__(self) -> None:
        self.queries = 0
        self.items = 0
        self._keyed = KeyedReads()

    def _read(self, query: Any) -> list[Any]:
        self.queries += 1
        items: list[Any] = guarded(lambda: list(query()))
        self.items += len(items)
        return items

    def _active(self, partition: str) -> list[TableItem]:
        """The items of one `active_keys` partition: its keys (one Query), then the items (BatchGetItems)."""
        entries = index_entries(RunItem.active_index, partition)
        before = self._keyed.requests
        raws = self._keyed.items_in_order(entries)
        self.queries += 1 + self._keyed.requests - before
        self.items += len(raws)
        return [TableItem.from_raw_data(raw) for raw in raws]

    def active_runs(self) -> list[RunState]:
        """Every run not finished yet (running or unknown), least recently active first."""
        runs = [run_from_item(i) for i in self._active(ACTIVE_RUN) if isinstance(i, RunItem)]
        return sorted(runs, key=lambda run: run.activity_at or run.first_seen_at or 0)

    def active_tasks(self) -> list[TaskState]:
        """Every task not finished yet, least recently active first."""
        tasks = [task_from_item(i) for i in self._active(ACTIVE_TASK) if isinstance(i, TaskItem)]
        return sorted(tasks, key=lambda task: task.last_event_at or 0)

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
