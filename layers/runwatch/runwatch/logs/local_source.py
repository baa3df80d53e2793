"""The local stack's log source: log streams kept as files under `DATA_DIR/logs`.

A stream is `DATA_DIR/logs/<group without its leading />/<stream>.log`, one log event per line, plain or
MFLOG-decorated. It pages exactly like the CloudWatch reader. A plain line's time is None: the file keeps
no per-line time, and its modification time would date every line to the last write. Group and stream
names come from requests, so a name that would leave `DATA_DIR/logs` (`..`, an absolute path, a symlink
out) is treated as a stream that does not exist.
"""

from __future__ import annotations

from pathlib import Path

from runwatch.logs.paging import Cursor, TailBuilder, decode_token, line_bound, to_line
from runwatch.logs.source import (
    DEFAULT_TAIL_LINES,
    MAX_LINE_BYTES,
    MAX_PAGE_BYTES,
    InvalidLogToken,
    LogPage,
    LogStreamNotFound,
)


class LocalLogFiles:
    """LogSource over the files in `<data_dir>/logs`."""

    def __init__(
        self, data_dir: Path | str, max_bytes: int = MAX_PAGE_BYTES, max_line_bytes: int = MAX_LINE_BYTES
    ) -> None:
        self.root = Path(data_dir) / "logs"
        self._max_bytes = max_bytes
        self._max_line_bytes = line_bound(max_line_bytes, max_bytes)

    def path(self, group: str, stream: str) -> Path:
        """The stream's file; LogStreamNotFound for a name that is not allowed."""
        relative = f"{group.removeprefix('/')}/{stream}.log"
        parts = relative.split("/")
        if "\0" in relative or any(part in ("", ".", "..") for part in parts):
            raise LogStreamNotFound(f"log stream not found: {group} {stream}")
        root = self.root.resolve()
        path = root.joinpath(*parts).resolve()
        if not path.is_relative_to(root):
            raise LogStreamNotFound(f"log stream not found: {group} {stream}")
        return path

    def _read(self, group: str, stream: str) -> list[str]:
        path = self.path(group, stream)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise LogStreamNotFound(f"log stream not found: {group} {stream}") from None
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # the newline that ends the last line
        return lines

    def tail(
        self,
        group: str,
        stream: str,
        limit: int = DEFAULT_TAIL_LINES,
        before_token: str | None = None,
    ) -> LogPage:
        lines = self._read(group, stream)
        end = len(lines)
        if before_token is not None:
            cursor = decode_token(before_token)
            if not cursor.position.isdigit() or int(cursor.position) > len(lines) or cursor.skip:
                raise InvalidLogToken("log token does not belong to this stream")
            end = int(cursor.position)
        builder = TailBuilder(limit, self._max_bytes)
        index = end
        while index > 0 and builder.offer(to_line(lines[index - 1], None, self._max_line_bytes)):
            index -= 1
        return builder.page(Cursor(str(index)) if index > 0 else None)
