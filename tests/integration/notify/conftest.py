"""Notify integration fixtures: the test's table bound, its stream read back with boto3, a live receiver."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from runwatch.settings import TableSettings
from runwatch.store.repository import StatusRepository
from runwatch.wiring import bind_table
from runwatch_dev.local.dynamodb_local import DynamoDBLocal
from tests.fakes.receiver import Receiver


@pytest.fixture
def repository(table_name: str, dynamodb_local: DynamoDBLocal) -> StatusRepository:
    return bind_table(TableSettings(table_name=table_name, dynamodb_endpoint=dynamodb_local.endpoint))


class StreamReader:
    """Reads the table's stream from where the last read stopped, as the local stack's poller does."""

    def __init__(self, endpoint: str, ddb_client: Any, table_name: str) -> None:
        self.client = boto3.client(
            "dynamodbstreams",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        self.arn = ddb_client.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self._iterators: dict[str, str | None] = {}

    def read(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for shard in self.client.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]:
            shard_id = shard["ShardId"]
            iterator = (
                self._iterators.get(shard_id)
                or self.client.get_shard_iterator(
                    StreamArn=self.arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            )
            while iterator:
                page = self.client.get_records(ShardIterator=iterator, Limit=1000)
                records.extend(page["Records"])
                iterator = page.get("NextShardIterator")
                if not page["Records"]:
                    break
            self._iterators[shard_id] = iterator
        return records


@pytest.fixture
def stream(table_name: str, dynamodb_local: DynamoDBLocal, ddb_client: Any) -> StreamReader:
    return StreamReader(dynamodb_local.endpoint, ddb_client, table_name)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def sleeps() -> list[float]:
    return []


def table_variables() -> dict[str, str]:
    """The variables naming the test's table (the table_name fixture sets them), for a settings model."""
    return {name: os.environ[name] for name in ("TABLE_NAME", "AWS_ENDPOINT_URL_DYNAMODB")}
