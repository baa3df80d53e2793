"""The composition root: each service is built from its settings, binds the table once, and asks the client
factory only for the clients its configured features need. No AWS call is made while building."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from runwatch import wiring
from runwatch.aws.session import SessionClients
from runwatch.notify.delivery import RetryPolicy, urllib_opener
from runwatch.notify.rules import RulesError
from runwatch.settings import (
    ApiSettings,
    ConfigError,
    IngestSettings,
    NotifierSettings,
    SweeperSettings,
    TableSettings,
)
from runwatch.store import models

ROOT = Path(__file__).resolve().parents[2]
TABLE = {"TABLE_NAME": "runwatch-unit", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9"}


class _Clients:
    """A client factory that records what was asked for and hands out inert stand-ins."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, service: str) -> Any:
        self.asked.append(service)
        return object()

    def session(self) -> None:
        return None


@pytest.fixture
def binds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Any, ...]]]:
    """Every models.bind call made while the test builds services (the models stay unbound)."""
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(models, "bind", lambda *args, **kwargs: calls.append((*args, kwargs)))
    yield calls


def _bound_table(call: tuple[Any, ...]) -> tuple[str, str | None, str | None]:
    *args, kwargs = call
    return args[0], kwargs.get("host"), kwargs.get("region")


EXPECTED_TABLE = ("runwatch-unit", "http://127.0.0.1:9", "us-east-1")


# -- the table ----------------------------------------------------------------------------------------------


def test_the_repository_keeps_the_configured_retention(binds: list[tuple[Any, ...]]) -> None:
    repository = wiring.bind_table(TableSettings.from_env({**TABLE, "RETENTION_DAYS": "7"}), clock=lambda: 5)

    assert [_bound_table(call) for call in binds] == [EXPECTED_TABLE]
    assert (repository.retention_days, repository.clock()) == (7, 5)


def test_only_the_composition_root_binds_the_table_models() -> None:
    """Everything else (handlers, dev tools, benchmarks, tests) asks runwatch.wiring for a bound table."""
    call = re.compile(r"\bmodels\.bind\(|\bimport\s+bind\b")
    found = [
        str(path.relative_to(ROOT))
        for folder in ("layers", "functions", "dev", "bench", "tests")
        for path in (ROOT / folder).rglob("*.py")
        if call.search(path.read_text())
    ]
    assert found == ["layers/runwatch/runwatch/wiring.py"]


# -- ingest and API -----------------------------------------------------------------------------------------


def test_the_queue_consumer_asks_for_step_functions_and_sqs_and_binds_once(
    binds: list[tuple[Any, ...]],
) -> None:
    clients = _Clients()
    settings = IngestSettings.from_env({**TABLE, "REJECTED_QUEUE_URL": "https://sqs.example/q"})

    wiring.build_queue_consumer(settings, clients, counters=_Counters(), logger=Logger(service="test"))

    assert clients.asked == ["stepfunctions", "sqs"]
    assert [_bound_table(call) for call in binds] == [EXPECTED_TABLE]


def test_the_queue_consumer_needs_its_dead_letter_queue(binds: list[tuple[Any, ...]]) -> None:
    clients = _Clients()
    with pytest.raises(ConfigError, match="REJECTED_QUEUE_URL is not set"):
        wiring.build_queue_consumer(
            IngestSettings.from_env(TABLE), clients, counters=_Counters(), logger=Logger(service="test")
        )
    assert clients.asked == []


def test_an_ingestor_describes_state_machines_only_with_a_client_factory(
    binds: list[tuple[Any, ...]],
) -> None:
    clients = _Clients()

    wiring.build_ingestor(IngestSettings.from_env(TABLE), clients)

    assert clients.asked == ["stepfunctions"]
    assert [_bound_table(call) for call in binds] == [EXPECTED_TABLE]


def test_the_api_binds_once(binds: list[tuple[Any, ...]]) -> None:
    wiring.build_api(ApiSettings.from_env({**TABLE, "CORS_ORIGIN": "https://example.com"}))

    assert [_bound_table(call) for call in binds] == [EXPECTED_TABLE]


# -- notifier -----------------------------------------------------------------------------------------------


def _notifier_settings(**env: str) -> NotifierSettings:
    return NotifierSettings.from_env({**TABLE, **env})


