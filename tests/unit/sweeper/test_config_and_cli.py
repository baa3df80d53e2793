"""Credential detection (RECONCILE=auto) and the backfill command line's small parts.

The sweeper's settings are tested with the others in tests/unit/test_settings.py."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import pytest

from runwatch.aws.session import aws_credentials_configured
from runwatch_dev.cli import StderrProgress, main, parse_duration


class _Session:
    def __init__(self, access_key: str | None) -> None:
        self.access_key = access_key

    def get_credentials(self) -> Any:
        if self.access_key is None:
            return None
        key = self.access_key

        class Credentials:
            def get_frozen_credentials(self) -> Any:
                return type("Frozen", (), {"access_key": key})()

        return Credentials()


def test_credentials_are_real_unless_absent_or_the_local_placeholder() -> None:
    assert aws_credentials_configured(_Session("AKIAEXAMPLE"))
    assert not aws_credentials_configured(_Session(None))
    assert not aws_credentials_configured(_Session("local"))


@pytest.mark.parametrize(
    ("text", "ms"), [("24h", 86_400_000), ("90m", 5_400_000), ("7d", 604_800_000), (" 2W ", 1_209_600_000)]
)
def test_durations(text: str, ms: int) -> None:
    assert parse_duration(text) == ms


def test_a_bad_duration_is_a_usage_error() -> None:
    stderr = io.StringIO()
    with pytest.raises(SystemExit) as exit_info, contextlib.redirect_stderr(stderr):
        main(["backfill", "--since", "yesterday"])
    assert exit_info.value.code == 2
    assert "not a duration like 24h" in stderr.getvalue()


def test_progress_bar_draws_in_place() -> None:
    stream = io.StringIO()
    progress = StderrProgress(stream, width=10)
    progress.start("jobs", 4)
    for _ in range(4):
        progress.advance()
    progress.finish()
    progress.start("listing jobs")
    progress.advance(250)
    progress.finish()
    lines = stream.getvalue().split("\r")
    assert lines[1].startswith("jobs") and lines[1].endswith("[----------] 0/4")
    assert "[##########] 4/4" in stream.getvalue() and stream.getvalue().count("\n") == 2
    assert stream.getvalue().rstrip().endswith("250")
