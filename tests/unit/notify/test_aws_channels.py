"""SNS publishing and webhook endpoints from Secrets Manager (moto), with secrets kept out of errors."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from runwatch.notify.delivery import DeliveryFailed
from runwatch.notify.secrets import SecretUnavailable, secrets_manager_endpoint
from runwatch.notify.sns import SnsChannel, subject, text
from tests.unit.notify.samples import failed_run

SLACK_URL = "https://hooks.slack.com/services/T000/B000/abcdefghijklmnop"


def _sqs_subscribed(sns: object, topic_arn: str) -> tuple[object, str]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName="notifications")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)  # type: ignore[attr-defined]
    return sqs, queue_url


@mock_aws
def test_sns_gets_a_subject_a_readable_message_and_filterable_attributes() -> None:
    sns = boto3.client("sns", region_name="us-east-1")
    topic = sns.create_topic(Name="runwatch-notifications")["TopicArn"]
    sqs, queue_url = _sqs_subscribed(sns, topic)

    SnsChannel(sns, topic).send(failed_run())

    (message,) = sqs.receive_message(QueueUrl=queue_url)["Messages"]  # type: ignore[attr-defined]
    envelope = json.loads(message["Body"])
    assert envelope["Subject"] == "[runwatch] TrainFlow/1795000000000123 failed"
    assert "Failure: oom in train/17 attempt 2, exit code 137" in envelope["Message"]
    assert "199 other task(s) failed or were killed." in envelope["Message"]
    assert (
        "dashboard: https://runwatch.example.com/#/flows/TrainFlow/runs/1795000000000123"
        in envelope["Message"]
    )
    assert envelope["MessageAttributes"]["type"] == {"Type": "String", "Value": "run.failed"}
    assert envelope["MessageAttributes"]["severity"] == {"Type": "String", "Value": "high"}


def test_sns_subject_is_short_printable_ascii() -> None:
    long = subject(failed_run(flow="Flöw\n" + "x" * 300))

    assert len(long) < 100 and long.isascii() and long.isprintable()
    assert text(failed_run(failure=None, message="late")).startswith("TrainFlow/1795000000000123 failed\n")


@mock_aws
def test_a_failed_publish_names_the_error_code_only() -> None:
    sns = boto3.client("sns", region_name="us-east-1")

    with pytest.raises(DeliveryFailed, match=r"sns: publish failed \(NotFound\)"):
        SnsChannel(sns, "arn:aws:sns:us-east-1:123456789012:missing").send(failed_run())


@mock_aws
def test_endpoints_come_from_secrets_manager_and_are_cached() -> None:
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    slack_arn = secrets.create_secret(Name="slack", SecretString=SLACK_URL)["ARN"]
    hook_arn = secrets.create_secret(
        Name="hook", SecretString=json.dumps({"url": "https://hooks.example.com/in", "secret": "k1"})
    )["ARN"]
    slack = secrets_manager_endpoint(secrets, slack_arn, "Slack webhook")
    hook = secrets_manager_endpoint(secrets, hook_arn, "webhook", needs_signing_key=True, ttl=300)
    uncached = secrets_manager_endpoint(secrets, hook_arn, "webhook", needs_signing_key=True, ttl=0)

    assert slack.get().url == SLACK_URL and slack.get().secret is None
    assert (hook.get().url, hook.get().secret) == ("https://hooks.example.com/in", "k1")
    assert "abcdefghijklmnop" not in repr(slack.get())

    secrets.put_secret_value(
        SecretId=hook_arn, SecretString=json.dumps({"url": "https://hooks.example.com/in", "secret": "k2"})
    )
    assert hook.get().secret == "k1", "cached for the TTL"
    assert uncached.get().secret == "k2", "a rotated key is picked up once the TTL is over"


@mock_aws
@pytest.mark.parametrize(
    ("value", "needs_key", "message"),
    [
        ("not a url", False, r"Slack webhook url must be an http\(s\) URL with a host"),
        ('{"url": "https://h.example.com/x"}', True, "has no signing key"),
        ('{"secret": "s3cr3t-value"}', True, "has no url"),
        ('{"url": "ftp://s3cr3t-value@h/x", "secret": "k"}', True, r"must be an http\(s\) URL"),
        ("{broken s3cr3t-value", True, "not valid JSON"),
    ],
)
def test_bad_secrets_are_reported_without_their_value(value: str, needs_key: bool, message: str) -> None:
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    arn = secrets.create_secret(Name="s", SecretString=value)["ARN"]

    with pytest.raises(SecretUnavailable, match=message) as error:
        secrets_manager_endpoint(secrets, arn, "Slack webhook", needs_signing_key=needs_key).get()

    assert "s3cr3t-value" not in str(error.value) and "not a url" not in str(error.value)


@mock_aws
def test_a_missing_secret_is_reported_by_code() -> None:
    secrets = boto3.client("secretsmanager", region_name="us-east-1")

    with pytest.raises(SecretUnavailable, match=r"webhook: cannot read secret \(ResourceNotFoundException\)"):
        secrets_manager_endpoint(
            secrets, "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone", "webhook"
        ).get()
