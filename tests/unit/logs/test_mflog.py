"""Metaflow's log-line decoration is removed exactly when it is well formed; other lines stay as printed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from runwatch.logs.mflog import parse_line

WHEN = datetime(2026, 11, 27, 6, 3, 58, 123456)
WHEN_MS = int(WHEN.replace(tzinfo=UTC).timestamp() * 1000)


def decorated(message: str, source: str = "task", persist: bool = False) -> str:
    """A line the way metaflow.mflog.decorate writes it (the message keeps tee's newline)."""
    line = f"[MFLOG|0|{WHEN.strftime('%Y-%m-%dT%H:%M:%S.%f')}Z|{source}|{uuid.uuid4()}]{message}\n"
    return "[!" + line if persist else line


def test_a_decorated_line_gives_its_message_time_and_source() -> None:
    parsed = parse_line(decorated("fitting 12 segments"))
    assert parsed.message == "fitting 12 segments"
    assert parsed.time == WHEN.replace(tzinfo=UTC)
    assert parsed.ts_ms == WHEN_MS
    assert parsed.source == "task"


def test_the_should_persist_marker_is_removed_too() -> None:
    parsed = parse_line(decorated("Task is starting.", source="runtime", persist=True))
    assert (parsed.message, parsed.source, parsed.ts_ms) == ("Task is starting.", "runtime", WHEN_MS)


def test_the_batch_wrappers_own_mflog_lines_parse() -> None:
    # metaflow_environment's shell `mflog` uses `date -u -Ins`: 26 characters of time, the full one as id.
    line = "[MFLOG|0|2026-11-27T06:03:58.123456Z|task|2026-11-27T06:03:58.123456789+00:00]Setting up task environment."
    parsed = parse_line(line)
    assert parsed.message == "Setting up task environment."
    assert parsed.ts_ms == WHEN_MS


def test_a_plain_line_is_kept_as_printed_without_a_time() -> None:
    parsed = parse_line('  File "/metaflow/churn_flow.py", line 88, in fit\n')
    assert parsed.message == '  File "/metaflow/churn_flow.py", line 88, in fit'
    assert parsed.time is None and parsed.ts_ms is None and parsed.source is None


def test_an_empty_message_stays_empty() -> None:
    assert parse_line(decorated("")).message == ""
    assert parse_line(decorated("")).ts_ms == WHEN_MS
    assert parse_line("").message == ""


def test_unicode_and_brackets_in_the_message_survive() -> None:
    message = "Größe ✓ 数据 [MFLOG|0|x] | ] done"
    assert parse_line(decorated(message)).message == message


@pytest.mark.parametrize(
    "line",
    [
        "[MFLOG|1|2026-11-27T06:03:58.123456Z|task|id]other version",
        "[MFLOG|0|2026-11-27 06:03:58Z|task|id]time in another format",
        "[MFLOG|0|2026-13-27T06:03:58.123456Z|task|id]month 13",
        "[MFLOG|0|2026-11-27T06:03:58.123456|task|id]no Z",
        "[MFLOG|0|2026-11-27T06:03:58.123456Z|task]no line id",
        "[MFLOG|0|2026-11-27T06:03:58.123456Z|task|id no closing bracket",
        "[!MFLOG|0|2026-11-27T06:03:58.123456Z|task|id]half a persist marker",
    ],
)
def test_a_malformed_decoration_stays_a_plain_line(line: str) -> None:
    parsed = parse_line(line)
    assert parsed.message == line
    assert parsed.time is None


def test_a_decoration_only_counts_at_the_start_of_the_line() -> None:
    line = "echo " + decorated("x").rstrip("\n")
    assert parse_line(line).message == line
