"""Building the notifier from the environment: channels configured, bad settings stop it with a reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runwatch.config import ConfigError
from runwatch.notify.delivery import RetryPolicy
from runwatch.notify.rules import RulesError
from runwatch.notify.wiring import build_lambda_notifier, build_local_notifier
from runwatch.store.repository import StatusRepository


def test_local_channels_follow_the_variables_set() -> None:
    assert list(build_local_notifier({}).channels) == []
    notifier = build_local_notifier(
        {
            "NOTIFY_SLACK_URL": "https://hooks.slack.com/services/T/B/x",
            "NOTIFY_WEBHOOK_URL": "http://127.0.0.1:9/h",
        }
    )
    assert list(notifier.channels) == ["slack", "webhook"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"NOTIFY_WEBHOOK_URL": "ftp://secret-host/x"}, "NOTIFY_WEBHOOK_URL must be an http"),
        ({"NOTIFY_SLACK_URL": "hooks.slack.com/services/T/B/x"}, "NOTIFY_SLACK_URL must be an http"),
        ({"NOTIFY_HTTP_ATTEMPTS": "0"}, "NOTIFY_HTTP_ATTEMPTS must be at least 1"),
        ({"NOTIFY_HTTP_TIMEOUT_SECONDS": "soon"}, "NOTIFY_HTTP_TIMEOUT_SECONDS must be a number"),
    ],
)
def test_bad_local_settings_are_config_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        build_local_notifier(env)
    assert "secret-host" not in str(error.value)


def test_a_bad_rules_file_is_an_error_at_start(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - match: {flow: X}\n    channels: [slack, pagerduty]\n")

    with pytest.raises(RulesError, match=r"rules.yaml: rule 0, channels\[1\]: unknown channel 'pagerduty'"):
        build_local_notifier({"NOTIFY_RULES": str(rules)})
    with pytest.raises(RulesError, match="cannot read notification rules file"):
        build_local_notifier({"NOTIFY_RULES": str(tmp_path / "missing.yaml")})


class _Clients:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, service: str) -> Any:
        self.asked.append(service)
        return object()


def test_lambda_asks_only_for_the_clients_its_channels_need() -> None:
    clients = _Clients()
    env = {
        "SLACK_WEBHOOK_SECRET_ARN": "",
        "WEBHOOK_SECRET_ARN": "",
        "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:1:t",
    }

    notifier = build_lambda_notifier(env, StatusRepository(), clients)

    assert list(notifier.channels) == ["sns"] and clients.asked == ["sns"]

    clients = _Clients()
    env = {"SLACK_WEBHOOK_SECRET_ARN": "arn:s", "WEBHOOK_SECRET_ARN": "arn:w", "NOTIFY_RULES_PARAMETER": "/r"}
    notifier = build_lambda_notifier(env, StatusRepository(), clients)
    assert list(notifier.channels) == ["slack", "webhook"]
    assert clients.asked == ["secretsmanager", "ssm"], "secrets and rules are only read when first needed"


def test_the_lambda_send_budget_covers_the_slowest_delivery() -> None:
    notifier = build_lambda_notifier(
        {"NOTIFY_HTTP_ATTEMPTS": "3", "NOTIFY_HTTP_TIMEOUT_SECONDS": "5"}, StatusRepository(), _Clients()
    )

    assert RetryPolicy(attempts=3, timeout=5).worst_case_seconds() == 3 * 5 + 10 + 10
    assert notifier.send_budget == 36.0
