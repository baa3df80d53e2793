"""The periodic runner behind the local sweeper schedule, driven by a wait the test controls."""

from __future__ import annotations

import pytest

from runwatch_dev.local.scheduler import Periodic


class Ticks:
    """A wait that lets `count` intervals pass, then says stop."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.waited: list[float] = []

    def __call__(self, seconds: float) -> bool:
        self.waited.append(seconds)
        return len(self.waited) > self.count


def test_the_job_runs_once_per_interval_after_the_first_interval() -> None:
    calls: list[int] = []
    ticks = Ticks(3)

    Periodic("sweeper", 60, lambda: calls.append(len(ticks.waited)), wait=ticks).run()

    assert calls == [1, 2, 3]  # each run comes after a wait, none before the first
    assert ticks.waited == [60, 60, 60, 60]


def test_a_failing_run_is_counted_and_the_next_one_still_comes() -> None:
    outcomes = iter([RuntimeError("table busy"), None, None])

    def job() -> None:
        error = next(outcomes)
        if error:
            raise error

    periodic = Periodic("sweeper", 1, job, wait=Ticks(3))
    periodic.run()

    assert (periodic.runs, periodic.failures) == (3, 1)


def test_stop_ends_a_started_loop() -> None:
    periodic = Periodic("sweeper", 3600, lambda: None).start()
    periodic.stop(timeout=30)
    assert periodic.runs == 0


def test_the_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Periodic("sweeper", 0, lambda: None)
