"""A run's head: its item and its step items (shards included), the sort keys before its tasks, in one Query.

The run detail (run_queries.py) reads it, and so does ingest right before it writes a run (repository.py),
with a consistent read. The step items are left raw: their counters are attributes no model declares, and
store/step_items.py decodes and merges them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from runwatch.domain.run_state import RunKey
from runwatch.store.keys import TASK_SK_PREFIX, run_pk
from runwatch.store.models import RunItem, StepItem, TableItem

_KIND = TableItem.kind.attr_name
_RUN_KIND = TableItem.kind.get_discriminator(RunItem)
_STEP_KIND = TableItem.kind.get_discriminator(StepItem)


def run_head_query(key: RunKey, consistent: bool = False) -> Any:
    """The Query of the run's item and step items (`#RUN` and `STEP#...` sort before `TASK#`)."""
    return TableItem.query(
        run_pk(key.account, key.region, key.flow, key.run_id),
        TableItem.sk < TASK_SK_PREFIX,
        consistent_read=consistent,
    )


def split_run_head(raws: Iterable[dict[str, Any]]) -> tuple[RunItem | None, list[dict[str, Any]]]:
    """That Query's raw items -> the run's item (None when there is none) and the raw step items."""
    run: RunItem | None = None
    steps: list[dict[str, Any]] = []
    for raw in raws:
        kind = raw.get(_KIND, {}).get("S")
        if kind == _STEP_KIND:
            steps.append(raw)
        elif kind == _RUN_KIND:
            run = RunItem.from_raw_data(raw)
    return run, steps
