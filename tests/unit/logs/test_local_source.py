"""The local stack's log files page like CloudWatch and never read outside DATA_DIR/logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from runwatch.logs.local_source import LocalLogFiles
from runwatch.logs.source import InvalidLogToken, LogPage, LogStreamNotFound

GROUP, STREAM = "/aws/batch/job", "metaflow_b9c4/default/90d4"


def write_stream(data_dir: Path, lines: list[str], group: str = GROUP, stream: str = STREAM) -> Path:
    path = data_dir / "logs" / group.lstrip("/") / f"{stream}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def read_all(source: LocalLogFiles, limit: int) -> list[LogPage]:
    pages = [source.tail(GROUP, STREAM, limit)]
    while pages[-1].older_token is not None and len(pages) < 5000:
        pages.append(source.tail(GROUP, STREAM, limit, pages[-1].older_token))
    return pages


def test_the_tail_pages_back_to_the_first_line_with_no_gap_or_repeat(tmp_path: Path) -> None:
    write_stream(tmp_path, [f"line {n}" for n in range(57)])
    pages = read_all(LocalLogFiles(tmp_path), 10)
    assert [len(page.lines) for page in pages] == [10, 10, 10, 10, 10, 7]
    assert [line.message for page in reversed(pages) for line in page.lines] == [
        f"line {n}" for n in range(57)
    ]
    assert pages[-1].older_token is None


def test_decorated_lines_keep_their_time_and_plain_lines_have_none(tmp_path: Path) -> None:
    write_stream(
        tmp_path,
        ["[MFLOG|0|2026-11-27T06:03:58.123456Z|task|id-1]Task is starting.", "fitting ✓", ""],
    )
    page = LocalLogFiles(tmp_path).tail(GROUP, STREAM)
    assert [(line.ts_ms, line.message) for line in page.lines] == [
        (1_795_759_438_123, "Task is starting."),
        (None, "fitting ✓"),
        (None, ""),
    ]


def test_crlf_line_ends_are_removed(tmp_path: Path) -> None:
    path = write_stream(tmp_path, [])
    path.write_bytes(b"one\r\ntwo\r\n")
    assert [line.message for line in LocalLogFiles(tmp_path).tail(GROUP, STREAM).lines] == ["one", "two"]


def test_byte_bounds(tmp_path: Path) -> None:
    write_stream(tmp_path, ["x" * 20_000, *[f"{n:03d}" * 10 for n in range(40)]])
    source = LocalLogFiles(tmp_path, max_bytes=100, max_line_bytes=50)
    pages = read_all(source, 1000)
    assert all(sum(len(line.message.encode()) for line in page.lines) <= 100 for page in pages)
    oldest = pages[-1].lines[0]
    assert oldest.truncated and oldest.message == "x" * 50
    assert sum(len(page.lines) for page in pages) == 41


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LogStreamNotFound):
        LocalLogFiles(tmp_path).tail(GROUP, STREAM)


@pytest.mark.parametrize(
    ("group", "stream"),
    [
        ("/aws/batch/job", "../../../secret"),
        ("/../..", "secret"),
        ("//tmp", "secret"),
        ("/aws/batch/job", "a/./b"),
        ("/aws/batch/job", "a//b"),
        ("/aws/batch/job", "nul\0byte"),
    ],
)
def test_names_that_would_leave_the_logs_folder_are_not_found(
    tmp_path: Path, group: str, stream: str
) -> None:
    (tmp_path / "secret.log").write_text("password=hunter2\n")
    write_stream(tmp_path, ["inside"])
    with pytest.raises(LogStreamNotFound):
        LocalLogFiles(tmp_path).tail(group, stream)


def test_a_symlink_out_of_the_logs_folder_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.log"
    outside.write_text("password=hunter2\n")
    link = tmp_path / "logs" / "aws" / "batch" / "job" / "link.log"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    with pytest.raises(LogStreamNotFound):
        LocalLogFiles(tmp_path).tail(GROUP, "link")


def test_a_token_from_elsewhere_is_rejected(tmp_path: Path) -> None:
    write_stream(tmp_path, [f"line {n}" for n in range(5)])
    other = tmp_path / "other"
    write_stream(other, [f"line {n}" for n in range(50)])
    token = LocalLogFiles(other).tail(GROUP, STREAM, limit=2).older_token
    assert token is not None
    with pytest.raises(InvalidLogToken):
        LocalLogFiles(tmp_path).tail(GROUP, STREAM, before_token=token)
    with pytest.raises(InvalidLogToken):
        LocalLogFiles(tmp_path).tail(GROUP, STREAM, before_token="garbage!")


def test_log_content_never_reaches_logs_or_output(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "DB_PASSWORD=correct-horse-battery"
    write_stream(tmp_path, ["ok", secret, "ok"])
    with caplog.at_level(logging.DEBUG):
        page = LocalLogFiles(tmp_path).tail(GROUP, STREAM)
    assert secret in [line.message for line in page.lines]
    captured = capsys.readouterr()
    assert secret not in caplog.text + captured.out + captured.err
