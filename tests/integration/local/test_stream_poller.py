"""The stream poller against DynamoDB Local's real stream: what is written after it starts reaches the
callback once, in order, shaped like Lambda's stream records."""

from __future__ import annotations

from typing import Any

import boto3

from runwatch_dev.local.dynamodb_local import DynamoDBLocal
from runwatch_dev.local.stream_poller import StreamPoller


def _streams(dynamodb_local: DynamoDBLocal) -> Any:
    return boto3.client("dynamodbstreams", endpoint_url=dynamodb_local.endpoint, region_name="us-east-1")


def _item(pk: str, value: str = "1") -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": "#RUN"}, "value": {"S": value}}


def test_changes_after_the_start_reach_the_callback_in_lambda_shape(
    table_name: str, ddb_client: Any, dynamodb_local: DynamoDBLocal
) -> None:
    ddb_client.put_item(TableName=table_name, Item=_item("before"))
    batches: list[list[dict[str, Any]]] = []
    poller = StreamPoller(ddb_client, _streams(dynamodb_local), table_name, batches.append)
    poller.seek_latest()

    ddb_client.put_item(TableName=table_name, Item=_item("a"))
    ddb_client.put_item(TableName=table_name, Item=_item("a", "2"))
    ddb_client.delete_item(TableName=table_name, Key={"pk": {"S": "a"}, "sk": {"S": "#RUN"}})
    delivered = poller.poll_once()

    records = [record for batch in batches for record in batch]
    assert delivered == 3
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert records[1]["dynamodb"]["OldImage"]["value"] == {"S": "1"}
    assert records[1]["dynamodb"]["NewImage"]["value"] == {"S": "2"}
    assert all(r["eventSourceARN"] == poller.stream_arn for r in records)
    assert all(isinstance(r["dynamodb"]["ApproximateCreationDateTime"], int) for r in records)
    assert poller.poll_once() == 0


def test_a_failing_callback_is_logged_and_polling_goes_on(
    table_name: str, ddb_client: Any, dynamodb_local: DynamoDBLocal
) -> None:
    seen: list[str] = []

    def callback(records: list[dict[str, Any]]) -> None:
        seen.extend(r["dynamodb"]["Keys"]["pk"]["S"] for r in records)
        if len(seen) == 1:
            raise RuntimeError("channel down")

    poller = StreamPoller(ddb_client, _streams(dynamodb_local), table_name, callback)
    poller.seek_latest()
    ddb_client.put_item(TableName=table_name, Item=_item("first"))
    poller.poll_once()
    ddb_client.put_item(TableName=table_name, Item=_item("second"))
    poller.poll_once()

    assert seen == ["first", "second"]
