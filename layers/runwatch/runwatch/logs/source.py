"""The contract every log source keeps, so the API and the notifier can be handed CloudWatch or local files.

A tail is read newest-first and returned oldest-first, in pages bounded in lines and bytes; a page's
`older_token` asks for the lines just before it, with no gap and no repeat, and is None once the start of
the stream is reached. Errors are the source's own exceptions, never an SDK's, so callers need no boto3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

DEFAULT_TAIL_LINES: Final = 200
MAX_TAIL_LINES: Final = 1000
# A page's messages together never exceed this many UTF-8 bytes, and one message never exceeds the other.
MAX_PAGE_BYTES: Final = 256 * 1024
MAX_LINE_BYTES: Final = 8 * 1024


@dataclass(frozen=True, slots=True)
class LogLine:
    """One log event. `ts_ms` is the line's own time (Metaflow's decoration, else the event's), or None
    when the source does not know it; `truncated` says the message was cut to the line bound."""

    ts_ms: int | None
    message: str
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class LogPage:
    """Lines oldest-first; `older_token` is an opaque string to pass as `before_token`, None at the start."""

    lines: tuple[LogLine, ...]
    older_token: str | None


class LogsUnavailable(Exception):
    """The log could not be read; the message names the stream and the error code, never log content."""


class LogStreamNotFound(LogsUnavailable):
    """No such log group or stream (never created, expired by retention, or a name that is not allowed)."""


class LogsThrottled(LogsUnavailable):
    """The service asked to slow down; try again after `retry_after_s` seconds."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class LogsAccessDenied(LogsUnavailable):
    """The caller's role may not read this log group."""


class InvalidLogToken(ValueError):
    """A `before_token` that no source issued (malformed, tampered with or from another version)."""


class LogSource(Protocol):
    def tail(
        self,
        group: str,
        stream: str,
        limit: int = DEFAULT_TAIL_LINES,
        before_token: str | None = None,
    ) -> LogPage:
        """The last `limit` lines of the stream (at most MAX_TAIL_LINES), or those before `before_token`."""
        ...
