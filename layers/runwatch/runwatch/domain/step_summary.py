"""A step's summary, exact at any size: what each task adds to it, and the change a task's join makes.

A step of a 10,000-way foreach cannot be summarised by reading its tasks on every request, so each task
contributes a fixed set of numbers (one for its status, its attempts and retries, one duration bucket once
finished, the compute its attempts used: domain/usage.py) and ingest adds the difference between a task's
contribution before and after a join to the step's counters. Sums of differences are exact whatever the order of the joins, as long as each join's
difference is applied exactly once (the store writes it in the task's own conditional transaction).

Bounds (first attempt created, earliest start, latest stop) are minima and maxima of values that a task's
join only ever moves outwards, so "keep the smaller / larger" is exact too.

Under contention a step's summary is kept in several items (the store's shards): each holds the sums of
the changes written to it, so the step's summary is their sum, counters added and bounds widened
(`merged`); no reader sees a part.

Durations go into logarithmic buckets: bucket i holds durations d (ms) with GAMMA**(i-1) < d <= GAMMA**i.
Counts per bucket are exact; a percentile, min or max is read as its bucket's geometric midpoint, within
RELATIVE_ERROR of the true value.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from runwatch.domain.task_state import TaskState
from runwatch.domain.usage import UsageTotals, usage_counters
from runwatch.domain.vocab import TASK_STATUSES, TERMINAL_TASK_STATUSES

GAMMA = 1.1  # bucket width ratio
RELATIVE_ERROR = (GAMMA - 1) / (GAMMA + 1)  # about 4.8 %: midpoint vs any value of the bucket
FINISHED = frozenset({"succeeded", "failed", "killed"})


def duration_bucket(duration_ms: int) -> int:
    """The bucket of a duration; 0 holds everything up to 1 ms."""
    if duration_ms <= 1:
        return 0
    return math.ceil(math.log(duration_ms) / math.log(GAMMA) - 1e-9)


def bucket_value(bucket: int) -> int:
    """A bucket's representative duration: the geometric midpoint of its bounds (within RELATIVE_ERROR)."""
    if bucket <= 0:
        return 1 if bucket == 0 else 0
    return round(2 * GAMMA**bucket / (1 + GAMMA))


def task_duration(state: TaskState) -> int | None:
    """A finished task's wall time, first attempt's start to last attempt's stop (retries included)."""
    if state.status not in FINISHED:
        return None
    starts = [a.started_at for a in state.attempts if a.started_at is not None]
    stops = [a.stopped_at for a in state.attempts if a.stopped_at is not None]
    if not starts or not stops:
        return None
    return max(0, max(stops) - min(starts))


@dataclass(frozen=True, slots=True)
class Bounds:
    """The step's times a task extends: None where it has none."""

    first_created_at: int | None = None
    earliest_start: int | None = None
    latest_stop: int | None = None

    @staticmethod
    def of(state: TaskState) -> Bounds:
        created = [a.created_at for a in state.attempts if a.created_at is not None]
        starts = [a.started_at for a in state.attempts if a.started_at is not None]
        stops = [a.stopped_at for a in state.attempts if a.stopped_at is not None]
        return Bounds(min(created, default=None), min(starts, default=None), max(stops, default=None))

    def widen(self, other: Bounds) -> Bounds:
        return Bounds(
            _lower(self.first_created_at, other.first_created_at),
            _lower(self.earliest_start, other.earliest_start),
            _upper(self.latest_stop, other.latest_stop),
        )


