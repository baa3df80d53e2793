"""How instants are written: epoch milliseconds (the domain's unit) as ISO 8601 UTC text.

One format everywhere a time leaves the domain (table sort keys, API responses, notifications), so times
compare as text and read the same in every channel.
"""

from __future__ import annotations

from datetime import datetime, timedelta

# Naive UTC: isoformat() then writes no offset. Adding a timedelta and isoformat() take half the CPU of
# fromtimestamp() and strftime() (a run detail writes several hundred times), with the same text.
_EPOCH = datetime(1970, 1, 1)


def iso(ms: int | None) -> str | None:
    """Epoch milliseconds -> ISO 8601 UTC with millisecond precision (sorts as text)."""
    if ms is None:
        return None
    return (_EPOCH + timedelta(milliseconds=ms)).isoformat(timespec="milliseconds") + "Z"
