"""A flow's health over its newest finished runs: how often it succeeds, how long it takes, why it fails.

"Is TrainFlow failing more, or getting slower, than last month" is answered from the runs alone (their
status, times, root cause and compute), so one bounded read of the flow's newest runs is enough; nothing
here reads tasks. Percentiles are nearest-rank over the exact durations of the runs counted.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from runwatch.domain.usage import UsageHours, UsageTotals
from runwatch.domain.vocab import RUN_STATUSES

FAILED_STATUSES = frozenset({"failed", "timed_out"})


@dataclass(frozen=True, slots=True)
class FinishedRun:
    """What a flow's health needs of one of its runs (the run item's stored, derived attributes)."""

    run_id: str
    account: str
    region: str
    status: str
    started_at: int | None
    finished_at: int | None
    failure_class: str | None = None
    failure_step: str | None = None
    usage: UsageTotals | None = None


@dataclass(frozen=True, slots=True)
class FlowHealth:
    flow: str
    runs: int
    by_status: dict[str, int]
    success_rate: float | None
    duration_p50_s: float | None
    duration_p95_s: float | None
    duration_max_s: float | None
    failure_classes: dict[str, int]
    failing_steps: dict[str, int]
    last_success_at: int | None
    last_failure_at: int | None
    usage: UsageHours
    recent: tuple[FinishedRun, ...]  # the runs counted, newest first


def duration_s(run: FinishedRun) -> float | None:
    """Wall time from first seen to finished, in seconds; None while either is unknown."""
    if run.started_at is None or run.finished_at is None:
        return None
    return max(0, run.finished_at - run.started_at) / 1000


def nearest_rank(sorted_values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0 < q <= 1) by nearest rank; None for no values."""
    if not sorted_values:
        return None
    return sorted_values[max(1, math.ceil(q * len(sorted_values))) - 1]


def _latest(runs: Sequence[FinishedRun], statuses: frozenset[str]) -> int | None:
    return max((r.finished_at for r in runs if r.status in statuses and r.finished_at), default=None)


def flow_health(flow: str, runs: Sequence[FinishedRun]) -> FlowHealth:
    """The health of `flow` over `runs`, its newest finished runs (newest first)."""
    statuses = Counter(run.status for run in runs)
    durations = sorted(d for run in runs if (d := duration_s(run)) is not None)
    failures = [run for run in runs if run.failure_class is not None]
    usage = UsageHours()
    for run in runs:
        usage = usage.plus((run.usage or UsageTotals()).at(run.finished_at or 0))
    return FlowHealth(
        flow=flow,
        runs=len(runs),
        by_status={s: statuses[s] for s in RUN_STATUSES if statuses[s]},
        success_rate=statuses["succeeded"] / len(runs) if runs else None,
        duration_p50_s=nearest_rank(durations, 0.5),
        duration_p95_s=nearest_rank(durations, 0.95),
        duration_max_s=durations[-1] if durations else None,
        failure_classes=dict(Counter(f.failure_class or "unknown" for f in failures).most_common()),
        failing_steps=dict(Counter(f.failure_step for f in failures if f.failure_step).most_common()),
        last_success_at=_latest(runs, frozenset({"succeeded"})),
        last_failure_at=_latest(runs, FAILED_STATUSES),
        usage=usage,
        recent=tuple(runs),
    )
