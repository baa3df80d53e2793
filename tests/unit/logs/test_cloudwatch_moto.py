"""LogTailReader against moto's CloudWatch Logs: a long stream read back over several GetLogEvents pages,
a missing stream, and a throttled call, through the real boto3 client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from runwatch.aws.log_streams import LogTailReader
from runwatch.logs.source import LogsThrottled, LogStreamNotFound

GROUP, STREAM = "/aws/batch/job", "metaflow/default/long"
T0 = 1_795_000_000_000


@pytest.fixture
def logs() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("logs", region_name="us-east-1")
        client.create_log_group(logGroupName=GROUP)
        client.create_log_stream(logGroupName=GROUP, logStreamName=STREAM)
        yield client


def _put(client: Any, count: int) -> list[str]:
    messages = [f"line {n:05d}" for n in range(count)]
    for start in range(0, count, 5_000):
        client.put_log_events(
            logGroupName=GROUP,
            logStreamName=STREAM,
            logEvents=[
                {"timestamp": T0 + n, "message": messages[n]} for n in range(start, min(count, start + 5_000))
            ],
        )
    return messages


def test_a_long_stream_is_read_back_to_its_start_without_gap_or_repeat(logs: Any) -> None:
    messages = _put(logs, 12_345)
    reader = LogTailReader(logs)

    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        page = reader.tail(GROUP, STREAM, limit=1000, before_token=token)
        pages += 1
        assert 0 < len(page.lines) <= 1000
        seen[:0] = [line.message for line in page.lines]
        token = page.older_token
        if token is None:
            break

    assert seen == messages
    assert pages == 13
    assert page.lines[0].ts_ms == T0


def test_the_newest_lines_come_first(logs: Any) -> None:
    messages = _put(logs, 300)
    page = LogTailReader(logs).tail(GROUP, STREAM)
    assert [line.message for line in page.lines] == messages[-200:]
    assert page.older_token is not None


def test_a_missing_stream_is_not_found(logs: Any) -> None:
    with pytest.raises(LogStreamNotFound):
        LogTailReader(logs).tail(GROUP, "no/such/stream")
    with pytest.raises(LogStreamNotFound):
        LogTailReader(logs).tail("/no/such/group", STREAM)


class _ThrottledOnce:
    """The moto client, except that its first GetLogEvents is throttled as CloudWatch does."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.throttled = False

    def get_log_events(self, **kwargs: Any) -> Any:
        if not self.throttled:
            self.throttled = True
            response = {
                "Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
                "ResponseMetadata": {"HTTPHeaders": {"retry-after": "3"}},
            }
            raise ClientError(response, "GetLogEvents")  # type: ignore[arg-type]
        return self.client.get_log_events(**kwargs)


def test_throttling_is_reported_with_its_wait_and_the_next_call_succeeds(logs: Any) -> None:
    _put(logs, 10)
    reader = LogTailReader(_ThrottledOnce(logs))

    with pytest.raises(LogsThrottled) as error:
        reader.tail(GROUP, STREAM)
    assert error.value.retry_after_s == 3.0
    assert "Rate exceeded" not in str(error.value)
    assert len(reader.tail(GROUP, STREAM).lines) == 10
