"""Step summary items read back as summaries: the one place that decodes them and merges a step's shards.

A step's summary is its item `STEP#<step>` and, once concurrent writers met on that item, up to
STEP_SHARDS - 1 shard items `STEP#<step>#<k>` beside it (store/repository.py writes a retry's change to
one). Every reader (run detail, notifier, run usage) goes through `step_summaries`, so none sees a shard:
counters are summed and bounds widened (domain/step_summary.merged).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from runwatch.domain.step_summary import Bounds, StepSummary, merged
from runwatch.store.models import StepItem

# Counters are top-level numbers `c_<counter>` (ADD needs top-level attributes).
STEP_COUNTER_PREFIX = "c_"
# A step's item plus STEP_SHARDS - 1 shards at most: a run detail reads at most this many items a step.
STEP_SHARDS = 16


def _number(raw: Mapping[str, Any], name: str) -> int | None:
    value = raw.get(name)
    return None if value is None or "N" not in value else int(json.loads(value["N"]))


def step_summary_from_raw(raw: Mapping[str, Any]) -> StepSummary:
    """One step item or shard -> what it holds: the `c_<counter>` numbers and the bounds."""
    counters = {
        name.removeprefix(STEP_COUNTER_PREFIX): int(json.loads(value["N"]))
        for name, value in raw.items()
        if name.startswith(STEP_COUNTER_PREFIX) and "N" in value
    }
    bounds = Bounds(
        _number(raw, StepItem.first_created_at.attr_name),
        _number(raw, StepItem.earliest_start.attr_name),
        _number(raw, StepItem.latest_stop.attr_name),
    )
    return StepSummary(raw[StepItem.step.attr_name]["S"], {k: v for k, v in counters.items() if v}, bounds)


def step_summaries(raws: Iterable[Mapping[str, Any]]) -> list[StepSummary]:
    """Raw step items and shards (as a Query returns them) -> one summary per step, shards merged."""
    return merged(step_summary_from_raw(raw) for raw in raws)
