"""One log line as Metaflow's tee wrote it, with the `[MFLOG|...]` decoration taken off.

Metaflow's `mflog.tee` prints a task's lines plainly to stdout (what CloudWatch receives) and writes
decorated copies, `[MFLOG|0|<UTC time>Z|<source>|<line id>]<message>`, to the log files it saves to S3;
a line to be persisted by a receiver carries a leading `[!`. Either kind may reach us, so a decoration is
removed when it is well formed (its time becomes the line's time) and anything else is kept as printed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

# Same shape Metaflow parses: optional "[!", version 0, a time ending in Z, a source and a line id, each
# up to its first delimiter, then the message.
_DECORATION: Final = re.compile(
    r"(?:\[!)?\[MFLOG\|0\|(?P<time>[^|]+?)Z\|(?P<source>[^|]+?)\|(?P<id>[^\]]+?)\](?P<message>.*)",
    re.DOTALL,
)
# Metaflow writes "%Y-%m-%dT%H:%M:%S.%f" (UTC); anything else means the line is not a decoration.
_TIME: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{1,6})")


@dataclass(frozen=True, slots=True)
class MflogLine:
    """`time` and `source` (`task`, `runtime`) are None for a plain line."""

    message: str
    time: datetime | None = None
    source: str | None = None

    @property
    def ts_ms(self) -> int | None:
        return None if self.time is None else int(self.time.timestamp() * 1000)


def _parse_time(text: str) -> datetime | None:
    match = _TIME.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int(fraction.ljust(6, "0")),
            tzinfo=UTC,
        )
    except ValueError:  # month 13, second 61, ...
        return None


def parse_line(line: str) -> MflogLine:
    """The line without its end-of-line characters and, when it has a valid one, its decoration."""
    line = line.rstrip("\r\n")
    match = _DECORATION.match(line)
    if match is None:
        return MflogLine(line)
    time = _parse_time(match["time"])
    if time is None:
        return MflogLine(line)
    return MflogLine(match["message"], time, match["source"])
