"""The built notifier function, invoked with the stream batches in events/notifier (what `sam local invoke`
uses): a real webhook receiver on 127.0.0.1, its URL and key in Secrets Manager (moto's server), the
notification markers in DynamoDB Local."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runwatch.notify.webhook import SIGNATURE_HEADER, verify
from runwatch_dev.local.dynamodb_local import DynamoDBLocal
from tests.build.built import invoke_built
from tests.build.moto_server import client, moto_server
from tests.fakes.receiver import Receiver

EVENTS = Path(__file__).resolve().parents[2] / "events" / "notifier"
SIGNING_KEY = "built-notifier-key"


def _event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def env(table_name: str, dynamodb_local: DynamoDBLocal, receiver: Receiver) -> Iterator[dict[str, str]]:
    with moto_server() as endpoint:
        secret = client("secretsmanager", endpoint).create_secret(
            Name=f"runwatch/webhook-{uuid.uuid4()}",
            SecretString=json.dumps({"url": receiver.url("/hook"), "secret": SIGNING_KEY}),
        )
        yield {
            "TABLE_NAME": table_name,
            "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_local.endpoint,
            "AWS_ENDPOINT_URL": endpoint,
            "WEBHOOK_SECRET_ARN": secret["ARN"],
            # The sample stream records are dated November 2026; the age rule has its own tests.
            "NOTIFY_MAX_AGE_MINUTES": str(10 * 365 * 24 * 60),
        }


def test_every_notifier_event_is_accepted_by_the_built_function(
    env: dict[str, str], receiver: Receiver
) -> None:
    names = sorted(path.name for path in EVENTS.glob("*.json"))
    assert len(names) >= 4, names
    for name in names:
        assert invoke_built("NotifierFunction", _event(name), env) == {"batchItemFailures": []}, name


def test_a_run_turning_failed_is_sent_once_and_signed(env: dict[str, str], receiver: Receiver) -> None:
    first = invoke_built("NotifierFunction", _event("stream_run_failed.json"), env)
    again = invoke_built("NotifierFunction", _event("stream_run_failed.json"), env)

    assert first == again == {"batchItemFailures": []}
    (request,) = receiver.requests
    body = request.json()
    assert (body["type"], body["flow"], body["status"]) == ("run.failed", "ScoringFlow", "failed")
    assert verify(SIGNING_KEY, request.headers[SIGNATURE_HEADER], request.body, now=time.time())


def test_an_alert_marker_is_sent_and_a_change_that_notifies_nobody_is_not(
    env: dict[str, str], receiver: Receiver
) -> None:
    invoke_built("NotifierFunction", _event("stream_unchanged.json"), env)
    assert receiver.requests == []

    invoke_built("NotifierFunction", _event("stream_alert_marker.json"), env)

    (request,) = receiver.requests
    assert request.json()["type"] == "task.stuck"
