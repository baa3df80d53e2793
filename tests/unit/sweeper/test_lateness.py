"""Lateness rules: k x p95 with a floor, and daily UTC deadlines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runwatch.domain.lateness import (
    DAY_MS as DAY,
)
from runwatch.domain.lateness import (
    Deadline,
    late_threshold,
    met_deadline,
    minutes,
    p95,
    parse_deadlines,
)

MINUTE = 60_000


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp() * 1000)


def test_p95_is_nearest_rank() -> None:
    assert p95([5]) == 5
    assert p95(list(range(1, 101))) == 95
    assert p95([10, 1, 3]) == 10
    with pytest.raises(ValueError):
        p95([])


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1))
def test_p95_is_a_value_at_least_the_median(values: list[int]) -> None:
    ordered = sorted(values)
    assert p95(values) in values
    assert p95(values) >= ordered[(len(ordered) - 1) // 2]


def test_threshold_is_k_times_p95_but_never_below_the_floor() -> None:
    durations = [10 * MINUTE, 11 * MINUTE, 12 * MINUTE]
    assert late_threshold(durations, 3.0, 30 * MINUTE) == 36 * MINUTE
    assert late_threshold(durations, 2.0, 30 * MINUTE) == 30 * MINUTE


def test_too_little_history_gives_no_threshold() -> None:
    assert late_threshold([10 * MINUTE, 11 * MINUTE], 3.0, 30 * MINUTE) is None


def test_deadlines_parse() -> None:
    assert parse_deadlines('{"ScoringFlow": "06:00", "Nightly": "7:05"}') == {
        "ScoringFlow": Deadline("ScoringFlow", 6, 0),
        "Nightly": Deadline("Nightly", 7, 5),
    }
    assert parse_deadlines(None) == {} and parse_deadlines("  ") == {}


@pytest.mark.parametrize("text", ["[1]", "{", '{"F": "25:00"}', '{"F": 6}', '{"": "06:00"}', '{"F": "6am"}'])
def test_bad_deadlines_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="DEADLINES"):
        parse_deadlines(text)


def test_deadline_is_due_from_its_time_today() -> None:
    deadline = Deadline("F", 6, 0)
    assert deadline.due(_ms("2026-11-27T05:59:59")) is None
    assert deadline.due(_ms("2026-11-27T06:00:00")) == ("2026-11-27", _ms("2026-11-27T06:00:00"))
    assert deadline.due(_ms("2026-11-27T23:59:00")) == ("2026-11-27", _ms("2026-11-27T06:00:00"))
    assert deadline.label == "06:00 UTC"


def test_a_deadline_is_met_by_a_success_in_the_day_before_it() -> None:
    deadline = _ms("2026-11-27T06:00:00")
    assert met_deadline(deadline, [deadline])
    assert met_deadline(deadline, [None, deadline - DAY + 1])
    assert not met_deadline(deadline, [deadline + 1, deadline - DAY, None])
    assert not met_deadline(deadline, [])


def test_minutes_reads_well() -> None:
    assert (minutes(45 * MINUTE), minutes(125 * MINUTE), minutes(-5)) == ("45m", "2h 05m", "0m")
