"""Opaque page tokens: a DynamoDB position bound to the listing it continues, signed with an HMAC.

Shared by the queries service, which issues and reads tokens for its listings, and the API, which checks
their shape and answers `InvalidToken` with a 400; it belongs to neither, so both import it from here.

A token is `<payload>.<mac>`, both urlsafe base64 without padding. The payload is compact JSON holding a
format version, a digest of the query (route, flow, status: never the page size, which may change between
pages), the position (LastEvaluatedKey with plain string values) and the hour it was issued. Anything a
client did not get from this API for this very query - edited, cut short, signed with another key, too
old, or issued for another listing - is an `InvalidToken`, which the API answers with a 400 naming
`next_token`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping

TOKEN_VERSION = 1
# Positions point into a table that changes; a day is plenty to page through a listing.
DEFAULT_MAX_AGE_SECONDS = 24 * 3600
# Real tokens are a few hundred characters (four key attributes built from a flow name and run id); API
# Gateway refuses URLs over 8 KB anyway, so anything longer than this is not ours.
MAX_TOKEN_CHARS = 4096
MAC_BYTES = 16
TOKEN_PATTERN = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"
# The issue time is kept to the hour: a page re-read while nothing changed then has the same body and the
# same ETag (a token stamped to the second would change it every second), and expiry stays within an hour.
ISSUE_TIME_GRANULARITY_SECONDS = 3600
# Tokens come back to other Lambda instances, whose clocks may be a little behind the issuer's.
CLOCK_SKEW_SECONDS = 300

Query = Mapping[str, str | None]
Position = dict[str, str]


class InvalidToken(ValueError):
    """A next_token that this API did not issue for this query, or that is too old to use."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("not a page token") from exc


def query_digest(query: Query) -> str:
    """A short, order-independent fingerprint of the query a token belongs to."""
    canonical = json.dumps(dict(query), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def key_from_secret(secret: str) -> bytes:
    """The signing key from configured text (a table name, or a dedicated secret)."""
    return hashlib.sha256(b"runwatch page tokens\x00" + secret.encode()).digest()


class PageTokens:
    """Issues and checks page tokens with one signing key."""

    def __init__(
        self,
        key: bytes,
        max_age_seconds: int = DEFAULT_MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not key:
            raise ValueError("a page token key is required")
        self._key = key
        self._max_age = max_age_seconds
        self._clock = clock

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:MAC_BYTES]

    def _issue_time(self) -> int:
        now = int(self._clock())
        return now - now % ISSUE_TIME_GRANULARITY_SECONDS

    def issue(self, query: Query, position: Position) -> str:
        body = {"v": TOKEN_VERSION, "q": query_digest(query), "k": position, "t": self._issue_time()}
        payload = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64encode(payload)}.{_b64encode(self._mac(payload))}"

    def read(self, token: str, query: Query) -> Position:
        """The position a token points at; raises InvalidToken unless it is ours, fresh and for `query`."""
        if len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
            raise InvalidToken("not a page token")
        encoded_payload, encoded_mac = token.split(".")
        payload, mac = _b64decode(encoded_payload), _b64decode(encoded_mac)
        # The MAC is checked before the payload is parsed, so forged input never reaches the JSON parser.
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise InvalidToken("page token signature does not match")
        try:
            body = json.loads(payload)
        except ValueError as exc:
            raise InvalidToken("page token is not readable") from exc
        if not isinstance(body, dict) or body.get("v") != TOKEN_VERSION:
            raise InvalidToken("page token has an unknown format")
        if body.get("q") != query_digest(query):
            raise InvalidToken("page token belongs to another listing")
        issued = body.get("t")
        if not isinstance(issued, int) or not -CLOCK_SKEW_SECONDS <= self._clock() - issued <= self._max_age:
            raise InvalidToken("page token has expired")
        position = body.get("k")
        if not isinstance(position, dict) or not position:
            raise InvalidToken("page token has no position")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in position.items()):
            raise InvalidToken("page token position is malformed")
        return position
