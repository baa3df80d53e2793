"""Sweeper settings from the environment, credential detection, and the command line's small parts."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import pytest

from runwatch.aws.session import aws_credentials_configured
from runwatch.config import ConfigError, SweeperSettings
from runwatch.domain.lateness import Deadline
from runwatch_dev.cli import StderrProgress, main, parse_duration


def test_defaults_match_the_template(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "STUCK_AFTER_MINUTES",
        "ABANDONED_AFTER_HOURS",
        "LATE_FACTOR",
        "LATE_FLOOR_MINUTES",
        "DEADLINES",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = SweeperSettings.from_env()
    assert (
        settings.stuck_after_minutes,
        settings.reconcile_after_minutes,
        settings.abandoned_after_hours,
    ) == (30, 15, 12)
    assert (settings.late_factor, settings.late_floor_minutes, settings.deadlines, settings.reconcile) == (
        3.0,
        30,
        {},
        "auto",
    )
    assert settings.sweep_interval_seconds == 60


def test_settings_are_read_and_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUCK_AFTER_MINUTES", "45")
    monkeypatch.setenv("LATE_FACTOR", "2.5")
    monkeypatch.setenv("DEADLINES", '{"ScoringFlow": "06:00"}')
    monkeypatch.setenv("RECONCILE", "OFF")
    settings = SweeperSettings.from_env()
    assert (settings.stuck_after_minutes, settings.late_factor, settings.reconcile) == (45, 2.5, "off")
    assert settings.deadlines == {"ScoringFlow": Deadline("ScoringFlow", 6, 0)}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("STUCK_AFTER_MINUTES", "0", "STUCK_AFTER_MINUTES must be at least 1"),
        ("LATE_FACTOR", "fast", "LATE_FACTOR must be a number"),
        ("LATE_FACTOR", "0.5", "LATE_FACTOR must be at least 1"),
        ("DEADLINES", '{"F": "noon"}', "DEADLINES"),
        ("RECONCILE", "sometimes", "RECONCILE must be one of auto, on, off"),
    ],
)
def test_bad_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        SweeperSettings.from_env()


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
