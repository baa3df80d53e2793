"""Step summaries: what a task contributes, the change a join makes, and durations read from buckets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runwatch.domain.step_summary import (
    RELATIVE_ERROR,
    Bounds,
    StepChange,
    StepSummary,
    bucket_value,
    combined,
    duration_bucket,
    merged,
    recount,
    step_change,
)
from runwatch.domain.task_state import AttemptState, TaskKey, TaskState


def task(task_id: str, *attempts: AttemptState) -> TaskState:
    return TaskState(
        key=TaskKey("F", "1", "train", task_id, account="123456789012", region="us-east-1"),
        orchestrator="batch",
        attempts=attempts,
    )


def running(n: int = 0, start: int = 1_000) -> AttemptState:
    return AttemptState(n, "RUNNING", created_at=start - 10, started_at=start)


def succeeded(n: int = 0, start: int = 1_000, stop: int = 61_000) -> AttemptState:
    return AttemptState(n, "SUCCEEDED", created_at=start - 10, started_at=start, stopped_at=stop)


@given(st.integers(2, 10**10))
def test_a_bucket_value_is_within_the_stated_relative_error(duration: int) -> None:
    value = bucket_value(duration_bucket(duration))
    assert abs(value - duration) <= RELATIVE_ERROR * duration + 1


def test_a_join_moves_the_task_from_one_status_to_another() -> None:
    before, after = task("1", running()), task("1", succeeded())
    change = step_change(before, after)
    assert change is not None
    assert change.deltas == {
        "status:running": -1,
        "status:succeeded": 1,
        f"bucket:{duration_bucket(60_000)}": 1,
    }
    assert change.bounds == Bounds(990, 1_000, 61_000)


def test_a_join_that_changes_nothing_summarised_makes_no_change() -> None:
    state = task("1", succeeded())
    assert step_change(state, state) is None


def test_a_retry_counts_one_more_attempt_and_one_retry() -> None:
    first = AttemptState(0, "FAILED", created_at=1, started_at=2, stopped_at=3)
    change = step_change(task("1", first), task("1", first, running(1)))
    assert change is not None
    assert change.deltas["attempts"] == 1
    assert change.deltas["retries"] == 1


def test_the_summary_reads_counts_bounds_and_percentiles() -> None:
    tasks = [task(str(i), succeeded(start=1_000, stop=1_000 + 1_000 * (i + 1))) for i in range(100)]
    tasks.append(task("x", running(start=500)))
    summary = recount("train", tasks)
    assert summary.task_counts == {"running": 1, "succeeded": 100}
    assert (summary.attempts, summary.retries) == (101, 0)
    assert summary.bounds == Bounds(490, 500, 101_000)
    assert summary.duration_quantile(0.5) == pytest.approx(50_000, rel=RELATIVE_ERROR)
    assert summary.duration_quantile(0.95) == pytest.approx(95_000, rel=RELATIVE_ERROR)
    assert summary.duration_quantile(0) == pytest.approx(1_000, rel=RELATIVE_ERROR)
    assert summary.duration_quantile(1) == pytest.approx(100_000, rel=RELATIVE_ERROR)


def test_an_empty_step_has_no_durations() -> None:
    assert StepSummary("train").duration_quantile(0.5) is None


def test_changes_of_one_step_combine_into_their_sum_and_widest_bounds() -> None:
    first = StepChange("train", {"status:running": 1, "attempts": 1}, Bounds(10, 20, None))
    second = StepChange("train", {"status:running": -1, "status:succeeded": 1}, Bounds(5, 30, 90))
    third = StepChange("train", {"status:succeeded": 1, "attempts": 1}, Bounds())

    total = combined([first, second, third])

    # running +1 -1 cancels out and is dropped; the bounds are the earliest and the latest seen
    assert total == StepChange("train", {"attempts": 2, "status:succeeded": 2}, Bounds(5, 20, 90))
    assert combined([]) is None
    assert combined([first]) == first


def test_combining_applies_like_applying_each_change() -> None:
    changes = [
        StepChange("train", {"status:pending": 1}, Bounds(1, None, None)),
        StepChange("train", {"status:pending": -1, "status:failed": 1, "bucket:3": 1}, Bounds(None, 2, 9)),
    ]
    one_by_one = StepSummary("train")
    for change in changes:
        one_by_one = one_by_one.applied(change)
    total = combined(changes)
    assert total is not None
    assert StepSummary("train").applied(total) == one_by_one


def test_a_steps_shards_merge_into_one_summary_per_step_counters_summed_and_bounds_widened() -> None:
    item = StepSummary("train", {"status:running": 3, "attempts": 3}, Bounds(10, 20, 30))
    shard = StepSummary("train", {"status:running": -1, "status:succeeded": 1}, Bounds(5, None, 40))
    other = StepSummary("join", {"status:pending": 1})

    assert merged([item, other, shard]) == [
        StepSummary("train", {"status:running": 2, "status:succeeded": 1, "attempts": 3}, Bounds(5, 20, 40)),
        other,
    ]
    assert merged([StepSummary("a", {"x": 1}), StepSummary("a", {"x": -1})]) == [StepSummary("a", {})]
