"""The notifier Lambda handler on a stream event: channels from Secrets Manager, SNS and SSM rules (moto),
the table in DynamoDB Local, partial batch responses naming the records to retry."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from runwatch.notify.webhook import SIGNATURE_HEADER, verify
from runwatch.services.ingest import Ingestor
from runwatch.store.repository import StatusRepository
from runwatch_dev.local.synth import RunSpec, simulate_run
from tests.fakes.receiver import Receiver
from tests.integration.notify.conftest import StreamReader

APP = Path(__file__).resolve().parents[3] / "functions" / "notifier" / "app.py"
T0 = 1_795_000_000_000
KEY = "function-signing-key"


class Context:
    function_name = "runwatch-notifier"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:runwatch-notifier"
    memory_limit_in_mb = 256
    aws_request_id = "req-1"
    log_group_name = "/aws/lambda/runwatch-notifier"
    log_stream_name = "stream"

    def __init__(self, seconds_left: float = 100.0) -> None:
        self.seconds_left = seconds_left

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds_left * 1000)


def _lambda_event(records: list[dict[str, Any]], stream_arn: str) -> dict[str, Any]:
    """What Lambda delivers: the same records, with the creation time as epoch seconds."""
    converted = []
    for record in records:
        dynamodb = dict(record["dynamodb"])
        dynamodb["ApproximateCreationDateTime"] = dynamodb["ApproximateCreationDateTime"].timestamp()
        converted.append(
            {**record, "dynamodb": dynamodb, "eventSourceARN": stream_arn, "awsRegion": "us-east-1"}
        )
    return {"Records": converted}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, table_name: str, receiver: Receiver) -> Iterator[dict[str, Any]]:
    with mock_aws(config={"core": {"passthrough": {"services": ["dynamodb", "dynamodbstreams"]}}}):  # type: ignore[typeddict-item]
        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        hook = secrets.create_secret(
            Name="hook", SecretString=json.dumps({"url": receiver.url("/hook"), "secret": KEY})
        )
        sns = boto3.client("sns", region_name="us-east-1")
        topic = sns.create_topic(Name="runwatch-notifications")["TopicArn"]
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue = sqs.create_queue(QueueName="subscriber")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name="/runwatch/dev/notify-rules", Value='{"rules": []}', Type="String")
        for name, value in {
            "WEBHOOK_SECRET_ARN": hook["ARN"],
            "SLACK_WEBHOOK_SECRET_ARN": "",
            "NOTIFY_TOPIC_ARN": topic,
            "NOTIFY_RULES_PARAMETER": "/runwatch/dev/notify-rules",
            "DASHBOARD_URL": "https://api.example.com/dev/",
            "NOTIFY_HTTP_ATTEMPTS": "2",
            # The synthetic runs are dated November 2026; the age rule has its own tests.
            "NOTIFY_MAX_AGE_MINUTES": str(10 * 365 * 24 * 60),
        }.items():
            monkeypatch.setenv(name, value)
        yield {"sqs": sqs, "queue": queue}


def _load_handler() -> ModuleType:
    spec = importlib.util.spec_from_file_location("notifier_app_under_test", APP)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_handler_sends_once_per_channel_and_reports_records_to_retry(
    aws: dict[str, Any],
    repository: StatusRepository,
    stream: StreamReader,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ingestor = Ingestor(repository)
    for event in simulate_run(
        RunSpec("LambdaFlow", "7", fanout=3, max_retries=0, start_ms=T0, outcomes={"train": {1: ["oom"]}})
    ):
        ingestor.ingest(event)
    event = _lambda_event(stream.read(), stream.arn)
    app = _load_handler()
    receiver.script(500, 500)  # the webhook fails both attempts: SNS is sent, the webhook is retried later

    first = app.handler(event, Context())

    (failed,) = first["batchItemFailures"]
    run_changes = [r for r in event["Records"] if r["dynamodb"]["Keys"]["sk"]["S"] == "#RUN"]
    assert failed["itemIdentifier"] in {r["dynamodb"]["SequenceNumber"] for r in run_changes}
    assert (
        len(aws["sqs"].receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10).get("Messages", []))
        == 1
    )

    second = app.handler(event, Context())

    assert second == {"batchItemFailures": []}
    assert aws["sqs"].receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10).get("Messages", []) == []
    delivered = receiver.requests[-1]
    assert len(receiver.requests) == 3 and delivered.json()["type"] == "run.failed"
    assert verify(
        KEY,
        delivered.headers[SIGNATURE_HEADER],
        delivered.body,
        now=int(delivered.headers[SIGNATURE_HEADER][2:12]),
    )
    logs = "\n".join(str(vars(record)) for record in caplog.records)
    assert "notification failed" in logs and "http://127.0.0.1:" in logs
    assert "/hook" not in logs and KEY not in logs, "the URL's path and the signing key never reach the logs"


def test_handler_does_not_start_a_send_it_may_not_finish(
    aws: dict[str, Any], repository: StatusRepository, stream: StreamReader, receiver: Receiver
) -> None:
    ingestor = Ingestor(repository)
    for event in simulate_run(
        RunSpec("LateFlow", "8", fanout=1, max_retries=0, start_ms=T0, outcomes={"end": {0: ["user_code"]}})
    ):
        ingestor.ingest(event)
    event = _lambda_event(stream.read(), stream.arn)
    app = _load_handler()

    result = app.handler(event, Context(seconds_left=3))

    assert len(result["batchItemFailures"]) == 1
    assert receiver.requests == []
    assert app.handler(event, Context())["batchItemFailures"] == []
    assert len(receiver.requests) == 1
