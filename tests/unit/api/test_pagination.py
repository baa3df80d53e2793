"""Page tokens: what this API issued for a query comes back as the same position; anything else is refused."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runwatch.paging import (
    DEFAULT_MAX_AGE_SECONDS,
    InvalidToken,
    PageTokens,
    key_from_secret,
    query_digest,
)

KEY = key_from_secret("runwatch-test")
QUERY = {"list": "runs", "status": None}
POSITION = {
    "pk": "RUN#TrainFlow#17",
    "sk": "#RUN",
    "recent_pk": "RUNS",
    "started_sk": "2026-11-26T18:55:53.130Z#17",
}


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _tokens(clock: Clock | None = None, key: bytes = KEY) -> PageTokens:
    return PageTokens(key, clock=clock or Clock())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_round_trip() -> None:
    tokens = _tokens()
    assert tokens.read(tokens.issue(QUERY, POSITION), QUERY) == POSITION


def test_query_identity_ignores_key_order() -> None:
    tokens = _tokens()
    token = tokens.issue({"flow": "F", "list": "flow_runs", "status": "failed"}, POSITION)
    assert tokens.read(token, {"status": "failed", "list": "flow_runs", "flow": "F"}) == POSITION


@given(
    st.dictionaries(st.text(min_size=1, max_size=20), st.text(max_size=200), min_size=1, max_size=5),
    st.dictionaries(st.sampled_from(["list", "flow", "status"]), st.none() | st.text(max_size=30)),
)
def test_round_trip_any_position(position: dict[str, str], query: dict[str, str | None]) -> None:
    tokens = _tokens()
    assert tokens.read(tokens.issue(query, position), query) == position


def test_token_is_urlsafe() -> None:
    token = _tokens().issue(QUERY, {"pk": "RUN#F#x/y+z?&=", "sk": "#RUN"})
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


@pytest.mark.parametrize(
    "query",
    [
        {"list": "runs", "status": "failed"},
        {"list": "flow_runs", "flow": "TrainFlow", "status": None},
        {"list": "flows"},
    ],
)
def test_foreign_query_is_refused(query: dict[str, str | None]) -> None:
    tokens = _tokens()
    with pytest.raises(InvalidToken, match="another listing"):
        tokens.read(tokens.issue(QUERY, POSITION), query)


def test_other_key_is_refused() -> None:
    token = _tokens(key=key_from_secret("another-table")).issue(QUERY, POSITION)
    with pytest.raises(InvalidToken, match="signature"):
        _tokens().read(token, QUERY)


def test_edited_payload_is_refused() -> None:
    tokens = _tokens()
    payload, mac = tokens.issue(QUERY, POSITION).split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["k"]["pk"] = "RUN#OtherFlow#1"
    forged = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode()) + "." + mac
    with pytest.raises(InvalidToken, match="signature"):
        tokens.read(forged, QUERY)


def test_unsigned_token_is_refused() -> None:
    body = {"v": 1, "q": "0" * 16, "k": POSITION, "t": 1_800_000_000}
    with pytest.raises(InvalidToken):
        _tokens().read(_b64(json.dumps(body).encode()), QUERY)


@pytest.mark.parametrize("cut", [1, 5, 20])
def test_truncated_token_is_refused(cut: int) -> None:
    tokens = _tokens()
    token = tokens.issue(QUERY, POSITION)
    with pytest.raises(InvalidToken):
        tokens.read(token[:-cut], QUERY)


@pytest.mark.parametrize(
    "garbage", ["", ".", "abc", "a.b.c", "!!!.???", "x" * 20_000, "eyJ9.AAAA", "\u00e9.\u00e9"]
)
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(InvalidToken):
        _tokens().read(garbage, QUERY)


def test_stale_token_is_refused() -> None:
    clock = Clock()
    tokens = _tokens(clock)
    token = tokens.issue(QUERY, POSITION)
    clock.now += DEFAULT_MAX_AGE_SECONDS
    assert tokens.read(token, QUERY) == POSITION
    clock.now += 1
    with pytest.raises(InvalidToken, match="expired"):
        tokens.read(token, QUERY)


def test_tokens_issued_within_the_hour_are_identical() -> None:
    """A page re-read while nothing changed keeps its body, so its ETag still matches and it answers 304."""
    clock = Clock()
    tokens = _tokens(clock)
    first = tokens.issue(QUERY, POSITION)
    clock.now += 3599
    assert tokens.issue(QUERY, POSITION) == first
    clock.now += 1
    assert tokens.issue(QUERY, POSITION) != first


def test_token_from_a_slightly_fast_clock_is_accepted() -> None:
    clock = Clock()
    token = _tokens(Clock(clock.now + 60)).issue(QUERY, POSITION)
    assert _tokens(clock).read(token, QUERY) == POSITION


def test_signed_but_malformed_position_is_refused() -> None:
    """Even with the right key, only a mapping of strings is a position."""
    tokens = _tokens()
    for position in ({}, {"pk": 1}):
        payload = json.dumps(
            {"v": 1, "q": query_digest(QUERY), "k": position, "t": 1_800_000_000},
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        token = _b64(payload) + "." + _b64(tokens._mac(payload))
        with pytest.raises(InvalidToken, match="position"):
            tokens.read(token, QUERY)


def test_empty_key_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="key"):
        PageTokens(b"")
