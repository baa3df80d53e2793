"""What ingest reports: the outcome of each event, the counters it adds to, a log-safe summary of a message."""

from __future__ import annotations

import json
from typing import Protocol

APPLIED = "applied"
DUPLICATE = "duplicate"
IGNORED = "ignored"
PARKED = "parked"


class Counters(Protocol):
    def add(self, name: str, value: int = 1) -> None: ...


class NoCounters:
    def add(self, name: str, value: int = 1) -> None:
        return None


def event_summary(raw: object) -> str:
    """A short description of a message for logs, without its payload."""
    if isinstance(raw, dict):
        return json.dumps({k: raw.get(k) for k in ("id", "source", "detail-type")})
    return f"{type(raw).__name__} of {len(raw) if isinstance(raw, str | bytes) else '?'} bytes"
