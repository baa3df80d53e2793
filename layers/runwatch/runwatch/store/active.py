"""The sweeper's reads: what is not finished (the sparse `active` index) and a flow's recent runs (`by_flow`).

Queries only, on indexes whose partitions stay small (no scans): `active` holds only non-terminal runs and
tasks, and a flow's history is read newest first with a bound. `queries` and `items` count what was read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from runwatch.domain.run_state import RunState
from runwatch.domain.task_state import TaskState
from runwatch.domain.times import iso
from runwatch.store.keys import ACTIVE_RUN, ACTIVE_TASK, flow_pk
from runwatch.store.models import RunItem, TaskItem
from runwatch.store.records import run_from_item, task_from_item
from runwatch.store.repository import guarded


class SweepReads:
    def __init__(self) -> None:
        self.queries = 0
        self.items = 0

    def _read(self, query: Any) -> list[Any]:
        self.queries += 1
        items: list[Any] = guarded(lambda: list(query()))
        self.items += len(items)
        return items

    def active_runs(self) -> list[RunState]:
        """Every run not finished yet (running or unknown), least recently active first."""
        items: Iterable[Any] = self._read(lambda: RunItem.active_index.query(ACTIVE_RUN))
        return [run_from_item(i) for i in items if isinstance(i, RunItem)]

    def active_tasks(self) -> list[TaskState]:
        """Every task not finished yet, least recently active first."""
        items: Iterable[Any] = self._read(lambda: TaskItem.active_index.query(ACTIVE_TASK))
        return [task_from_item(i) for i in items if isinstance(i, TaskItem)]

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
