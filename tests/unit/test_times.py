"""Instants leave the domain as one ISO 8601 spelling: table sort keys written before and after must compare."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from runwatch.domain.times import iso

YEAR_10000_MS = 253_402_300_800_000


def test_known_instants() -> None:
    assert iso(None) is None
    assert iso(0) == "1970-01-01T00:00:00.000Z"
    assert iso(1_795_000_000_999) == "2026-11-18T11:06:40.999Z"
    assert iso(YEAR_10000_MS - 1) == "9999-12-31T23:59:59.999Z"


@given(st.integers(min_value=0, max_value=YEAR_10000_MS - 1))
def test_the_spelling_is_the_one_written_with_strftime(ms: int) -> None:
    seconds, millis = divmod(ms, 1000)
    written = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis:03d}Z"
    assert iso(ms) == written
