"""How instants are written: epoch milliseconds (the domain's unit) as ISO 8601 UTC text.

One format everywhere a time leaves the domain (table sort keys, API responses, notifications), so times
compare as text and read the same in every channel.
"""

from __future__ import annotations

from datetime import UTC, datetime


def iso(ms: int | None) -> str | None:
    """Epoch milliseconds -> ISO 8601 UTC with millisecond precision (sorts as text)."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
