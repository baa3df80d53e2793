"""Typed settings, one model per function, read from the environment once at start and checked there.

Every variable is named once, in the field that reads it, with its default and bounds: TableSettings holds
what every function needs to reach the table, and IngestSettings, ApiSettings, NotifierSettings and
SweeperSettings add each function's own. An empty variable counts as unset. A bad value raises ConfigError
naming the variable, so a typo in the configuration stops the function at start instead of failing at the
first event. `from_env(env)` takes any mapping, so tests pass a dict instead of changing the process
environment. runwatch.wiring turns these models into services; nothing here creates a client. The models are
frozen dataclasses read by runwatch.setting_values, not a validation library: every function's cold start
reads them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any, Literal, Self

from runwatch.domain.lateness import Deadline
from runwatch.domain.usage import Prices
from runwatch.setting_values import (
    VARIABLE,
    Matching,
    Number,
    OneOf,
    Variable,
    Whole,
    deadlines,
    env,
    web_address,
)


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable, `variables` lists them."""

    def __init__(self, message: str, variables: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.variables = variables


def _required(setting: Field[Any]) -> bool:
    return setting.default is MISSING and setting.default_factory is MISSING


@dataclass(frozen=True, kw_only=True)
class _EnvSettings:
    """Each field's metadata names its variables (setting_values.env); code and tests construct by field name."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Self:
        """The settings in `env` (default: the process environment); raises ConfigError naming a bad one."""
        present = {name: value.strip() for name, value in env.items() if value.strip()}
        values: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        for setting in fields(cls):
            variable: Variable = setting.metadata[VARIABLE]
            name = next((n for n in variable.names if n in present), None)
            if name is None:
                if _required(setting):
                    problems.append((variable.names[0], f"{variable.names[0]} is not set"))
                continue
            try:
                values[setting.name] = variable.read(name, present[name])
            except ValueError as error:
                problems.append((name, str(error)))
        if problems:
            raise ConfigError("; ".join(m for _, m in problems), tuple(n for n, _ in problems))
        return cls(**values)

    @classmethod
    def variables(cls) -> frozenset[str]:
        """Every environment variable these settings read."""
        return frozenset(n for setting in fields(cls) for n in setting.metadata[VARIABLE].names)


@dataclass(frozen=True, kw_only=True)
class TableSettings(_EnvSettings):
    """The status table; every function reads these."""

    table_name: str = field(metadata=env("TABLE_NAME"))
    # DynamoDB Local in tests and `make local`; AWS's endpoint when unset.
    dynamodb_endpoint: str | None = field(default=None, metadata=env("AWS_ENDPOINT_URL_DYNAMODB"))
    region: str = field(default="us-east-1", metadata=env("AWS_REGION", "AWS_DEFAULT_REGION"))
    # Items expire this long after their last change (TTL attribute expires_at).
    retention_days: int = field(default=90, metadata=env("RETENTION_DAYS", read=Whole(minimum=1)))


@dataclass(frozen=True, kw_only=True)
class IngestSettings(TableSettings):
    """The ingest function (and the local stack's event intake)."""

    # The ingest dead-letter queue: rejected events go there with the reason (the queue consumer needs it).
    rejected_queue_url: str | None = field(default=None, metadata=env("REJECTED_QUEUE_URL"))
    # Only state machines with this name prefix are described to find Metaflow's.
    state_machine_prefix: str | None = field(default=None, metadata=env("SFN_STATE_MACHINE_PREFIX"))


_PRICE = Number(minimum=0)


@dataclass(frozen=True, kw_only=True)
class PriceSettings(_EnvSettings):
    """Optional prices (USD) that turn compute used into an estimated cost; unset, the cost is null."""

    price_vcpu_hour: float | None = field(default=None, metadata=env("PRICE_VCPU_HOUR", read=_PRICE))
    price_gib_hour: float | None = field(default=None, metadata=env("PRICE_GIB_HOUR", read=_PRICE))
    price_gpu_hour: float | None = field(default=None, metadata=env("PRICE_GPU_HOUR", read=_PRICE))

    @property
    def prices(self) -> Prices:
        return Prices(self.price_vcpu_hour, self.price_gib_hour, self.price_gpu_hour)


@dataclass(frozen=True, kw_only=True)
class ApiSettings(TableSettings, PriceSettings):
    """The status API."""

    # One other site whose pages may call the API (CORS); none when unset.
    cors_origin: str | None = field(default=None, metadata=env("CORS_ORIGIN"))
    # Signs page tokens; a key derived from the table name when unset.
    page_token_secret: str | None = field(default=None, repr=False, metadata=env("PAGE_TOKEN_SECRET"))
    # The Metaflow UI the dashboard links runs and tasks to (GET /config); no links when unset.
    metaflow_ui_url: str | None = field(default=None, metadata=env("METAFLOW_UI_URL", read=web_address))


_TTL = Number(minimum=0)


@dataclass(frozen=True, kw_only=True)
class NotifierSettings(TableSettings, PriceSettings):
    """The notifier: channels and rules from AWS in Lambda, from plain variables in the local stack."""

    # Lines of the root cause's traceback in run.failed messages; 0: only its exception line (logs may hold
    # data that should not go to Slack).
    log_lines: int = field(default=0, metadata=env("NOTIFY_LOG_LINES", read=Whole(minimum=0, maximum=60)))

    # Lambda: each channel is configured by where its secret or topic lives.
    slack_webhook_secret_arn: str | None = field(default=None, metadata=env("SLACK_WEBHOOK_SECRET_ARN"))
    webhook_secret_arn: str | None = field(default=None, metadata=env("WEBHOOK_SECRET_ARN"))
    topic_arn: str | None = field(default=None, metadata=env("NOTIFY_TOPIC_ARN"))
    rules_parameter: str | None = field(default=None, metadata=env("NOTIFY_RULES_PARAMETER"))
    rules_ttl_seconds: float = field(default=60.0, metadata=env("NOTIFY_RULES_TTL_SECONDS", read=_TTL))
    secret_ttl_seconds: float = field(default=300.0, metadata=env("NOTIFY_SECRET_TTL_SECONDS", read=_TTL))
    # Local stack: the channels' URLs and the rules file are given directly.
    slack_url: str | None = field(default=None, repr=False, metadata=env("NOTIFY_SLACK_URL"))
    webhook_url: str | None = field(default=None, repr=False, metadata=env("NOTIFY_WEBHOOK_URL"))
    webhook_secret: str | None = field(default=None, repr=False, metadata=env("NOTIFY_WEBHOOK_SECRET"))
    rules_file: str | None = field(default=None, metadata=env("NOTIFY_RULES"))
    # Both: HTTP delivery and the links in messages.
    http_attempts: int = field(default=3, metadata=env("NOTIFY_HTTP_ATTEMPTS", read=Whole(minimum=1)))
    http_timeout_seconds: float = field(
        default=5.0, metadata=env("NOTIFY_HTTP_TIMEOUT_SECONDS", read=Number(above=0))
    )
    dashboard_url: str | None = field(default=None, metadata=env("DASHBOARD_URL"))
    # A transition older than this when processed (backfill, reconcile, redrive, replay) is recorded, not sent.
    max_age_minutes: int = field(default=60, metadata=env("NOTIFY_MAX_AGE_MINUTES", read=Whole(minimum=1)))


_AT_LEAST_ONE = Whole(minimum=1)


@dataclass(frozen=True, kw_only=True)
class SweepThresholds(_EnvSettings):
    """What the Sweeper service judges by (docs/sweeper.md); the defaults are the template's."""

    stuck_after_minutes: int = field(default=30, metadata=env("STUCK_AFTER_MINUTES", read=_AT_LEAST_ONE))
    reconcile_after_minutes: int = field(
        default=15, metadata=env("RECONCILE_AFTER_MINUTES", read=_AT_LEAST_ONE)
    )
    abandoned_after_hours: int = field(default=12, metadata=env("ABANDONED_AFTER_HOURS", read=_AT_LEAST_ONE))
    late_factor: float = field(default=3.0, metadata=env("LATE_FACTOR", read=Number(minimum=1.0)))
    late_floor_minutes: int = field(default=30, metadata=env("LATE_FLOOR_MINUTES", read=_AT_LEAST_ONE))
    late_history_runs: int = field(default=50, metadata=env("LATE_HISTORY_RUNS", read=_AT_LEAST_ONE))
    # {"ScoringFlow": "06:00"}: the flow must succeed by that UTC time every day.
    deadlines: Mapping[str, Deadline] = field(default_factory=dict, metadata=env("DEADLINES", read=deadlines))


@dataclass(frozen=True, kw_only=True)
class SweeperSettings(TableSettings, SweepThresholds):
    """The sweeper function and the local stack's sweeper."""

    # auto: ask AWS about lost events when credentials are configured (always in Lambda, locally if you have some).
    reconcile: Literal["auto", "on", "off"] = field(
        default="auto", metadata=env("RECONCILE", read=OneOf(("auto", "on", "off")))
    )
    # The local stack's schedule; in AWS the SweepSchedule parameter sets it.
    sweep_interval_seconds: int = field(
        default=60, metadata=env("SWEEP_INTERVAL_SECONDS", read=_AT_LEAST_ONE)
    )
    # Many accounts: the role the sweeper assumes in a member account to describe its jobs and executions
    # (ReconcileRoleName); empty, member accounts' lookups are skipped and counted.
    reconcile_role_name: str | None = field(
        default=None, metadata=env("RECONCILE_ROLE_NAME", read=Matching(r"[\w+=,.@/-]{1,64}"))
    )
