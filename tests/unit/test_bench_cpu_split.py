"""bench/cpu_split.py reads the right fields of /proc: this process measured both ways agrees with itself."""

from __future__ import annotations

import os
import sys

import pytest

from bench.cpu_split import CpuSplit


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_server_side_read_from_proc_matches_this_process_own_usage() -> None:
    split = CpuSplit(os.getpid())
    before = _own()
    split.start()
    while _own() - before < 0.3:  # burn 0.3 s of CPU
        sum(i * i for i in range(10_000))
    split.stop()

    assert split.server is not None
    # /proc counts in clock ticks (10 ms): the two readings of the same CPU differ by a few ticks at most.
    assert split.server == pytest.approx(split.own, abs=0.05)
    assert set(split.per(10, "x")) == {"x.client_cpu_ms", "x.server_cpu_ms"}


def test_a_server_that_cannot_be_read_leaves_its_figure_out() -> None:
    split = CpuSplit(None)
    split.start()
    split.stop()
    assert split.server is None
    assert set(split.per(10, "x")) == {"x.client_cpu_ms"}


def _own() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
