"""Reading a log stream's tail from CloudWatch Logs: backward paging, bounds and errors.

The paging tests run against a fake with GetLogEvents' documented token behaviour and against moto.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from runwatch.aws.log_streams import LogTailReader
from runwatch.logs.source import (
    InvalidLogToken,
    LogPage,
    LogsAccessDenied,
    LogsThrottled,
    LogStreamNotFound,
    LogsUnavailable,
)
from tests.unit.logs.fake_logs import FakeLogsClient

GROUP, STREAM = "/aws/batch/job", "metaflow_b9c4/default/90d4"
T0 = 1_795_759_310_000


def events(count: int) -> list[tuple[int, str]]:
    return [(T0 + n, f"line {n}") for n in range(count)]


def read_all(reader: LogTailReader, limit: int) -> Iterator[LogPage]:
    page = reader.tail(GROUP, STREAM, limit)
    yield page
    for _ in range(5000):  # a reader that never reaches the start fails here rather than hanging
        if page.older_token is None:
            return
        page = reader.tail(GROUP, STREAM, limit, page.older_token)
        yield page
    raise AssertionError("paging never reached the start of the stream")


def all_messages(reader: LogTailReader, limit: int) -> list[str]:
    pages = list(read_all(reader, limit))
    return [line.message for page in reversed(pages) for line in page.lines]


@pytest.fixture
def moto_logs() -> Iterator[Any]:
    from moto import mock_aws

    with mock_aws():
        import boto3

        client = boto3.client("logs", region_name="us-east-1")
        client.create_log_group(logGroupName=GROUP)
        client.create_log_stream(logGroupName=GROUP, logStreamName=STREAM)
        yield client


def put(client: Any, messages: list[str]) -> None:
    now = int(time.time() * 1000) - 60_000  # moto drops events older than its retention window
    client.put_log_events(
        logGroupName=GROUP,
        logStreamName=STREAM,
        logEvents=[{"timestamp": now + n, "message": m} for n, m in enumerate(messages)],
    )


def test_the_last_lines_oldest_first() -> None:
    reader = LogTailReader(FakeLogsClient({(GROUP, STREAM): events(50)}))
    page = reader.tail(GROUP, STREAM, limit=5)
    assert [line.message for line in page.lines] == [f"line {n}" for n in range(45, 50)]
    assert [line.ts_ms for line in page.lines] == [T0 + n for n in range(45, 50)]
    assert page.older_token is not None
    assert reader.calls == 1


@pytest.mark.parametrize("limit", [1, 7, 100, 250])
def test_a_long_stream_pages_back_with_no_gap_or_repeat(limit: int) -> None:
    reader = LogTailReader(FakeLogsClient({(GROUP, STREAM): events(1234)}))
    assert all_messages(reader, limit) == [f"line {n}" for n in range(1234)]


def test_a_long_stream_in_moto_pages_back_with_no_gap_or_repeat(moto_logs: Any) -> None:
    put(moto_logs, [f"line {n}" for n in range(95)])
    reader = LogTailReader(moto_logs)
    pages = list(read_all(reader, 20))
    assert [len(page.lines) for page in pages][:5] == [20, 20, 20, 20, 15]
    assert all_messages(reader, 20) == [f"line {n}" for n in range(95)]
    assert pages[-1].older_token is None


def test_a_page_ending_exactly_at_the_start_is_followed_by_an_empty_last_page() -> None:
    reader = LogTailReader(FakeLogsClient({(GROUP, STREAM): events(10)}))
    first = reader.tail(GROUP, STREAM, limit=10)
    assert len(first.lines) == 10 and first.older_token is not None
    last = reader.tail(GROUP, STREAM, limit=10, before_token=first.older_token)
    assert last.lines == () and last.older_token is None


def test_the_start_of_the_stream_is_where_the_same_token_comes_back() -> None:
    client = FakeLogsClient({(GROUP, STREAM): events(3)})
    page = LogTailReader(client).tail(GROUP, STREAM, limit=10)
    assert [line.message for line in page.lines] == ["line 0", "line 1", "line 2"]
    assert page.older_token is None
    assert client.requests[-1]["nextToken"] == "b/0"


def test_an_empty_stream_gives_an_empty_page(moto_logs: Any) -> None:
    assert LogTailReader(moto_logs).tail(GROUP, STREAM) == LogPage((), None)


def test_empty_responses_mid_stream_are_read_through() -> None:
    client = FakeLogsClient({(GROUP, STREAM): events(30)})
    client.empty_pages = 2
    page = LogTailReader(client).tail(GROUP, STREAM, limit=5)
    assert [line.message for line in page.lines] == [f"line {n}" for n in range(25, 30)]


def test_a_run_of_empty_responses_ends_the_page_with_a_token_for_the_rest() -> None:
    client = FakeLogsClient({(GROUP, STREAM): events(30)})
    client.empty_pages = 3
    reader = LogTailReader(client, max_calls=3)
    page = reader.tail(GROUP, STREAM, limit=5)
    assert page.lines == () and page.older_token is not None
    assert [line.message for line in reader.tail(GROUP, STREAM, 5, page.older_token).lines] == [
        f"line {n}" for n in range(25, 30)
    ]


def test_a_long_line_is_truncated_to_the_line_bound() -> None:
    stream = [*events(3), (T0 + 3, "é" * 20_000)]
    page = LogTailReader(FakeLogsClient({(GROUP, STREAM): stream}), max_line_bytes=1001).tail(
        GROUP, STREAM, 10
    )
    last = page.lines[-1]
    assert last.truncated and last.message == "é" * 500
    assert not any(line.truncated for line in page.lines[:-1])


@pytest.mark.parametrize("limit", [3, 50])
def test_a_page_never_exceeds_the_byte_bound_and_paging_stays_exact(limit: int) -> None:
    stream = [(T0 + n, f"{n:04d}-" + "x" * (n % 40)) for n in range(300)]
    reader = LogTailReader(FakeLogsClient({(GROUP, STREAM): stream}), max_bytes=400, max_line_bytes=100)
    pages = list(read_all(reader, limit))
    assert all(sum(len(line.message.encode()) for line in page.lines) <= 400 for page in pages)
    # Only the last page may be empty (the previous one ended exactly at the start of the stream).
    assert all(0 < len(page.lines) <= limit for page in pages[:-1]) and len(pages[-1].lines) <= limit
    assert [line.message for page in reversed(pages) for line in page.lines] == [m for _, m in stream]


def test_a_decorated_line_is_undecorated_and_keeps_its_own_time() -> None:
    line = "[MFLOG|0|2026-11-27T06:03:58.123456Z|task|2026-11-27T06:03:58.123456789+00:00]Task is starting."
    page = LogTailReader(FakeLogsClient({(GROUP, STREAM): [(T0, line)]})).tail(GROUP, STREAM)
    assert page.lines[0].message == "Task is starting."
    assert page.lines[0].ts_ms == 1_795_759_438_123


def test_a_missing_stream(moto_logs: Any) -> None:
    with pytest.raises(LogStreamNotFound, match="no/such/stream"):
        LogTailReader(moto_logs).tail(GROUP, "no/such/stream")
    with pytest.raises(LogStreamNotFound):
        LogTailReader(FakeLogsClient()).tail(GROUP, STREAM)


def client_error(code: str, headers: dict[str, str] | None = None) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": "x"},
        "ResponseMetadata": {"HTTPHeaders": headers or {}},
    }
    return ClientError(response, "GetLogEvents")


@pytest.mark.parametrize(
    "code", ["ThrottlingException", "LimitExceededException", "ServiceUnavailableException"]
)
def test_throttling_says_when_to_try_again(code: str) -> None:
    client = FakeLogsClient({(GROUP, STREAM): events(5)})
    client.errors = [client_error(code)]
    with pytest.raises(LogsThrottled) as raised:
        LogTailReader(client).tail(GROUP, STREAM)
    assert raised.value.retry_after_s > 0
    assert code in str(raised.value)


def test_a_retry_after_header_is_the_hint() -> None:
    client = FakeLogsClient({(GROUP, STREAM): events(5)})
    client.errors = [client_error("ThrottlingException", {"retry-after": "7"})]
    with pytest.raises(LogsThrottled) as raised:
        LogTailReader(client).tail(GROUP, STREAM)
    assert raised.value.retry_after_s == 7.0


def test_access_denied_and_other_failures() -> None:
    client = FakeLogsClient({(GROUP, STREAM): events(5)})
    client.errors = [
        client_error("AccessDeniedException"),
        client_error("InternalFailure"),
        EndpointConnectionError(endpoint_url="https://logs.us-east-1.amazonaws.com"),
    ]
    reader = LogTailReader(client)
    with pytest.raises(LogsAccessDenied):
        reader.tail(GROUP, STREAM)
    with pytest.raises(LogsUnavailable, match="InternalFailure"):
        reader.tail(GROUP, STREAM)
    with pytest.raises(LogsUnavailable, match="EndpointConnectionError"):
        reader.tail(GROUP, STREAM)


@pytest.mark.parametrize("token", ["not a token", "", "MXgK", "Mgp4CmIvMA"])
def test_a_token_no_reader_issued_is_rejected(token: str) -> None:
    with pytest.raises(InvalidLogToken):
        LogTailReader(FakeLogsClient({(GROUP, STREAM): events(5)})).tail(GROUP, STREAM, before_token=token)


def test_log_content_never_reaches_logs_or_output(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG"
    client = FakeLogsClient({(GROUP, STREAM): [(T0, secret), *events(3)]})
    with caplog.at_level(logging.DEBUG):
        reader = LogTailReader(client, max_bytes=60)
        pages = list(read_all(reader, 2))
        client.errors = [client_error("ThrottlingException")]
        with pytest.raises(LogsThrottled) as raised:
            reader.tail(GROUP, STREAM)
    assert any(line.message == secret for page in pages for line in page.lines)
    captured = capsys.readouterr()
    assert secret not in caplog.text + captured.out + captured.err + str(raised.value)
