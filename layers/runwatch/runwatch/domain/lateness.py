"""When is a run late: longer than k x the p95 duration of its flow's recent successes, or past a deadline.

Two independent rules:
- duration: a running run is late once it has run longer than max(k x p95, floor), where p95 is taken over
  the flow's recent successful runs (too few of them say nothing about what is usual: no verdict);
- deadline: a flow configured with "HH:MM" must have a run that succeeded within the 24 hours before that
  UTC time each day; otherwise that day's deadline is missed, whether a run is still going or none started.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

MIN_HISTORY: Final = 3
DAY_MS: Final = 86_400_000
_HH_MM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def p95(values: Sequence[int]) -> int:
    """Nearest-rank 95th percentile (a value that occurred, no interpolation)."""
    if not values:
        raise ValueError("p95 of no values")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def late_threshold(durations: Sequence[int], factor: float, floor_ms: int) -> int | None:
    """How long a run of this flow may take before it is late; None when history is too short to say."""
    if len(durations) < MIN_HISTORY:
        return None
    return max(int(factor * p95(durations)), floor_ms)


@dataclass(frozen=True, slots=True)
class Deadline:
    """`flow` must succeed by `hour:minute` UTC every day."""

    flow: str
    hour: int
    minute: int

    @property
    def label(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d} UTC"

    def due(self, now_ms: int) -> tuple[str, int] | None:
        """(date, deadline ms) of today's deadline once it has passed, else None.

        Only today's is considered: a deadline passed yesterday was judged yesterday (the marker keyed on
        its date keeps it judged once), and judging it again after an outage would only be noise.
        """
        now = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
        at = now.replace(hour=self.hour, minute=self.minute, second=0, microsecond=0)
        if now < at:
            return None
        return at.date().isoformat(), int(at.timestamp() * 1000)


def parse_deadlines(text: str | None) -> dict[str, Deadline]:
    """`{"ScoringFlow": "06:00"}` -> deadlines by flow; raises ValueError naming what is wrong."""
    if not text or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"DEADLINES is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError('DEADLINES must be a JSON object like {"ScoringFlow": "06:00"}')
    deadlines: dict[str, Deadline] = {}
    for flow, value in data.items():
        match = _HH_MM.match(value) if isinstance(value, str) else None
        if not flow or match is None:
            raise ValueError(f"DEADLINES[{flow!r}] must be a UTC time HH:MM, got {value!r}")
        deadlines[flow] = Deadline(flow, int(match.group(1)), int(match.group(2)))
    return deadlines


def met_deadline(deadline_ms: int, successes: Iterable[int | None]) -> bool:
    """Whether any success (its finish time) falls in the 24 hours up to the deadline."""
    start = deadline_ms - DAY_MS
    return any(finished is not None and start < finished <= deadline_ms for finished in successes)


def minutes(ms: int) -> str:
    """A duration for people: `2h 05m`, `45m`."""
    total = max(0, ms) // 60_000
    hours, mins = divmod(total, 60)
    return f"{hours}h {mins:02d}m" if hours else f"{mins}m"
