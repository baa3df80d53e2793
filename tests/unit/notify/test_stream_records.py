"""Stream records in both shapes decode to domain objects; foreign or broken items are rejected."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from runwatch.domain.markers import Marker
from runwatch.domain.run_state import RunKey, RunState
from runwatch.services.notify import Notifier, RejectedRecord
from runwatch.store.repository import StatusRepository
from runwatch.store.stream import UndecodableRecord, decode_record

RUN_IMAGE = {
    "pk": {"S": "RUN#123456789012#us-east-1#F#1"},
    "sk": {"S": "#RUN"},
    "kind": {"S": "run"},
    "version": {"N": "3"},
    "status": {"S": "failed"},
    "flow": {"S": "F"},
    "run_id": {"S": "1"},
    "account": {"S": "123456789012"},
    "region": {"S": "us-east-1"},
    "orchestrator": {"S": "batch"},
    "tags": {"L": [{"S": "team:ml"}]},
    "failures": {
        "L": [
            {
                "M": {
                    "at": {"N": "5"},
                    "step": {"S": "train"},
                    "task_id": {"S": "2"},
                    "attempt": {"N": "0"},
                    "failure_class": {"S": "oom"},
                }
            }
        ]
    },
}
RUNNING_IMAGE = {**RUN_IMAGE, "status": {"S": "running"}, "failures": {"L": []}}


def _record(new: dict, old: dict | None = None, when: object = 1_795_000_000.0) -> dict:
    dynamodb = {
        "Keys": {"pk": new["pk"], "sk": new["sk"]},
        "NewImage": new,
        "SequenceNumber": "42",
        "ApproximateCreationDateTime": when,
    }
    if old:
        dynamodb["OldImage"] = old
    return {"eventID": "e1", "eventName": "MODIFY" if old else "INSERT", "dynamodb": dynamodb}


def test_lambda_and_boto3_shapes_decode_alike() -> None:
    from_lambda = decode_record(_record(RUN_IMAGE, RUNNING_IMAGE))
    from_boto3 = decode_record(_record(RUN_IMAGE, RUNNING_IMAGE, datetime.now(tz=UTC)))

    for change in (from_lambda, from_boto3):
        assert isinstance(change.new, RunState) and isinstance(change.old, RunState)
        assert change.new.key == RunKey("F", "1", account="123456789012", region="us-east-1")
        assert (change.old.status, change.new.status, change.new.tags) == ("running", "failed", ("team:ml",))
        assert change.sequence_number == "42" and change.event_name == "MODIFY"


def test_markers_decode_and_removals_have_no_new_image() -> None:
    marker = {
        "pk": {"S": "MARK#alert#F#1"},
        "sk": {"S": "run.late#x"},
        "kind": {"S": "marker"},
        "created_at": {"N": "1"},
    }
    assert decode_record(_record(marker)).new == Marker("alert", "F#1", "run.late#x", created_at=1)

    removal = {"eventName": "REMOVE", "dynamodb": {"OldImage": marker, "SequenceNumber": "9"}}
    change = decode_record(removal)
    assert change.new is None and isinstance(change.old, Marker)


def test_an_unknown_kind_is_undecodable_and_the_notifier_rejects_it() -> None:
    broken = _record({**RUN_IMAGE, "kind": {"S": "spaceship"}})

    with pytest.raises(UndecodableRecord, match="cannot decode a spaceship item"):
        decode_record(broken)
    notifier = Notifier(StatusRepository(), [], rules=lambda: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(RejectedRecord):
        notifier.handle_record(broken)
    (failure,) = notifier.handle_stream_records([broken])
    assert failure.sequence_number == "42" and "spaceship" in failure.reason


def test_deletions_are_ignored_including_dynamodb_locals_ttl_records() -> None:
    # DynamoDB Local names a TTL deletion UNKNOWN_TO_SDK_VERSION (AWS: REMOVE); neither has a new image.
    ttl_delete = {
        "eventName": "UNKNOWN_TO_SDK_VERSION",
        "dynamodb": {"OldImage": RUN_IMAGE, "SequenceNumber": "7"},
    }
    notifier = Notifier(StatusRepository(), [], rules=lambda: None)  # type: ignore[arg-type,return-value]

    assert notifier.handle_record(ttl_delete) == 0
    assert notifier.handle_stream_records([ttl_delete, {**ttl_delete, "eventName": "REMOVE"}]) == []
