"""Reads the status table's DynamoDB stream on DynamoDB Local and hands record batches to a callback.

The local stand-in for Lambda's stream event source mapping: describe_table -> LatestStreamArn, the
stream's shards, get_shard_iterator / get_records in a loop. Open shards are read from LATEST at start (what
happened before the stack started was notified then, if ever); a shard that closes (rollover) is read to its
end and its children from TRIM_HORIZON, parents before children, as Lambda does. An expired iterator is
renewed after the last record read.

Records are made to look like Lambda's: the creation time as epoch seconds, `eventSourceARN` set, and
DynamoDB Local's TTL deletes (`eventName` UNKNOWN_TO_SDK_VERSION, no userIdentity) turned into the REMOVE
by the DynamoDB service principal that AWS sends for them.

Unlike Lambda, a batch the callback fails on is logged and not retried (the notifier retries delivery
itself); polling goes on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

TTL_DELETE_EVENT_NAME = "UNKNOWN_TO_SDK_VERSION"
TTL_PRINCIPAL = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

RecordsCallback = Callable[[list[dict[str, Any]]], None]


def lambda_shaped(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """A get_records record as Lambda's DynamoDB stream event carries it."""
    shaped = dict(record)
    stream = dict(shaped.get("dynamodb") or {})
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        stream["ApproximateCreationDateTime"] = int(created.timestamp())
    shaped["dynamodb"] = stream
    shaped.setdefault("eventSourceARN", stream_arn)
    if shaped.get("eventName") == TTL_DELETE_EVENT_NAME:
        shaped["eventName"] = "REMOVE"
        shaped["userIdentity"] = dict(TTL_PRINCIPAL)
    return shaped


@dataclass
class _Shard:
    shard_id: str
    parent_id: str | None
    iterator: str | None = None
    last_sequence: str | None = None
    finished: bool = False


class StreamPoller:
    def __init__(
        self,
        dynamodb: Any,
        streams: Any,
        table_name: str,
        on_records: RecordsCallback,
        *,
        poll_interval: float = 0.5,
        batch_size: int = 100,
        logger: Logger | None = None,
    ) -> None:
        self._dynamodb = dynamodb
        self._streams = streams
        self.table_name = table_name
        self._on_records = on_records
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self._log = logger or Logger(service="runwatch")
        self.stream_arn: str | None = None
        self._shards: dict[str, _Shard] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- position ------------------------------------------------------------------------------------------
    def seek_latest(self) -> None:
        """Start at the stream's current end: open shards from LATEST, closed ones count as read."""
        table = self._dynamodb.describe_table(TableName=self.table_name)["Table"]
        arn = table.get("LatestStreamArn")
        if not arn:
            raise RuntimeError(f"table {self.table_name} has no stream; template.yaml declares one")
        self.stream_arn = arn
        self._shards = {}
        for shard in self._describe_shards():
            state = _Shard(shard["ShardId"], shard.get("ParentShardId"))
            if "EndingSequenceNumber" in shard.get("SequenceNumberRange", {}):
                state.finished = True
            else:
                state.iterator = self._iterator(state.shard_id, "LATEST")
            self._shards[state.shard_id] = state

    def _describe_shards(self) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        request: dict[str, Any] = {"StreamArn": self.stream_arn}
        while True:
            description = self._streams.describe_stream(**request)["StreamDescription"]
            shards.extend(description.get("Shards", []))
            last = description.get("LastEvaluatedShardId")
            if not last:
                return shards
            request["ExclusiveStartShardId"] = last

    def _iterator(self, shard_id: str, kind: str, sequence: str | None = None) -> str | None:
        request: dict[str, Any] = {
            "StreamArn": self.stream_arn,
            "ShardId": shard_id,
            "ShardIteratorType": kind,
        }
        if sequence is not None:
            request["SequenceNumber"] = sequence
        iterator: str | None = self._streams.get_shard_iterator(**request).get("ShardIterator")
        return iterator

    def _discover(self) -> None:
        """Track shards that appeared since (children of a closed shard), read from their start."""
        for shard in self._describe_shards():
            if shard["ShardId"] not in self._shards:
                self._shards[shard["ShardId"]] = _Shard(shard["ShardId"], shard.get("ParentShardId"))

    def _ready(self, shard: _Shard) -> bool:
        if shard.finished:
            return False
        parent = self._shards.get(shard.parent_id) if shard.parent_id else None
        return parent is None or parent.finished

    # -- reading -------------------------------------------------------------------------------------------
    def poll_once(self) -> int:
        """Read every readable shard once; returns the number of records handed to the callback."""
        if self.stream_arn is None:
            self.seek_latest()
        delivered = 0
        closed = False
        for shard in [s for s in self._shards.values() if self._ready(s)]:
            if shard.iterator is None:
                shard.iterator = self._iterator(shard.shard_id, "TRIM_HORIZON")
            records, shard.iterator = self._get_records(shard)
            if records:
                shard.last_sequence = str(records[-1]["dynamodb"]["SequenceNumber"])
                delivered += len(records)
                self._deliver([lambda_shaped(r, self.stream_arn or "") for r in records])
            if shard.iterator is None:  # the shard is closed and read to its end
                shard.finished = True
                closed = True
        if closed:
            self._discover()
        return delivered

    def _get_records(self, shard: _Shard) -> tuple[list[dict[str, Any]], str | None]:
        errors = self._streams.exceptions
        try:
            response = self._streams.get_records(ShardIterator=shard.iterator, Limit=self.batch_size)
        except errors.ExpiredIteratorException:
            kind = "AFTER_SEQUENCE_NUMBER" if shard.last_sequence else "LATEST"
            self._log.info("stream iterator expired", shard_id=shard.shard_id)
            return [], self._iterator(shard.shard_id, kind, shard.last_sequence)
        except errors.TrimmedDataAccessException:
            self._log.warning("stream records trimmed before they were read", shard_id=shard.shard_id)
            return [], self._iterator(shard.shard_id, "TRIM_HORIZON")
        records: list[dict[str, Any]] = response.get("Records", [])
        return records, response.get("NextShardIterator")

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        try:
            self._on_records(records)
        except Exception:
            self._log.exception("stream batch failed", records=len(records))

    # -- thread --------------------------------------------------------------------------------------------
    def start(self) -> StreamPoller:
        """Seek to the end now (so nothing written after start() is missed), then poll on a thread."""
        self.seek_latest()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="stream-poller", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                delivered = self.poll_once()
            except Exception as error:
                if self._stop.is_set():
                    return
                # DynamoDB Local restarting: try again from the same position after a pause. A stream that
                # no longer exists (table recreated) is looked up again, from its end.
                self._log.warning("stream poll failed", error=str(error))
                if _error_code(error) == "ResourceNotFoundException":
                    self.stream_arn = None
                delivered = 0
            if delivered == 0:
                self._stop.wait(self.poll_interval)


def _error_code(error: Exception) -> str | None:
    response = getattr(error, "response", None)
    if isinstance(response, Mapping):
        code = (response.get("Error") or {}).get("Code")
        return str(code) if code else None
    return None
