"""What each kind of request costs DynamoDB Local in CPU: the unit behind `ingest.per_event.server_cpu_ms`.

On the bench machine DynamoDB Local shares the cores with the consumers, so the ingest pace is set by the server
CPU an event's requests take as much as by their count. One thread sends each kind of request a few hundred
times on the bench's table definition with a task item as ingest stores it, in rounds that take the kinds in
turn; the server's CPU per request is read from /proc (bench/cpu_split.py). The first round warms the JIT up and
is not reported; of the others each kind reports its lowest figure (other work on the machine only adds to it).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import boto3

from bench.cpu_split import CpuSplit
from runwatch_dev.local.dynamodb_local import DynamoDBLocal
from runwatch_dev.local.table_from_template import create_table

REQUESTS = 300
ROUNDS = 4  # the first warms the JIT up and is not reported

# A finished task item as ingest writes it (its index attributes included) and a step summary's counter.
_TASK: dict[str, Any] = {
    "sk": {"S": "TASK#train#7"},
    "kind": {"S": "task"},
    "flow": {"S": "TrainFlow"},
    "run_id": {"S": "1795000000000038"},
    "step": {"S": "train"},
    "task_id": {"S": "7"},
    "status": {"S": "succeeded"},
    "orchestrator": {"S": "batch"},
    "account": {"S": "123456789012"},
    "region": {"S": "us-east-1"},
    "step_pk": {"S": "RUN#123456789012#us-east-1#TrainFlow#1795000000000038#STEP#train"},
    "task_order_sk": {"S": "1#000000000000000000007"},
    "job_queue": {"S": "arn:aws:batch:us-east-1:123456789012:job-queue/metaflow-queue"},
    "log_group": {"S": "/aws/batch/job"},
    "last_event_at": {"N": "1795002369000"},
    "max_attempts": {"N": "3"},
    "expires_at": {"N": "1803852706"},
    "attempts": {
        "L": [
            {
                "M": {
                    "attempt": {"N": "0"},
                    "job_id": {"S": "b825a67c-84ee-317a-1420-efc689b0ee67"},
                    "batch_status": {"S": "SUCCEEDED"},
                    "exit_code": {"N": "0"},
                    "created_at": {"N": "1795002284026"},
                    "started_at": {"N": "1795002342822"},
                    "stopped_at": {"N": "1795002369279"},
                    "status_reason": {"S": "Essential container in task exited"},
                    "vcpu": {"N": "1.0"},
                    "memory_mib": {"N": "4096"},
                }
            }
        ]
    },
}


def _requests(client: Any, table: str) -> dict[str, Callable[[int], Any]]:
    """Each kind of request ingest sends, as a function of a running number (its own partition each time)."""

    def pk(n: int) -> dict[str, str]:
        return {"S": f"RUN#bench#{n}"}

    def task(n: int, version: int) -> dict[str, Any]:
        return {**_TASK, "pk": pk(n), "version": {"N": str(version)}}

    def conditional_put(n: int, version: int) -> dict[str, Any]:
        return {
            "TableName": table,
            "Item": task(n, version),
            "ConditionExpression": "attribute_not_exists(version) OR version = :v",
            "ExpressionAttributeValues": {":v": {"N": str(version - 1)}},
        }

    def step_add(n: int) -> dict[str, Any]:
        return {
            "TableName": table,
            "Key": {"pk": pk(n), "sk": {"S": "STEP#train"}},
            "UpdateExpression": "ADD c_succeeded :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }

    return {
        "put_item": lambda n: client.put_item(TableName=table, Item=task(n, 1)),
        "conditional_put_item": lambda n: client.put_item(**conditional_put(n, 2)),
        "update_item_add": lambda n: client.update_item(**step_add(n)),
        "transact_task_and_step": lambda n: client.transact_write_items(
            TransactItems=[{"Put": conditional_put(n, 3)}, {"Update": step_add(n)}]
        ),
        "get_item": lambda n: client.get_item(TableName=table, Key={"pk": pk(n), "sk": _TASK["sk"]}),
        "query_partition": lambda n: client.query(
            TableName=table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": pk(n)},
            ConsistentRead=True,
        ),
    }


def run(ddb: DynamoDBLocal) -> dict[str, dict[str, Any]]:
    client = boto3.client("dynamodb", endpoint_url=ddb.endpoint, region_name="us-east-1")
    table = f"runwatch-bench-server-{uuid.uuid4().hex[:8]}"
    create_table(client, table, stream=False)
    results: dict[str, dict[str, Any]] = {}
    for round_ in range(ROUNDS):
        for name, send in _requests(client, table).items():
            cpu = CpuSplit(ddb.pid)
            cpu.start()
            for n in range(REQUESTS):
                send(round_ * REQUESTS + n)
            cpu.stop()
            if round_ == 0:
                continue
            for metric, figure in cpu.per(REQUESTS, f"server_cpu.{name}").items():
                if metric not in results or figure["value"] < results[metric]["value"]:
                    results[metric] = figure
    return results
