"""Why a task failed, read from the tail of its log: the last Python exception and Metaflow's own lines.

A task that raises ends its log with Metaflow's CLI printing `    Internal error` and the traceback, whose
last unindented line is the exception; a chained traceback prints the earlier ones first, so the last one
is what ended the task. A `MetaflowException` (`@timeout`, a data store error, ...) is printed instead as
its indented headline (` in file <f> on line <n>`), a colon, and its indented message, with no traceback;
its headline and first message line then stand for the exception. Only the exception's first line is
kept, since messages can run on (pandas, SQL drivers) and can hold data.

A tail that starts inside a traceback (its `Traceback (most recent call last):` header cut off) still
yields the exception when frames (`  File "...", line N`) lead to it; a `Name: text` line not preceded
by frames is ordinary output and never taken for an exception. The top level of an exception group
(`  | `-prefixed lines) is read like a plain traceback; its members are not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

MAX_EXCEPTION_CHARS: Final = 500
MAX_TRACEBACK_LINES: Final = 60
MAX_METAFLOW_LINES: Final = 20
MAX_LINE_CHARS: Final = 500

_ANSI: Final = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_HEADER: Final = re.compile(r"(?:Exception Group )?Traceback \(most recent call last\):")
_FRAME: Final = re.compile(r'\s+File "[^"]*", line \d+')
# A dotted class name, then ": message" or nothing (`KeyboardInterrupt`).
_EXCEPTION: Final = re.compile(r"(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?::(?: .*)?)?")
# The top level of an exception group: "  + Exception Group Traceback ..." and "  | <line>".
_GROUP_LINE: Final = re.compile(r"  (?:\| |\+ (?=Exception Group Traceback))(?P<line>.*)")
_CHAIN_SEPARATORS: Final = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)

# Headlines of the MetaflowExceptions a task can die of (metaflow/exception.py, runtime.py, plugins/),
# printed by Metaflow's CLI as "    <headline>[ in file <f>][ on line <n>]:".
_METAFLOW_HEADLINES: Final = (
    "Flow failed",
    "Internal error",
    "@timeout",
    "Step failure",
    "Data store error",
    "Cannot pickle artifact",
    "Data missing",
    "Unhandled artifacts in merge",
    "Missing artifacts in merge",
    "Invalid self.next() transition detected",
    "External command failed",
    "Metaflow heart beat error",
    "Incompatible environment",
    "AWS Batch error",
    "AWS Batch task killed",
    "AWS Batch job error",
    "S3 access failed",
    "S3 object not found",
    "Parameter field failed",
    "Object not found",
)
_HEADLINE: Final = re.compile(
    r"    (?P<headline>"
    + "|".join(re.escape(h) for h in _METAFLOW_HEADLINES)
    + r")(?: in file .+?)?(?: on line \d+)?:"
)
_INDENTED_MESSAGE: Final = re.compile(r"    (?P<text>\S.*)")
# Other lines Metaflow prints when a task fails or is retried: the CLI's "Internal error" banner, the
# task's "<flow ...> failed:", the code package and environment bootstrap, and the local runtime's
# (and `--with batch` client's) verdicts, which may carry a time and pathspec prefix.
_METAFLOW_LINES: Final = (
    re.compile(r"    Internal error"),
    re.compile(r"<flow \S+ step \S+.*> failed:"),
    re.compile(r"Failed to download code package from .* after \d+ tries\. Exiting\.\.\."),
    re.compile(r"Bootstrap failed while executing: .*"),
    re.compile(r".*\bStep \S+ timed out after \d+ hours, \d+ minutes, \d+ seconds"),
    re.compile(
        r".*\b(?:Task failed(?: with a segmentation fault)?\.|Task failed!|Task crashed\."
        r"|Task is starting \(retry\)\.|Task fallback is starting to handle the failure\."
        r"|This failed task will not be retried\.|Task finished with exit code [1-9]\d*\.)"
    ),
)


@dataclass(frozen=True, slots=True)
class FailureExcerpt:
    """`exception` is the final exception's first line (None when the tail shows none); `traceback` the
    lines of the traceback that raised it (its header and innermost frames when long); `metaflow_lines`
    Metaflow's own failure lines, in log order."""

    exception: str | None
    traceback: tuple[str, ...] = ()
    metaflow_lines: tuple[str, ...] = ()


