"""Partial batch responses: a failed record is reported (and logged) alone, a batch that failed entirely
fails as a whole, and an event without records is refused."""

from __future__ import annotations

from typing import Any

import pytest

from runwatch.partial_batch import (
    EntireBatchFailed,
    Record,
    partial_batch_response,
    sqs_message_id,
    stream_sequence_number,
)


class _Log:
    def __init__(self) -> None:
        self.warnings: list[tuple[Any, ...]] = []

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self.warnings.append((msg % args, kwargs.get("exc_info")))


def _fail_on(bad: set[str]) -> Any:
    handled: list[str] = []

    def handle(record: Record) -> None:
        handled.append(record["body"])
        if record["body"] in bad:
            raise RuntimeError(f"cannot apply {record['body']}")

    handle.handled = handled  # type: ignore[attr-defined]
    return handle


def _sqs(*bodies: str) -> dict[str, Any]:
    return {"Records": [{"messageId": f"m-{n}", "body": body} for n, body in enumerate(bodies)]}


def test_only_the_failed_records_are_reported_and_every_record_is_handled() -> None:
    handle, log = _fail_on({"b"}), _Log()
    response = partial_batch_response(_sqs("a", "b", "c"), handle, sqs_message_id, log)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert handle.handled == ["a", "b", "c"]
    assert log.warnings == [("record m-1 failed; it will be retried", True)]


def test_a_batch_whose_records_all_failed_fails_whole() -> None:
    with pytest.raises(EntireBatchFailed, match="all 2 records"):
        partial_batch_response(_sqs("a", "b"), _fail_on({"a", "b"}), sqs_message_id, _Log())


def test_an_empty_batch_succeeds_and_an_event_without_records_is_refused() -> None:
    assert partial_batch_response({"Records": []}, _fail_on(set()), sqs_message_id, _Log()) == {
        "batchItemFailures": []
    }
    with pytest.raises(ValueError, match="no Records"):
        partial_batch_response({"detail": {}}, _fail_on(set()), sqs_message_id, _Log())


def test_stream_records_are_identified_by_their_sequence_number() -> None:
    event = {
        "Records": [
            {"dynamodb": {"SequenceNumber": "100"}, "body": "x"},
            {"dynamodb": {"SequenceNumber": "200"}, "body": "y"},
        ]
    }
    response = partial_batch_response(event, _fail_on({"y"}), stream_sequence_number, _Log())
    assert response == {"batchItemFailures": [{"itemIdentifier": "200"}]}
