"""DynamoDB Streams record -> the table items before and after the change, decoded by the PynamoDB models.

Accepts both shapes of a record: the Lambda event's (`eventName`, `dynamodb.NewImage`, ...) and the one
boto3's `dynamodbstreams.get_records` returns (the same keys; only the creation time's type differs and it
is not used), so the local stack and Lambda share one code path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runwatch.store.models import TableItem


class UndecodableRecord(ValueError):
    """A stream record whose images are not items of this table (never retried into success)."""


@dataclass(frozen=True, slots=True)
class StreamChange:
    event_name: str
    sequence_number: str
    old: TableItem | None
    new: TableItem | None


def _decode(image: Mapping[str, Any] | None) -> TableItem | None:
    if not image:
        return None
    try:
        return TableItem.from_raw_data(dict(image))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        kind = image.get("kind", {}).get("S") if isinstance(image.get("kind"), Mapping) else None
        raise UndecodableRecord(f"cannot decode a {kind or 'kind-less'} item: {type(exc).__name__}") from None


def decode_record(record: Mapping[str, Any]) -> StreamChange:
    """Both images as model instances (RunItem, TaskItem, MarkerItem, ... picked by `kind`)."""
    stream = record.get("dynamodb") or {}
    return StreamChange(
        event_name=str(record.get("eventName") or ""),
        sequence_number=sequence_number(record),
        old=_decode(stream.get("OldImage")),
        new=_decode(stream.get("NewImage")),
    )


def sequence_number(record: Mapping[str, Any]) -> str:
    stream = record.get("dynamodb") or {}
    return str(stream.get("SequenceNumber") or record.get("eventID") or "")
