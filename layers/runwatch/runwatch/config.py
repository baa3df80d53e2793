"""Typed settings from the environment, read and validated once per process."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from runwatch.domain.lateness import Deadline, parse_deadlines


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(name: str, default: float, minimum: float = 0.0) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum:g}, got {value:g}")
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    table_name: str
    dynamodb_endpoint: str | None
    region: str
    retention_days: int
    rejected_queue_url: str | None
    state_machine_prefix: str | None
    dashboard_url: str | None

    @classmethod
    def from_env(cls) -> Settings:
        table = os.environ.get("TABLE_NAME", "")
        if not table:
            raise ConfigError("TABLE_NAME is not set")
        return cls(
            table_name=table,
            dynamodb_endpoint=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or None,
            region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            retention_days=_int("RETENTION_DAYS", 90, minimum=1),
            rejected_queue_url=os.environ.get("REJECTED_QUEUE_URL") or None,
            state_machine_prefix=os.environ.get("SFN_STATE_MACHINE_PREFIX") or None,
            dashboard_url=os.environ.get("DASHBOARD_URL") or None,
        )


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()


RECONCILE_MODES = ("auto", "on", "off")


@dataclass(frozen=True, slots=True)
class SweeperSettings:
    """The sweeper's thresholds (README, "Sweeper and backfill"); the defaults are the template's."""

    stuck_after_minutes: int = 30
    reconcile_after_minutes: int = 15
    abandoned_after_hours: int = 12
    late_factor: float = 3.0
    late_floor_minutes: int = 30
    late_history_runs: int = 50
    deadlines: Mapping[str, Deadline] = field(default_factory=dict)
    # auto: ask AWS about lost events when credentials are configured (always in Lambda, locally if you have some).
    reconcile: str = "auto"
    sweep_interval_seconds: int = 60

    @classmethod
    def from_env(cls) -> SweeperSettings:
        reconcile = (os.environ.get("RECONCILE") or "auto").lower()
        if reconcile not in RECONCILE_MODES:
            raise ConfigError(f"RECONCILE must be one of {', '.join(RECONCILE_MODES)}, got {reconcile!r}")
        try:
            deadlines = parse_deadlines(os.environ.get("DEADLINES"))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        return cls(
            stuck_after_minutes=_int("STUCK_AFTER_MINUTES", 30, minimum=1),
            reconcile_after_minutes=_int("RECONCILE_AFTER_MINUTES", 15, minimum=1),
            abandoned_after_hours=_int("ABANDONED_AFTER_HOURS", 12, minimum=1),
            late_factor=_float("LATE_FACTOR", 3.0, minimum=1.0),
            late_floor_minutes=_int("LATE_FLOOR_MINUTES", 30, minimum=1),
            late_history_runs=_int("LATE_HISTORY_RUNS", 50, minimum=1),
            deadlines=deadlines,
            reconcile=reconcile,
            sweep_interval_seconds=_int("SWEEP_INTERVAL_SECONDS", 60, minimum=1),
        )


@lru_cache(maxsize=1)
def sweeper_settings() -> SweeperSettings:
    return SweeperSettings.from_env()


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """The status API's settings; the page token key falls back to one derived from the table name."""

    cors_origin: str | None = None
    page_token_secret: str | None = None

    @classmethod
    def from_env(cls) -> ApiSettings:
        return cls(
            cors_origin=os.environ.get("CORS_ORIGIN") or None,
            page_token_secret=os.environ.get("PAGE_TOKEN_SECRET") or None,
        )


@lru_cache(maxsize=1)
def api_settings() -> ApiSettings:
    return ApiSettings.from_env()
