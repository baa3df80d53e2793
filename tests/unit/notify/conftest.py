"""Notify unit fixtures: a recording HTTP receiver on 127.0.0.1 and a sleeper that only remembers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def sleeps() -> list[float]:
    """Pass `sleeps.append` as the sleeper: delays are asserted, never waited."""
    return []
