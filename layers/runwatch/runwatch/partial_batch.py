"""Partial batch responses for Lambda's SQS and DynamoDB stream event sources: only failed records retry.

Each record is handed to the handler on its own; one that raises is reported in `batchItemFailures` (its
SQS message id, or its stream sequence number) and logged, and the others count as done. When every record
failed, the batch fails as a whole (EntireBatchFailed), so the event source retries it as it would a crash.
This is the contract of Powertools' BatchProcessor in a page; loading that utility (its record classes and
parser models) was about an eighth of the ingest function's cold start.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypedDict


class ItemFailure(TypedDict):
    itemIdentifier: str


class PartialBatchResponse(TypedDict):
    batchItemFailures: list[ItemFailure]


class EntireBatchFailed(Exception):
    """Every record of the batch failed: the whole batch is retried."""


class WarningLog(Protocol):
    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None: ...


Record = Mapping[str, Any]


def sqs_message_id(record: Record) -> str:
    return str(record["messageId"])


def stream_sequence_number(record: Record) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def records_of(event: Mapping[str, Any]) -> Sequence[Record]:
    """The event's records; a trigger event without them is a wiring mistake, named as such."""
    records = event.get("Records")
    if not isinstance(records, list):
        raise ValueError("not a batch event: it has no Records list")
    return records


def partial_batch_response(
    event: Mapping[str, Any],
    handle: Callable[[Record], object],
    identifier: Callable[[Record], str],
    logger: WarningLog,
) -> PartialBatchResponse:
    """Handle every record of `event`; the failed ones are returned for the event source to retry."""
    records = records_of(event)
    failures: list[ItemFailure] = []
    for record in records:
        try:
            handle(record)
        except Exception:  # any failure of one record: retried alone, the others are done
            logger.warning("record %s failed; it will be retried", identifier(record), exc_info=True)
            failures.append({"itemIdentifier": identifier(record)})
    if records and len(failures) == len(records):
        raise EntireBatchFailed(f"all {len(records)} records of the batch failed")
    return {"batchItemFailures": failures}