def _clip(text: str, limit: int = MAX_LINE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _normalise(line: str) -> str:
    line = _ANSI.sub("", line).rstrip()
    group_line = _GROUP_LINE.fullmatch(line)
    return group_line["line"] if group_line else line


def _is_frame_part(line: str) -> bool:
    """A traceback's frame or source line, caret line or "[Previous line repeated ...]" note."""
    return line[:1].isspace() or line.startswith("[Previous line repeated")


def _exception_at(lines: Sequence[str], index: int) -> int | None:
    """Where the traceback whose exception line is `lines[index]` starts, or None if it is not one."""
    line = lines[index]
    if not line or line[:1].isspace() or _EXCEPTION.fullmatch(line) is None:
        return None
    start = index
    first_frame: int | None = None
    while start > 0 and _is_frame_part(lines[start - 1]):
        start -= 1
        if _FRAME.match(lines[start]):
            first_frame = start
    if start > 0 and _HEADER.fullmatch(lines[start - 1]):
        return start - 1
    # A header cut off by the tail: frames must lead to the exception, and the block starts at the first
    # one. SyntaxError's frame ("File ..., line N" without ", in <name>") counts, it may have no header.
    return first_frame


def _last_traceback(lines: Sequence[str]) -> tuple[int, int] | None:
    """(start, exception index) of the last traceback in `lines`."""
    for index in range(len(lines) - 1, -1, -1):
        start = _exception_at(lines, index)
        if start is not None:
            return start, index
    return None


def _bounded(block: Sequence[str]) -> tuple[str, ...]:
    clipped = [_clip(line) for line in block]
    if len(clipped) <= MAX_TRACEBACK_LINES:
        return tuple(clipped)
    return (clipped[0], *clipped[len(clipped) - MAX_TRACEBACK_LINES + 1 :])


def _last_metaflow_exception(lines: Sequence[str]) -> tuple[int, str] | None:
    """(index, "headline: first message line") of the last MetaflowException Metaflow's CLI printed."""
    for index in range(len(lines) - 1, -1, -1):
        match = _HEADLINE.fullmatch(lines[index])
        if match is None:
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        message = _INDENTED_MESSAGE.fullmatch(following)
        return index, f"{match['headline']}: {message['text']}" if message else match["headline"]
    return None


def _metaflow_lines(lines: Sequence[str]) -> tuple[str, ...]:
    found: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if _HEADLINE.fullmatch(line):
            found.append(line.strip())
            following = lines[index + 1] if index + 1 < len(lines) else ""
            if _INDENTED_MESSAGE.fullmatch(following):
                found.append(following.strip())
                index += 1  # the headline's message, whatever it looks like
        elif any(pattern.fullmatch(line) for pattern in _METAFLOW_LINES):
            found.append(line.strip())
        index += 1
    return tuple(_clip(line) for line in found[-MAX_METAFLOW_LINES:])


def find_failure(messages: Iterable[str]) -> FailureExcerpt:
    """The failure the tail shows. `messages` are the tail's lines, oldest first, without decoration."""
    lines = [_normalise(message) for message in messages]
    traceback = _last_traceback(lines)
    metaflow_exception = _last_metaflow_exception(lines)
    metaflow_lines = _metaflow_lines(lines)
    if metaflow_exception is not None and (traceback is None or metaflow_exception[0] > traceback[1]):
        return FailureExcerpt(_clip(metaflow_exception[1], MAX_EXCEPTION_CHARS), (), metaflow_lines)
    if traceback is None:
        return FailureExcerpt(None, (), metaflow_lines)
    start, index = traceback
    return FailureExcerpt(
        _clip(lines[index], MAX_EXCEPTION_CHARS), _bounded(lines[start : index + 1]), metaflow_lines
    )
