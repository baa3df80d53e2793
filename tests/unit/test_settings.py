"""Each function's settings from a mapping: defaults, empty means unset, and a bad value names its variable.

Also checks template.yaml against the models: a function is given only variables its model reads, and every
variable a model requires is given.
"""

from __future__ import annotations

import pytest

from runwatch.domain.lateness import Deadline
from runwatch.settings import (
    ApiSettings,
    ConfigError,
    IngestSettings,
    NotifierSettings,
    SweeperSettings,
    TableSettings,
)
from runwatch_dev.local.table_from_template import DEFAULT_TEMPLATE, load_template

TABLE = {"TABLE_NAME": "runwatch-test"}
TEMPLATE = load_template(DEFAULT_TEMPLATE)
FUNCTIONS: dict[str, type[TableSettings]] = {
    "IngestFunction": IngestSettings,
    "ApiFunction": ApiSettings,
    "NotifierFunction": NotifierSettings,
    "SweeperFunction": SweeperSettings,
}
# Read by Powertools and the Lambda runtime, not by runwatch's settings.
RUNTIME_VARIABLES = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "LOG_LEVEL"}


def test_the_table_needs_only_its_name() -> None:
    settings = TableSettings.from_env(TABLE)

    assert settings == TableSettings(
        table_name="runwatch-test", dynamodb_endpoint=None, region="us-east-1", retention_days=90
    )


def test_a_missing_table_name_is_named() -> None:
    with pytest.raises(ConfigError, match=r"^TABLE_NAME is not set$") as error:
        ApiSettings.from_env({"CORS_ORIGIN": "https://example.com"})
    assert error.value.variables == ("TABLE_NAME",)


def test_aws_region_wins_over_the_default_region() -> None:
    both = {**TABLE, "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-west-2"}
    assert TableSettings.from_env(both).region == "eu-west-1"
    assert TableSettings.from_env({**TABLE, "AWS_DEFAULT_REGION": "us-west-2"}).region == "us-west-2"


def test_empty_variables_count_as_unset() -> None:
    blank = ("", "  ")
    env = {
        **TABLE,
        "RETENTION_DAYS": blank[0],
        "AWS_ENDPOINT_URL_DYNAMODB": blank[1],
        "REJECTED_QUEUE_URL": blank[0],
        "NOTIFY_HTTP_ATTEMPTS": blank[1],
        "DASHBOARD_URL": blank[0],
        "STUCK_AFTER_MINUTES": blank[0],
        "DEADLINES": blank[1],
        "RECONCILE": blank[0],
    }

    notifier, sweeper = NotifierSettings.from_env(env), SweeperSettings.from_env(env)

    assert (notifier.retention_days, notifier.dynamodb_endpoint, notifier.http_attempts) == (90, None, 3)
    assert notifier.dashboard_url is None and IngestSettings.from_env(env).rejected_queue_url is None
    assert (sweeper.stuck_after_minutes, sweeper.deadlines, sweeper.reconcile) == (30, {}, "auto")


def test_notifier_defaults() -> None:
    settings = NotifierSettings.from_env(TABLE)

    assert (settings.http_attempts, settings.http_timeout_seconds) == (3, 5.0)
    assert (settings.rules_ttl_seconds, settings.secret_ttl_seconds) == (60.0, 300.0)
    channels = (settings.slack_webhook_secret_arn, settings.webhook_secret_arn, settings.topic_arn)
    assert channels == (None, None, None)
    assert (settings.slack_url, settings.webhook_url, settings.rules_file) == (None, None, None)


def test_sweeper_defaults_match_the_template() -> None:
    parameters = TEMPLATE["Parameters"]
    settings = SweeperSettings.from_env(TABLE)

    assert settings.stuck_after_minutes == int(parameters["StuckAfterMinutes"]["Default"])
    assert settings.reconcile_after_minutes == int(parameters["ReconcileAfterMinutes"]["Default"])
    assert settings.abandoned_after_hours == int(parameters["AbandonedAfterHours"]["Default"])
    assert settings.late_factor == float(parameters["LateFactor"]["Default"])
    assert settings.late_floor_minutes == int(parameters["LateFloorMinutes"]["Default"])
    assert settings.retention_days == int(parameters["RetentionDays"]["Default"])
    assert parameters["Deadlines"]["Default"] == "" and settings.deadlines == {}
    assert (settings.late_history_runs, settings.reconcile, settings.sweep_interval_seconds) == (
        50,
        "auto",
        60,
    )


def test_sweeper_settings_are_read() -> None:
    env = {
        **TABLE,
        "STUCK_AFTER_MINUTES": "45",
        "LATE_FACTOR": "2.5",
        "DEADLINES": '{"ScoringFlow": "06:00"}',
        "RECONCILE": "OFF",
    }

    settings = SweeperSettings.from_env(env)

    assert (settings.stuck_after_minutes, settings.late_factor, settings.reconcile) == (45, 2.5, "off")
    assert settings.deadlines == {"ScoringFlow": Deadline("ScoringFlow", 6, 0)}


