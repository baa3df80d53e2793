"""CloudWatch Logs adapter: the tail of one log stream, read backwards with GetLogEvents.

A failed task's stream is read from its end (`startFromHead=False`), one call after another through
`nextBackwardToken`, until the page is full; CloudWatch answers with the token it was given once the start
of the stream is reached. The boto3 `logs` client is passed in (callers create it lazily) and botocore is
imported only to tell errors apart, so importing this module costs a cold start nothing. Log content is
never logged or put in an exception message: a stream can hold secrets.
"""

from __future__ import annotations

from typing import Any, Final

from runwatch.logs.paging import Cursor, TailBuilder, decode_token, line_bound, to_line
from runwatch.logs.source import (
    DEFAULT_TAIL_LINES,
    MAX_LINE_BYTES,
    MAX_PAGE_BYTES,
    LogPage,
    LogsAccessDenied,
    LogsThrottled,
    LogStreamNotFound,
    LogsUnavailable,
)

# GetLogEvents returns at most 10,000 events (and 1 MB) a call.
MAX_EVENTS_PER_CALL: Final = 10_000
# Sparse streams can answer with empty pages before reaching their start; give up on a page after this
# many calls and hand back a token for the rest.
MAX_CALLS_PER_PAGE: Final = 8
DEFAULT_RETRY_AFTER_S: Final = 2.0

_THROTTLED: Final = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "LimitExceededException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ServiceUnavailableException",
        "ServiceUnavailable",
    }
)
_DENIED: Final = frozenset({"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"})
_NOT_FOUND: Final = frozenset({"ResourceNotFoundException"})


def _retry_after(response: dict[str, Any]) -> float:
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}) or {}
    try:
        return max(float(headers.get("retry-after", DEFAULT_RETRY_AFTER_S)), 0.0)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER_S


def translate_error(exc: Exception, group: str, stream: str) -> LogsUnavailable:
    """The source's exception for an SDK error (names the stream and the error code only)."""
    from botocore.exceptions import ClientError

    where = f"{group} {stream}"
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _NOT_FOUND:
            return LogStreamNotFound(f"log stream not found: {where}")
        if code in _THROTTLED:
            return LogsThrottled(f"CloudWatch Logs throttled ({code}): {where}", _retry_after(exc.response))
        if code in _DENIED:
            return LogsAccessDenied(f"access denied to log stream: {where}")
        return LogsUnavailable(f"CloudWatch Logs error ({code or 'unknown'}): {where}")
    return LogsUnavailable(f"CloudWatch Logs unreachable ({type(exc).__name__}): {where}")


class LogTailReader:
    """LogSource over a boto3 `logs` client; `calls` counts GetLogEvents requests (for reports and tests)."""

    def __init__(
        self,
        client: Any,
        max_bytes: int = MAX_PAGE_BYTES,
        max_line_bytes: int = MAX_LINE_BYTES,
        max_calls: int = MAX_CALLS_PER_PAGE,
    ) -> None:
        self._client = client
        self._max_bytes = max_bytes
        self._max_line_bytes = line_bound(max_line_bytes, max_bytes)
        self._max_calls = max_calls
        self.calls = 0

    def _get(self, group: str, stream: str, limit: int, token: str | None) -> dict[str, Any]:
        self.calls += 1
        kwargs: dict[str, Any] = {
            "logGroupName": group,
            "logStreamName": stream,
            "startFromHead": False,
            "limit": limit,
        }
        if token:
            kwargs["nextToken"] = token
        try:
            response: dict[str, Any] = self._client.get_log_events(**kwargs)
        except Exception as exc:  # botocore's ClientError, EndpointConnectionError, ...
            raise translate_error(exc, group, stream) from None
        return response

    def tail(
        self,
        group: str,
        stream: str,
        limit: int = DEFAULT_TAIL_LINES,
        before_token: str | None = None,
    ) -> LogPage:
        cursor = decode_token(before_token) if before_token is not None else Cursor("")
        builder = TailBuilder(limit, self._max_bytes)
        token, skip = cursor.position or None, cursor.skip
        for _ in range(self._max_calls):
            response = self._get(group, stream, min(builder.remaining + skip, MAX_EVENTS_PER_CALL), token)
            newest_first = list(reversed(response.get("events", [])))
            # A token's skip counts lines an earlier page took from the newest end of this response.
            already = min(skip, len(newest_first))
            for taken, event in enumerate(newest_first[already:]):
                line = to_line(str(event.get("message", "")), event.get("timestamp"), self._max_line_bytes)
                if not builder.offer(line):
                    # Stopped inside this response: ask for it again next time, minus what was taken.
                    return builder.page(Cursor(token or "", already + taken))
            older = response.get("nextBackwardToken")
            if not older or (token is not None and older == token):
                return builder.page(None)  # the start of the stream
            token, skip = older, skip - already
            if builder.full:
                break
        return builder.page(Cursor(token or "", skip))
