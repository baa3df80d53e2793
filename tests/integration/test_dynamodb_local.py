"""The DynamoDB Local fixtures give each test a table shaped exactly like template.yaml's StatusTable."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from runwatch_dev.local.dynamodb_local import DynamoDBLocal, DynamoDBLocalError
from runwatch_dev.local.table_from_template import create_table, table_properties

GSIS = {
    "by_flow",
    "recent",
    "by_status",
    "by_user",
    "by_project",
    "by_project_only",
    "active_keys",
    "by_queue_keys",
    "by_step_keys",
    "by_step_status_keys",
    "by_run_id",
}


def _client(endpoint: str, region: str = "us-east-1", key: str = "local") -> Any:
    # DynamoDB Local accepts any access key made of letters and digits only.
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=key,
    )


def _conditional_put(client: Any, table: str, pk: str) -> None:
    client.put_item(
        TableName=table,
        Item={"pk": {"S": pk}, "sk": {"S": "#RUN"}},
        ConditionExpression="attribute_not_exists(pk)",
    )


def test_table_has_keys_indexes_and_stream_from_template(ddb_client: Any, table_name: str) -> None:
    table = ddb_client.describe_table(TableName=table_name)["Table"]

    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"pk": "HASH", "sk": "RANGE"}
    assert {index["IndexName"] for index in table["GlobalSecondaryIndexes"]} == GSIS
    for index in table["GlobalSecondaryIndexes"]:
        name = index["IndexName"]
        expected = "INCLUDE" if name == "by_run_id" else "KEYS_ONLY" if name.endswith("_keys") else "ALL"
        assert index["Projection"]["ProjectionType"] == expected
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["LatestStreamArn"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_a_table_without_its_stream_keeps_the_keys_indexes_and_ttl(ddb_client: Any) -> None:
    create_table(ddb_client, "runwatch-no-stream", stream=False)

    table = ddb_client.describe_table(TableName="runwatch-no-stream")["Table"]
    assert "StreamSpecification" not in table
    assert "LatestStreamArn" not in table
    assert {index["IndexName"] for index in table["GlobalSecondaryIndexes"]} == GSIS
    ttl = ddb_client.describe_time_to_live(TableName="runwatch-no-stream")["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED"
    ddb_client.delete_table(TableName="runwatch-no-stream")


def test_ttl_is_enabled_on_the_template_attribute(ddb_client: Any, table_name: str) -> None:
    ttl = ddb_client.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]

    assert ttl["TimeToLiveStatus"] == "ENABLED"
    assert ttl["AttributeName"] == table_properties()["TimeToLiveSpecification"]["AttributeName"]


def test_fixture_points_the_environment_at_the_table(
    table_name: str, dynamodb_local: DynamoDBLocal, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert os.environ["TABLE_NAME"] == table_name
    assert os.environ["AWS_ENDPOINT_URL_DYNAMODB"] == dynamodb_local.endpoint
    # A client built only from the environment (as the code under test builds them) finds the table.
    assert table_name in boto3.client("dynamodb").list_tables()["TableNames"]


def test_second_conditional_put_fails(ddb_client: Any, table_name: str) -> None:
    _conditional_put(ddb_client, table_name, "RUN#Flow#1")

    with pytest.raises(ClientError) as raised:
        _conditional_put(ddb_client, table_name, "RUN#Flow#1")
    assert raised.value.response["Error"]["Code"] == "ConditionalCheckFailedException"


def test_each_test_gets_its_own_empty_table(ddb_client: Any, table_name: str) -> None:
    assert ddb_client.scan(TableName=table_name)["Count"] == 0


def test_create_table_is_idempotent(ddb_client: Any, table_name: str) -> None:
    _conditional_put(ddb_client, table_name, "RUN#Flow#1")

    create_table(ddb_client, table_name)

    assert ddb_client.scan(TableName=table_name)["Count"] == 1


def test_one_endpoint_one_set_of_tables_whatever_the_credentials(
    dynamodb_local: DynamoDBLocal, table_name: str
) -> None:
    other = _client(dynamodb_local.endpoint, region="eu-west-1", key="someoneElse42")

    assert table_name in other.list_tables()["TableNames"]


def test_restart_with_db_path_keeps_data_and_port(tmp_path: Path) -> None:
    with DynamoDBLocal(db_path=tmp_path / "ddb") as ddb:
        client = _client(ddb.endpoint)
        create_table(client, "runwatch-restart")
        _conditional_put(client, "runwatch-restart", "RUN#Flow#7")
        endpoint, first_pid = ddb.endpoint, ddb.pid

        ddb.restart()

        assert ddb.endpoint == endpoint
        assert ddb.pid != first_pid
        item = client.get_item(
            TableName="runwatch-restart", Key={"pk": {"S": "RUN#Flow#7"}, "sk": {"S": "#RUN"}}
        )
        assert item["Item"]["pk"]["S"] == "RUN#Flow#7"
    assert not ddb.running


def test_stop_makes_the_endpoint_unreachable_until_start(tmp_path: Path) -> None:
    ddb = DynamoDBLocal(db_path=tmp_path / "ddb").start()
    try:
        client = boto3.client(
            "dynamodb",
            endpoint_url=ddb.endpoint,
            config=Config(retries={"max_attempts": 1}, connect_timeout=1),
        )
        ddb.stop()
        ddb.stop()  # idempotent

        with pytest.raises(EndpointConnectionError):
            client.list_tables()

        ddb.start()
        assert client.list_tables()["TableNames"] == []
    finally:
        ddb.stop()


def test_missing_jar_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(DynamoDBLocalError, match="make setup"):
        DynamoDBLocal(jar_dir=tmp_path).start()
