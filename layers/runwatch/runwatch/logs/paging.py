"""What both log sources share to page a tail: bounded page assembly and opaque `before_token`s.

A page is filled newest-first until it holds `limit` lines or the next line would pass the byte bound.
The byte bound can stop a page in the middle of what the backing store returned in one piece, so a token
names a position in the store plus how many of the lines just before it were already returned.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Final

from runwatch.logs.mflog import parse_line
from runwatch.logs.source import (
    MAX_PAGE_BYTES,
    MAX_TAIL_LINES,
    InvalidLogToken,
    LogLine,
    LogPage,
)

_TOKEN_VERSION: Final = "1"


@dataclass(frozen=True, slots=True)
class Cursor:
    """`position` is the store's own (a CloudWatch token, a line index; "" = the end of the stream);
    `skip` counts the newest lines before it that an earlier page already returned."""

    position: str
    skip: int = 0


def encode_token(cursor: Cursor) -> str:
    raw = f"{_TOKEN_VERSION}\n{cursor.skip}\n{cursor.position}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_token(token: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidLogToken("malformed log token") from None
    version, _, rest = raw.partition("\n")
    skip, sep, position = rest.partition("\n")
    if version != _TOKEN_VERSION or not sep or not skip.isdigit():
        raise InvalidLogToken("malformed log token")
    return Cursor(position, int(skip))


def clamp_limit(limit: int) -> int:
    return max(1, min(int(limit), MAX_TAIL_LINES))


def truncate_utf8(text: str, max_bytes: int) -> tuple[str, bool]:
    """`text` cut to at most `max_bytes` UTF-8 bytes on a character boundary, and whether it was cut."""
    encoded = text.encode("utf-8", errors="replace")
    if len(encoded) <= max_bytes:
        return text, False
    return encoded[:max_bytes].decode("utf-8", errors="ignore"), True


def to_line(raw: str, fallback_ts_ms: int | None, max_line_bytes: int) -> LogLine:
    """A stored message as a LogLine: decoration removed (its time preferred), message bounded."""
    parsed = parse_line(raw)
    message, truncated = truncate_utf8(parsed.message, max_line_bytes)
    ts_ms = parsed.ts_ms if parsed.time is not None else fallback_ts_ms
    return LogLine(ts_ms, message, truncated)


class TailBuilder:
    """Collects lines newest-first within the bounds; `page()` returns them oldest-first."""

    def __init__(self, limit: int, max_bytes: int = MAX_PAGE_BYTES) -> None:
        self.limit = clamp_limit(limit)
        self.max_bytes = max_bytes
        self._newest_first: list[LogLine] = []
        self._bytes = 0

    @property
    def remaining(self) -> int:
        return self.limit - len(self._newest_first)

    @property
    def full(self) -> bool:
        return self.remaining <= 0

    def offer(self, line: LogLine) -> bool:
        """Take the next older line; False (and nothing taken) when it would pass a bound."""
        size = len(line.message.encode("utf-8", errors="replace"))
        if self.full or self._bytes + size > self.max_bytes:
            return False
        self._newest_first.append(line)
        self._bytes += size
        return True

    def page(self, older: Cursor | None) -> LogPage:
        return LogPage(tuple(reversed(self._newest_first)), None if older is None else encode_token(older))


def line_bound(max_line_bytes: int, max_page_bytes: int) -> int:
    """A line never exceeds the page bound, so every page holds at least one line."""
    return max(1, min(max_line_bytes, max_page_bytes))