def test_local_channels_follow_the_variables_set(binds: list[tuple[Any, ...]]) -> None:
    assert list(wiring.build_local_notifier(_notifier_settings()).channels) == []
    notifier = wiring.build_local_notifier(
        _notifier_settings(
            NOTIFY_SLACK_URL="https://hooks.slack.com/services/T/B/x",
            NOTIFY_WEBHOOK_URL="http://127.0.0.1:9/h",
        )
    )
    assert list(notifier.channels) == ["slack", "webhook"]
    assert [_bound_table(call) for call in binds] == [EXPECTED_TABLE, EXPECTED_TABLE]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"NOTIFY_WEBHOOK_URL": "ftp://secret-host/x"}, "NOTIFY_WEBHOOK_URL must be an http"),
        ({"NOTIFY_SLACK_URL": "hooks.slack.com/services/T/B/x"}, "NOTIFY_SLACK_URL must be an http"),
    ],
)
def test_a_bad_local_url_is_a_config_error_without_the_url(
    binds: list[tuple[Any, ...]], env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        wiring.build_local_notifier(_notifier_settings(**env))
    assert "secret-host" not in str(error.value)


def test_a_bad_rules_file_is_an_error_at_start(binds: list[tuple[Any, ...]], tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - match: {flow: X}\n    channels: [slack, pagerduty]\n")

    with pytest.raises(RulesError, match=r"rules.yaml: rule 0, channels\[1\]: unknown channel 'pagerduty'"):
        wiring.build_local_notifier(_notifier_settings(NOTIFY_RULES=str(rules)))
    with pytest.raises(RulesError, match="cannot read notification rules file"):
        wiring.build_local_notifier(_notifier_settings(NOTIFY_RULES=str(tmp_path / "missing.yaml")))


def test_lambda_asks_only_for_the_clients_its_channels_need(binds: list[tuple[Any, ...]]) -> None:
    clients = _Clients()
    settings = _notifier_settings(
        SLACK_WEBHOOK_SECRET_ARN="", WEBHOOK_SECRET_ARN="", NOTIFY_TOPIC_ARN="arn:aws:sns:us-east-1:1:t"
    )

    notifier = wiring.build_lambda_notifier(settings, clients)

    assert list(notifier.channels) == ["sns"] and clients.asked == ["sns"]
    assert [_bound_table(call) for call in binds] == [EXPECTED_TABLE]

    clients = _Clients()
    settings = _notifier_settings(
        SLACK_WEBHOOK_SECRET_ARN="arn:s", WEBHOOK_SECRET_ARN="arn:w", NOTIFY_RULES_PARAMETER="/r"
    )
    notifier = wiring.build_lambda_notifier(settings, clients)
    assert list(notifier.channels) == ["slack", "webhook"]
    assert clients.asked == ["secretsmanager", "ssm"], "secrets and rules are only read when first needed"


def test_a_lambda_notifier_with_nothing_configured_asks_for_no_client(binds: list[tuple[Any, ...]]) -> None:
    clients = _Clients()
    assert list(wiring.build_lambda_notifier(_notifier_settings(), clients).channels) == []
    assert clients.asked == []


def test_the_lambda_send_budget_covers_the_slowest_delivery(binds: list[tuple[Any, ...]]) -> None:
    settings = _notifier_settings(NOTIFY_HTTP_ATTEMPTS="3", NOTIFY_HTTP_TIMEOUT_SECONDS="5")

    notifier = wiring.build_lambda_notifier(settings, _Clients())

    assert RetryPolicy(attempts=3, timeout=5).worst_case_seconds() == 3 * 5 + 10 + 10
    assert notifier.send_budget == 36.0


@pytest.fixture
def openers_built() -> Callable[[], int]:
    """How many times urllib's opener (it loads the CA certificates) is built from now on."""
    urllib_opener.cache_clear()
    return lambda: urllib_opener.cache_info().misses


SLACK_URL = {"NOTIFY_SLACK_URL": "https://hooks.slack.com/services/T/B/x"}
WEBHOOK_URL = {"NOTIFY_WEBHOOK_URL": "http://127.0.0.1:9/h"}


@pytest.mark.parametrize(
    ("env", "built"),
    [({**SLACK_URL, **WEBHOOK_URL}, 1), (SLACK_URL, 1), (WEBHOOK_URL, 1), ({}, 0)],
    ids=["both", "slack", "webhook", "none"],
)
def test_a_local_notifier_builds_the_https_opener_at_start_only_for_an_http_channel(
    binds: list[tuple[Any, ...]], openers_built: Callable[[], int], env: dict[str, str], built: int
) -> None:
    wiring.build_local_notifier(_notifier_settings(**env))
    assert openers_built() == built


SLACK_SECRET = {"SLACK_WEBHOOK_SECRET_ARN": "arn:s"}
WEBHOOK_SECRET = {"WEBHOOK_SECRET_ARN": "arn:w"}


@pytest.mark.parametrize(
    ("env", "built"),
    [
        ({**SLACK_SECRET, **WEBHOOK_SECRET}, 1),
        (SLACK_SECRET, 1),
        (WEBHOOK_SECRET, 1),
        ({"NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:1:t"}, 0),
        ({}, 0),
    ],
    ids=["both", "slack", "webhook", "sns", "none"],
)
def test_a_lambda_notifier_builds_the_https_opener_at_start_only_for_an_http_channel(
    binds: list[tuple[Any, ...]], openers_built: Callable[[], int], env: dict[str, str], built: int
) -> None:
    wiring.build_lambda_notifier(_notifier_settings(**env), _Clients())
    assert openers_built() == built


def test_links_open_the_configured_dashboard(binds: list[tuple[Any, ...]]) -> None:
    settings = _notifier_settings(DASHBOARD_URL="https://runwatch.example/dev/")
    links = wiring.build_lambda_notifier(settings, _Clients()).links
    assert links.run_page("F", "1") == "https://runwatch.example/dev/#/flows/F/runs/1"


# -- sweeper and backfill -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("reconcile", "asked"), [("on", ["batch", "stepfunctions"]), ("off", [])])
def test_the_sweeper_asks_aws_only_when_it_reconciles(
    binds: list[tuple[Any, ...]], reconcile: str, asked: list[str]
) -> None:
    clients = _Clients()
    settings = SweeperSettings.from_env({**TABLE, "RECONCILE": reconcile, "STUCK_AFTER_MINUTES": "45"})

    sweeper = wiring.build_sweeper(settings, clients, clock=lambda: 0)

    assert clients.asked == asked
    assert (sweeper.jobs is not None, sweeper.executions is not None) == (bool(asked), bool(asked))
    assert sweeper.settings.stuck_after_minutes == 45
    assert [_bound_table(call) for call in binds] == [EXPECTED_TABLE]


class _Credentials:
    def __init__(self, access_key: str) -> None:
        self.access_key = access_key

    def get_frozen_credentials(self) -> _Credentials:
        return self


class _Session:
    """A botocore session stand-in whose credentials have the given access key."""

    def __init__(self, access_key: str) -> None:
        self.access_key = access_key
        self.credentials_asked = 0

    def get_credentials(self) -> _Credentials:
        self.credentials_asked += 1
        return _Credentials(self.access_key)


@pytest.mark.parametrize(("access_key", "reconciles"), [("AKIAEXAMPLEEXAMPLE00", True), ("local", False)])
def test_reconcile_auto_asks_the_functions_own_session_for_credentials(
    binds: list[tuple[Any, ...]], access_key: str, reconciles: bool
) -> None:
    """One session for the check, the table and the clients: its credentials are found once, at start."""
    sessions: list[_Session] = []

    def new_session() -> _Session:
        sessions.append(_Session(access_key))
        return sessions[-1]

    settings = SweeperSettings.from_env({**TABLE, "RECONCILE": "auto"})
    sweeper = wiring.build_sweeper(settings, SessionClients(new_session), clock=lambda: 0)

    assert [session.credentials_asked for session in sessions] == [1]
    assert (sweeper.jobs is not None, sweeper.executions is not None) == (reconciles, reconciles)


def test_backfill_asks_only_for_the_sources_it_reads(binds: list[tuple[Any, ...]]) -> None:
    clients = _Clients()

    runner = wiring.build_backfill(TableSettings.from_env(TABLE), clients, jobs=False)

    assert clients.asked == ["stepfunctions"] and runner.jobs is None
    assert [_bound_table(call) for call in binds] == [EXPECTED_TABLE]


class _Counters:
    def add(self, name: str, value: int = 1) -> None:
        return None