def _lower(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _upper(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def contribution(state: TaskState | None) -> Counter[str]:
    """The counters one task adds to its step: `status:<s>`, `attempts`, `retries`, `bucket:<i>`, and its
    compute used (`use:<sum>`, domain/usage.py)."""
    counts: Counter[str] = Counter()
    if state is None:
        return counts
    counts[f"status:{state.status}"] += 1
    counts["attempts"] += len(state.attempts)
    counts["retries"] += max(0, len(state.attempts) - 1)
    duration = task_duration(state)
    if duration is not None:
        counts[f"bucket:{duration_bucket(duration)}"] += 1
    counts.update(usage_counters(state))
    return counts


@dataclass(frozen=True, slots=True)
class StepChange:
    """What one task's join changes in its step: counter differences (non-zero only) and its bounds."""

    step: str
    deltas: dict[str, int]
    bounds: Bounds

    @property
    def is_empty(self) -> bool:
        return not self.deltas and self.bounds == Bounds()


def combined(changes: Iterable[StepChange]) -> StepChange | None:
    """Several tasks' changes to one step as one: their differences summed and their bounds widened.

    Field by field and generic, so a field added to StepChange merges without a change here: mappings add
    per name (zeros dropped), numbers add, Bounds widen, the step name stays.
    """
    result: StepChange | None = None
    for change in changes:
        result = change if result is None else _sum_changes(result, change)
    return result


def _sum_changes(a: StepChange, b: StepChange) -> StepChange:
    merged: dict[str, object] = {}
    for item in fields(StepChange):
        left, right = getattr(a, item.name), getattr(b, item.name)
        merged[item.name] = _sum_field(left, right)
    return StepChange(**merged)  # type: ignore[arg-type]


def _sum_field(left: object, right: object) -> object:
    if isinstance(left, Bounds) and isinstance(right, Bounds):
        return left.widen(right)
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        total: dict[str, Any] = {}
        for part in (left, right):
            for name, value in part.items():
                total[name] = total.get(name, 0) + value
        return {name: value for name, value in sorted(total.items()) if value}
    if isinstance(left, int | float) and isinstance(right, int | float) and not isinstance(left, bool):
        return left + right
    return left if left is not None else right  # identity fields (the step): equal on both sides


def step_change(before: TaskState | None, after: TaskState) -> StepChange | None:
    """The change a join from `before` to `after` makes to the step; None when it makes none."""
    deltas = contribution(after)
    deltas.subtract(contribution(before))
    old_bounds = Bounds.of(before) if before is not None else Bounds()
    new_bounds = Bounds.of(after)
    change = StepChange(
        after.key.step,
        {name: n for name, n in sorted(deltas.items()) if n},
        new_bounds if new_bounds != old_bounds else Bounds(),
    )
    return None if change.is_empty else change


@dataclass(frozen=True, slots=True)
class StepSummary:
    """A step's stored counters and bounds, as read back from the store."""

    step: str
    counters: Mapping[str, int] = field(default_factory=dict)
    bounds: Bounds = Bounds()

    def applied(self, change: StepChange) -> StepSummary:
        merged = Counter(self.counters)
        merged.update(change.deltas)
        return StepSummary(
            self.step, {k: v for k, v in merged.items() if v}, self.bounds.widen(change.bounds)
        )

    @property
    def task_counts(self) -> dict[str, int]:
        return {s: n for s in TASK_STATUSES if (n := self.counters.get(f"status:{s}", 0))}

    @property
    def task_total(self) -> int:
        return sum(self.task_counts.values())

    @property
    def unfinished_counts(self) -> dict[str, int]:
        """Its tasks not finished yet (pending, starting, running, retrying), by status."""
        return {s: n for s, n in self.task_counts.items() if s not in TERMINAL_TASK_STATUSES and n > 0}

    @property
    def attempts(self) -> int:
        return self.counters.get("attempts", 0)

    @property
    def retries(self) -> int:
        return self.counters.get("retries", 0)

    @property
    def usage(self) -> UsageTotals:
        """The compute its tasks used: finished attempts' sums and running attempts' resources."""
        return UsageTotals.of_counters(self.counters)

    @property
    def buckets(self) -> dict[int, int]:
        found = {
            int(k.removeprefix("bucket:")): n for k, n in self.counters.items() if k.startswith("bucket:")
        }
        return {b: found[b] for b in sorted(found) if found[b] > 0}

    def duration_quantile(self, q: float) -> int | None:
        """The q-quantile (0..1) of finished tasks' durations, within RELATIVE_ERROR; None if none finished."""
        buckets = self.buckets
        total = sum(buckets.values())
        if not total:
            return None
        rank = max(1, math.ceil(q * total))
        seen = 0
        for bucket, count in buckets.items():
            seen += count
            if seen >= rank:
                return bucket_value(bucket)
        return bucket_value(next(reversed(buckets)))


def merged(parts: Iterable[StepSummary]) -> list[StepSummary]:
    """Summaries of the same step (its item and its shards) summed into one per step, in first-seen order."""
    steps: dict[str, StepSummary] = {}
    for part in parts:
        known = steps.get(part.step)
        steps[part.step] = (
            part if known is None else known.applied(StepChange(part.step, dict(part.counters), part.bounds))
        )
    return list(steps.values())


def recount(step: str, tasks: Iterable[TaskState]) -> StepSummary:
    """The summary of a step computed from all its tasks at once (what the kept summary must equal)."""
    counters: Counter[str] = Counter()
    bounds = Bounds()
    for state in tasks:
        counters.update(contribution(state))
        bounds = bounds.widen(Bounds.of(state))
    return StepSummary(step, {k: v for k, v in counters.items() if v}, bounds)
