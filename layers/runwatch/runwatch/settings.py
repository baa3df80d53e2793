"""Typed settings, one model per function, read from the environment once at start and checked there.

Every variable is named once, in the field that reads it, with its default and bounds: TableSettings holds
what every function needs to reach the table, and IngestSettings, ApiSettings, NotifierSettings and
SweeperSettings add each function's own. An empty variable counts as unset. A bad value raises ConfigError
naming the variable, so a typo in the configuration stops the function at start instead of failing at the
first event. `from_env(env)` takes any mapping, so tests pass a dict instead of changing the process
environment. runwatch.wiring turns these models into services; nothing here creates a client.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails

from runwatch.domain.lateness import Deadline, parse_deadlines
from runwatch.domain.usage import Prices


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable, `variables` lists them."""

    def __init__(self, message: str, variables: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.variables = variables


class _EnvSettings(BaseModel):
    """Fields read their variable through `validation_alias`; code and tests construct them by field name.

    A model's validator is built when it is first used, so a function's cold start builds only its own."""

    model_config = ConfigDict(
        frozen=True, extra="ignore", validate_by_name=True, validate_by_alias=True, defer_build=True
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Self:
        """The settings in `env` (default: the process environment); raises ConfigError naming a bad one."""
        present = {name: value.strip() for name, value in env.items() if value.strip()}
        try:
            return cls.model_validate(present)
        except ValidationError as error:
            details = error.errors()
            raise ConfigError(
                "; ".join(_describe(detail) for detail in details),
                tuple(_variable(detail) for detail in details),
            ) from None


def _variable(detail: ErrorDetails) -> str:
    return str(detail["loc"][0]) if detail["loc"] else "setting"


def _describe(detail: ErrorDetails) -> str:
    """One validation error in the words of the old hand-written checks: variable, rule, value seen."""
    name = _variable(detail)
    kind, ctx, raw = detail["type"], detail.get("ctx", {}), detail.get("input")
    if kind == "missing":
        return f"{name} is not set"
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return f"{name} must be a whole number, got {raw!r}"
    if kind in ("float_parsing", "float_type"):
        return f"{name} must be a number, got {raw!r}"
    if kind == "greater_than_equal":
        return f"{name} must be at least {ctx['ge']:g}, got {raw}"
    if kind == "greater_than":
        return f"{name} must be more than {ctx['gt']:g}, got {raw}"
    if kind == "literal_error":
        choices = ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
        return f"{name} must be one of {choices}, got {raw!r}"
    if kind == "value_error":
        reason = str(ctx.get("error", detail["msg"]))
        return reason if reason.startswith(name) else f"{name}: {reason}"
    return f"{name}: {detail['msg']}"


class TableSettings(_EnvSettings):
    """The status table; every function reads these."""

    table_name: str = Field(validation_alias="TABLE_NAME", min_length=1)
    # DynamoDB Local in tests and `make local`; AWS's endpoint when unset.
    dynamodb_endpoint: str | None = Field(None, validation_alias="AWS_ENDPOINT_URL_DYNAMODB")
    region: str = Field("us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"))
    # Items expire this long after their last change (TTL attribute expires_at).
    retention_days: int = Field(90, ge=1, validation_alias="RETENTION_DAYS")


class IngestSettings(TableSettings):
    """The ingest function (and the local stack's event intake)."""

    # The ingest dead-letter queue: rejected events go there with the reason (the queue consumer needs it).
    rejected_queue_url: str | None = Field(None, validation_alias="REJECTED_QUEUE_URL")
    # Only state machines with this name prefix are described to find Metaflow's.
    state_machine_prefix: str | None = Field(None, validation_alias="SFN_STATE_MACHINE_PREFIX")


class PriceSettings(_EnvSettings):
    """Optional prices (USD) that turn compute used into an estimated cost; unset, the cost is null."""

    price_vcpu_hour: float | None = Field(None, ge=0, validation_alias="PRICE_VCPU_HOUR")
    price_gib_hour: float | None = Field(None, ge=0, validation_alias="PRICE_GIB_HOUR")
    price_gpu_hour: float | None = Field(None, ge=0, validation_alias="PRICE_GPU_HOUR")

    @property
    def prices(self) -> Prices:
        return Prices(self.price_vcpu_hour, self.price_gib_hour, self.price_gpu_hour)


class ApiSettings(TableSettings, PriceSettings):
    """The status API."""

    # One other site whose pages may call the API (CORS); none when unset.
    cors_origin: str | None = Field(None, validation_alias="CORS_ORIGIN")
    # Signs page tokens; a key derived from the table name when unset.
    page_token_secret: str | None = Field(None, validation_alias="PAGE_TOKEN_SECRET", repr=False)
    # The Metaflow UI the dashboard links runs and tasks to (GET /config); no links when unset.
    metaflow_ui_url: str | None = Field(None, validation_alias="METAFLOW_UI_URL")

    @field_validator("metaflow_ui_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError(f"METAFLOW_UI_URL must be an http(s) URL, got {value!r}")
        return value


class NotifierSettings(TableSettings, PriceSettings):
    """The notifier: channels and rules from AWS in Lambda, from plain variables in the local stack."""

    # Lines of the root cause's traceback in run.failed messages; 0: only its exception line (logs may hold
    # data that should not go to Slack).
    log_lines: int = Field(0, ge=0, le=60, validation_alias="NOTIFY_LOG_LINES")

    # Lambda: each channel is configured by where its secret or topic lives.
    slack_webhook_secret_arn: str | None = Field(None, validation_alias="SLACK_WEBHOOK_SECRET_ARN")
    webhook_secret_arn: str | None = Field(None, validation_alias="WEBHOOK_SECRET_ARN")
    topic_arn: str | None = Field(None, validation_alias="NOTIFY_TOPIC_ARN")
    rules_parameter: str | None = Field(None, validation_alias="NOTIFY_RULES_PARAMETER")
    rules_ttl_seconds: float = Field(60.0, ge=0, validation_alias="NOTIFY_RULES_TTL_SECONDS")
    secret_ttl_seconds: float = Field(300.0, ge=0, validation_alias="NOTIFY_SECRET_TTL_SECONDS")
    # Local stack: the channels' URLs and the rules file are given directly.
    slack_url: str | None = Field(None, validation_alias="NOTIFY_SLACK_URL", repr=False)
    webhook_url: str | None = Field(None, validation_alias="NOTIFY_WEBHOOK_URL", repr=False)
    webhook_secret: str | None = Field(None, validation_alias="NOTIFY_WEBHOOK_SECRET", repr=False)
    rules_file: str | None = Field(None, validation_alias="NOTIFY_RULES")
    # Both: HTTP delivery and the links in messages.
    http_attempts: int = Field(3, ge=1, validation_alias="NOTIFY_HTTP_ATTEMPTS")
    http_timeout_seconds: float = Field(5.0, gt=0, validation_alias="NOTIFY_HTTP_TIMEOUT_SECONDS")
    dashboard_url: str | None = Field(None, validation_alias="DASHBOARD_URL")
    # A transition older than this when processed (backfill, reconcile, redrive, replay) is recorded, not sent.
    max_age_minutes: int = Field(60, ge=1, validation_alias="NOTIFY_MAX_AGE_MINUTES")


class SweepThresholds(_EnvSettings):
    """What the Sweeper service judges by (docs/sweeper.md); the defaults are the template's."""

    stuck_after_minutes: int = Field(30, ge=1, validation_alias="STUCK_AFTER_MINUTES")
    reconcile_after_minutes: int = Field(15, ge=1, validation_alias="RECONCILE_AFTER_MINUTES")
    abandoned_after_hours: int = Field(12, ge=1, validation_alias="ABANDONED_AFTER_HOURS")
    late_factor: float = Field(3.0, ge=1.0, validation_alias="LATE_FACTOR")
    late_floor_minutes: int = Field(30, ge=1, validation_alias="LATE_FLOOR_MINUTES")
    late_history_runs: int = Field(50, ge=1, validation_alias="LATE_HISTORY_RUNS")
    # {"ScoringFlow": "06:00"}: the flow must succeed by that UTC time every day.
    deadlines: Mapping[str, Deadline] = Field(default_factory=dict, validation_alias="DEADLINES")

    @field_validator("deadlines", mode="before")
    @classmethod
    def _parse_deadlines(cls, value: Any) -> Any:
        return parse_deadlines(value) if isinstance(value, str) else value


class SweeperSettings(TableSettings, SweepThresholds):
    """The sweeper function and the local stack's sweeper."""

    # auto: ask AWS about lost events when credentials are configured (always in Lambda, locally if you have some).
    reconcile: Literal["auto", "on", "off"] = Field("auto", validation_alias="RECONCILE")
    # The local stack's schedule; in AWS the SweepSchedule parameter sets it.
    sweep_interval_seconds: int = Field(60, ge=1, validation_alias="SWEEP_INTERVAL_SECONDS")
    # Many accounts: the role the sweeper assumes in a member account to describe its jobs and executions
    # (ReconcileRoleName); empty, member accounts' lookups are skipped and counted.
    reconcile_role_name: str | None = Field(
        None, pattern=r"^[\w+=,.@/-]{1,64}$", validation_alias="RECONCILE_ROLE_NAME"
    )

    @field_validator("reconcile", mode="before")
    @classmethod
    def _lower_case(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value