def test_reconcile_role_name_is_optional_and_checked() -> None:
    assert SweeperSettings.from_env({**TABLE, "RECONCILE_ROLE_NAME": ""}).reconcile_role_name is None
    named = SweeperSettings.from_env({**TABLE, "RECONCILE_ROLE_NAME": "runwatch-reconcile"})
    assert named.reconcile_role_name == "runwatch-reconcile"
    with pytest.raises(ConfigError, match="RECONCILE_ROLE_NAME"):
        SweeperSettings.from_env({**TABLE, "RECONCILE_ROLE_NAME": "no spaces allowed"})


@pytest.mark.parametrize(
    ("model", "name", "value", "message"),
    [
        (TableSettings, "RETENTION_DAYS", "0", "RETENTION_DAYS must be at least 1, got 0"),
        (TableSettings, "RETENTION_DAYS", "ninety", "RETENTION_DAYS must be a whole number, got 'ninety'"),
        (NotifierSettings, "NOTIFY_HTTP_ATTEMPTS", "0", "NOTIFY_HTTP_ATTEMPTS must be at least 1, got 0"),
        (NotifierSettings, "NOTIFY_HTTP_ATTEMPTS", "2.5", "NOTIFY_HTTP_ATTEMPTS must be a whole number"),
        (
            NotifierSettings,
            "NOTIFY_HTTP_TIMEOUT_SECONDS",
            "soon",
            "NOTIFY_HTTP_TIMEOUT_SECONDS must be a number",
        ),
        (
            NotifierSettings,
            "NOTIFY_HTTP_TIMEOUT_SECONDS",
            "0",
            "NOTIFY_HTTP_TIMEOUT_SECONDS must be more than 0",
        ),
        (NotifierSettings, "NOTIFY_RULES_TTL_SECONDS", "-1", "NOTIFY_RULES_TTL_SECONDS must be at least 0"),
        (NotifierSettings, "NOTIFY_SECRET_TTL_SECONDS", "-1", "NOTIFY_SECRET_TTL_SECONDS must be at least 0"),
        (SweeperSettings, "STUCK_AFTER_MINUTES", "0", "STUCK_AFTER_MINUTES must be at least 1, got 0"),
        (SweeperSettings, "RECONCILE_AFTER_MINUTES", "0", "RECONCILE_AFTER_MINUTES must be at least 1"),
        (SweeperSettings, "ABANDONED_AFTER_HOURS", "0", "ABANDONED_AFTER_HOURS must be at least 1"),
        (SweeperSettings, "LATE_FACTOR", "fast", "LATE_FACTOR must be a number, got 'fast'"),
        (SweeperSettings, "LATE_FACTOR", "0.5", "LATE_FACTOR must be at least 1, got 0.5"),
        (SweeperSettings, "LATE_FLOOR_MINUTES", "0", "LATE_FLOOR_MINUTES must be at least 1"),
        (SweeperSettings, "LATE_HISTORY_RUNS", "0", "LATE_HISTORY_RUNS must be at least 1"),
        (SweeperSettings, "SWEEP_INTERVAL_SECONDS", "0", "SWEEP_INTERVAL_SECONDS must be at least 1"),
        (SweeperSettings, "DEADLINES", '{"F": "noon"}', "DEADLINES\\['F'\\] must be a UTC time HH:MM"),
        (SweeperSettings, "DEADLINES", "[1]", "DEADLINES must be a JSON object"),
        (
            SweeperSettings,
            "RECONCILE",
            "sometimes",
            "RECONCILE must be one of auto, on, off, got 'sometimes'",
        ),
    ],
)
def test_a_bad_value_names_its_variable(
    model: type[TableSettings], name: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        model.from_env({**TABLE, name: value})
    assert error.value.variables == (name,)


def test_secrets_stay_out_of_the_representation() -> None:
    env = {**TABLE, "NOTIFY_WEBHOOK_SECRET": "s3cret", "NOTIFY_SLACK_URL": "https://hooks.slack.com/T/B/tok"}
    assert "s3cret" not in repr(NotifierSettings.from_env(env))
    assert "tok" not in repr(NotifierSettings.from_env(env))
    assert "key" not in repr(ApiSettings.from_env({**TABLE, "PAGE_TOKEN_SECRET": "key"}))


def _template_environment(function: str) -> set[str]:
    shared = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    own = TEMPLATE["Resources"][function]["Properties"].get("Environment", {}).get("Variables", {})
    return set(shared) | set(own)


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_the_template_sets_only_variables_the_function_reads(function: str) -> None:
    unread = _template_environment(function) - FUNCTIONS[function].variables() - RUNTIME_VARIABLES
    assert not unread, f"{function} is given {sorted(unread)}, which its settings never read"


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_the_template_sets_every_variable_the_function_needs(function: str) -> None:
    required = {"TABLE_NAME"} | ({"REJECTED_QUEUE_URL"} if function == "IngestFunction" else set())
    assert required <= _template_environment(function)


def test_the_template_has_no_tracing_the_code_does_not_use() -> None:
    """No handler records X-Ray segments (the layer ships no X-Ray SDK), so no function pays for tracing."""
    assert "Tracing" not in TEMPLATE["Globals"]["Function"]
    assert all("Tracing" not in TEMPLATE["Resources"][f]["Properties"] for f in FUNCTIONS)
