"""The stream poller's shard handling against a scripted streams client: rollover to child shards (parent
first), expired iterators, and DynamoDB Local's TTL-delete records made to look like AWS's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from runwatch_dev.local.stream_poller import StreamPoller, lambda_shaped

ARN = "arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/1"


class _Errors:
    class ExpiredIteratorException(Exception):
        pass

    class TrimmedDataAccessException(Exception):
        pass


def _record(sequence: int, name: str = "INSERT") -> dict[str, Any]:
    return {
        "eventName": name,
        "dynamodb": {
            "SequenceNumber": f"{sequence:021d}",
            "ApproximateCreationDateTime": datetime(2026, 11, 26, tzinfo=UTC),
            "Keys": {"pk": {"S": f"k{sequence}"}},
        },
    }


@dataclass
class FakeStreams:
    """Shards as lists of records; `closed` shards end after their records. Iterators are (shard, position)."""

    shards: dict[str, list[dict[str, Any]]]
    parents: dict[str, str | None]
    closed: set[str] = field(default_factory=set)
    expire_next: bool = False
    iterator_requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    exceptions: type[_Errors] = _Errors

    def describe_stream(self, StreamArn: str, **_: Any) -> dict[str, Any]:
        shards = []
        for shard_id in self.shards:
            numbers: dict[str, str] = {"StartingSequenceNumber": "0"}
            if shard_id in self.closed:
                numbers["EndingSequenceNumber"] = "9"
            shard: dict[str, Any] = {"ShardId": shard_id, "SequenceNumberRange": numbers}
            if self.parents.get(shard_id):
                shard["ParentShardId"] = self.parents[shard_id]
            shards.append(shard)
        return {"StreamDescription": {"Shards": shards}}

    def get_shard_iterator(
        self, StreamArn: str, ShardId: str, ShardIteratorType: str, **kw: Any
    ) -> dict[str, Any]:
        sequence = kw.get("SequenceNumber")
        self.iterator_requests.append((ShardId, ShardIteratorType, sequence))
        records = self.shards[ShardId]
        if ShardIteratorType == "LATEST":
            position = len(records)
        elif ShardIteratorType == "AFTER_SEQUENCE_NUMBER":
            position = next(
                i + 1 for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] == sequence
            )
        else:
            position = 0
        return {"ShardIterator": f"{ShardId}|{position}"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        if self.expire_next:
            self.expire_next = False
            raise _Errors.ExpiredIteratorException()
        shard_id, position = ShardIterator.split("|")
        records = self.shards[shard_id][int(position) : int(position) + Limit]
        end = int(position) + len(records)
        done = shard_id in self.closed and end >= len(self.shards[shard_id])
        return {"Records": records, **({} if done else {"NextShardIterator": f"{shard_id}|{end}"})}


class FakeDynamoDB:
    def describe_table(self, TableName: str) -> dict[str, Any]:
        return {"Table": {"TableName": TableName, "LatestStreamArn": ARN}}


def _poller(streams: FakeStreams, batches: list[list[dict[str, Any]]]) -> StreamPoller:
    return StreamPoller(FakeDynamoDB(), streams, "t", batches.append, batch_size=2)


def _sequences(batches: list[list[dict[str, Any]]]) -> list[int]:
    return [int(r["dynamodb"]["SequenceNumber"]) for batch in batches for r in batch]


def test_it_starts_at_the_end_and_reads_what_comes_after() -> None:
    streams = FakeStreams({"s1": [_record(1)]}, {"s1": None})
    batches: list[list[dict[str, Any]]] = []
    poller = _poller(streams, batches)
    poller.seek_latest()
    streams.shards["s1"] += [_record(2), _record(3), _record(4)]

    assert poller.poll_once() == 2  # batch_size
    assert poller.poll_once() == 1
    assert poller.poll_once() == 0
    assert _sequences(batches) == [2, 3, 4]


def test_a_closed_shard_is_read_to_its_end_then_its_child_from_the_start() -> None:
    streams = FakeStreams({"s1": []}, {"s1": None})
    batches: list[list[dict[str, Any]]] = []
    poller = _poller(streams, batches)
    poller.seek_latest()
    # Rollover: s1 gets its last record and closes; s2 is its child, already holding records.
    streams.shards["s1"].append(_record(1))
    streams.closed.add("s1")
    streams.shards["s2"] = [_record(2), _record(3)]
    streams.parents["s2"] = "s1"

    poller.poll_once()
    poller.poll_once()

    assert _sequences(batches) == [1, 2, 3]
    assert ("s2", "TRIM_HORIZON", None) in streams.iterator_requests


def test_an_expired_iterator_resumes_after_the_last_record_read() -> None:
    streams = FakeStreams({"s1": []}, {"s1": None})
    batches: list[list[dict[str, Any]]] = []
    poller = _poller(streams, batches)
    poller.seek_latest()
    streams.shards["s1"].append(_record(1))
    poller.poll_once()
    streams.shards["s1"].append(_record(2))
    streams.expire_next = True

    assert poller.poll_once() == 0
    poller.poll_once()

    assert _sequences(batches) == [1, 2]
    assert streams.iterator_requests[-1] == ("s1", "AFTER_SEQUENCE_NUMBER", f"{1:021d}")


def test_records_are_shaped_like_lambdas_and_ttl_deletes_are_removes_by_dynamodb() -> None:
    ttl_delete = _record(7, "UNKNOWN_TO_SDK_VERSION")

    shaped = lambda_shaped(ttl_delete, ARN)

    assert shaped["eventName"] == "REMOVE"
    assert shaped["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert shaped["eventSourceARN"] == ARN
    assert shaped["dynamodb"]["ApproximateCreationDateTime"] == int(
        datetime(2026, 11, 26, tzinfo=UTC).timestamp()
    )
    assert ttl_delete["eventName"] == "UNKNOWN_TO_SDK_VERSION"  # the input is left alone
    assert "userIdentity" not in lambda_shaped(_record(8, "REMOVE"), ARN)
