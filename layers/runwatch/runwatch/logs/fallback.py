"""A log source that asks several in turn: the local stack reads a stream from a file when there is one,
else from CloudWatch (when AWS credentials are configured), else answers that the stream does not exist."""

from __future__ import annotations

from collections.abc import Sequence

from runwatch.logs.source import DEFAULT_TAIL_LINES, LogPage, LogSource, LogStreamNotFound


class FirstFound:
    """LogSource: the first of `sources` that has the stream answers (its errors other than "not found"
    are final, so a throttled CloudWatch is not mistaken for a missing file)."""

    def __init__(self, sources: Sequence[LogSource]) -> None:
        self.sources = tuple(sources)

    def tail(
        self,
        group: str,
        stream: str,
        limit: int = DEFAULT_TAIL_LINES,
        before_token: str | None = None,
    ) -> LogPage:
        for source in self.sources:
            try:
                return source.tail(group, stream, limit, before_token)
            except LogStreamNotFound:
                continue
        raise LogStreamNotFound(f"log stream not found: {group} {stream}")
