"""Items behind a keys-only index come back in the index's order, by BatchGetItem, on DynamoDB Local."""

from __future__ import annotations

from typing import Any

from runwatch.settings import TableSettings
from runwatch.store.keyed_reads import KeyedReads, index_entries
from runwatch.store.models import TaskItem
from runwatch.wiring import bind_table
from runwatch_dev.local.dynamodb_local import DynamoDBLocal


def _bind(table_name: str, dynamodb_local: DynamoDBLocal) -> None:
    bind_table(TableSettings(table_name=table_name, dynamodb_endpoint=dynamodb_local.endpoint))


def _put(client: Any, table: str, sk: str, **attributes: str) -> None:
    item = {"pk": {"S": "RUN#x"}, "sk": {"S": sk}} | {k: {"S": v} for k, v in attributes.items()}
    client.put_item(TableName=table, Item=item)


def test_items_follow_the_entries_order_across_requests_and_a_missing_one_is_left_out(
    dynamodb_local: DynamoDBLocal, ddb_client: Any, table_name: str
) -> None:
    _bind(table_name, dynamodb_local)
    for n in range(150):
        _put(ddb_client, table_name, f"TASK#s#{n:03d}", note=f"item {n}")
    entries = [{"pk": {"S": "RUN#x"}, "sk": {"S": f"TASK#s#{n:03d}"}} for n in reversed(range(151))]
    reads = KeyedReads()

    items = reads.items_in_order(entries)

    assert [item["note"]["S"] for item in items] == [f"item {n}" for n in reversed(range(150))]
    assert reads.requests == 2  # 151 keys: two BatchGetItems of at most 100


def test_an_item_carries_the_keys_it_was_listed_under(
    dynamodb_local: DynamoDBLocal, ddb_client: Any, table_name: str
) -> None:
    _bind(table_name, dynamodb_local)
    # The task moved on to `succeeded` after the index was read at `running`: the page goes on from `running`.
    _put(ddb_client, table_name, "TASK#s#1", status="succeeded", step_status_pk="RUN#x#STEP#s#succeeded")
    entry = {"pk": {"S": "RUN#x"}, "sk": {"S": "TASK#s#1"}, "step_status_pk": {"S": "RUN#x#STEP#s#running"}}

    (item,) = KeyedReads().items_in_order([entry])

    assert item["status"] == {"S": "succeeded"}
    assert item["step_status_pk"] == {"S": "RUN#x#STEP#s#running"}


def test_index_entries_stop_at_the_limit_and_hold_keys_only(
    dynamodb_local: DynamoDBLocal, ddb_client: Any, table_name: str
) -> None:
    _bind(table_name, dynamodb_local)
    for n in range(5):
        _put(ddb_client, table_name, f"TASK#s#{n}", queue_pk="QUEUE#q", status="pending")

    entries = index_entries(TaskItem.by_queue_index, "QUEUE#q", limit=3)
    every = index_entries(TaskItem.by_queue_index, "QUEUE#q")

    assert [e["sk"]["S"] for e in entries] == ["TASK#s#0", "TASK#s#1", "TASK#s#2"]
    assert len(every) == 5
    assert {name for e in every for name in e} == {"pk", "sk", "queue_pk"}


def test_a_look_ahead_entry_stays_keys_only_unless_an_item_before_it_is_gone(
    dynamodb_local: DynamoDBLocal, ddb_client: Any, table_name: str
) -> None:
    _bind(table_name, dynamodb_local)
    for n in (0, 2, 3):  # TASK#s#1 is gone (expired, say)
        _put(ddb_client, table_name, f"TASK#s#{n}", note=f"item {n}")
    entry = [{"pk": {"S": "RUN#x"}, "sk": {"S": f"TASK#s#{n}"}} for n in range(4)]

    whole = KeyedReads().items_in_order([entry[0], entry[2], entry[3]], needed=2)
    short = KeyedReads().items_in_order(entry[:3], needed=2)

    assert [item.get("note") for item in whole] == [{"S": "item 0"}, {"S": "item 2"}, None]  # keys only
    assert [item["note"]["S"] for item in short] == ["item 0", "item 2"]  # read to fill the page
