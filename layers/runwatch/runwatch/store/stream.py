"""DynamoDB Streams record -> what the item was before and after the change, as domain objects.

Images are decoded by the table's models (picked by `kind`) and handed out as domain states: a run as its
RunState, a task as its TaskState, a marker as a Marker. Other kinds (flow entries, state machine verdicts,
parked events) decode to None: nothing downstream reads them from the stream.

Accepts both shapes of a record: the Lambda event's (`eventName`, `dynamodb.NewImage`, ...) and the one
boto3's `dynamodbstreams.get_records` returns (the same keys; only the creation time's type differs and it
is not used), so the local stack and Lambda share one code path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runwatch.domain.markers import Marker
from runwatch.domain.run_state import RunState
from runwatch.domain.task_state import TaskState
from runwatch.store.models import MarkerItem, RunItem, TableItem, TaskItem
from runwatch.store.records import marker_from_item, run_from_item, task_from_item

StoredState = RunState | TaskState | Marker


class UndecodableRecord(ValueError):
    """A stream record whose images are not items of this table (never retried into success)."""


@dataclass(frozen=True, slots=True)
class StreamChange:
    event_name: str
    sequence_number: str
    old: StoredState | None
    new: StoredState | None
    quiet: bool = False  # the write asked not to notify (a backfill without --notify)


def _state_of(item: TableItem) -> StoredState | None:
    if isinstance(item, RunItem):
        return run_from_item(item)
    if isinstance(item, TaskItem):
        return task_from_item(item)
    if isinstance(item, MarkerItem):
        return marker_from_item(item)
    return None


def _decode(image: Mapping[str, Any] | None) -> StoredState | None:
    if not image:
        return None
    try:
        return _state_of(TableItem.from_raw_data(dict(image)))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        kind = image.get("kind", {}).get("S") if isinstance(image.get("kind"), Mapping) else None
        raise UndecodableRecord(f"cannot decode a {kind or 'kind-less'} item: {type(exc).__name__}") from None


def decode_record(record: Mapping[str, Any]) -> StreamChange:
    """Both images as domain objects (RunState, TaskState, Marker, picked by the item's `kind`)."""
    stream = record.get("dynamodb") or {}
    return StreamChange(
        event_name=str(record.get("eventName") or ""),
        sequence_number=sequence_number(record),
        old=_decode(stream.get("OldImage")),
        new=_decode(stream.get("NewImage")),
        quiet=_is_quiet(stream.get("NewImage")),
    )


def _is_quiet(image: Mapping[str, Any] | None) -> bool:
    flag = (image or {}).get("quiet")
    return isinstance(flag, Mapping) and flag.get("BOOL") is True


def sequence_number(record: Mapping[str, Any]) -> str:
    stream = record.get("dynamodb") or {}
    return str(stream.get("SequenceNumber") or record.get("eventID") or "")
