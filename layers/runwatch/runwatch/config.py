"""Typed settings from the environment, read and validated once per process."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


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
