"""The built sweeper function, invoked with events/sweeper/scheduled.json (what `sam local invoke` uses):
the table in DynamoDB Local, Batch and Step Functions on moto's server for the reconcile lookups."""

from __future__ import annotations

import json
from pathlib import Path

from runwatch_dev.local.dynamodb_local import DynamoDBLocal
from tests.build.built import invoke_built
from tests.build.moto_server import moto_server
from tests.build.stuck_job import stuck_job_event
from tests.integration.ingest.sqs import sqs_event

SCHEDULED = json.loads(
    (Path(__file__).resolve().parents[2] / "events" / "sweeper" / "scheduled.json").read_text()
)


def _env(table_name: str, ddb: DynamoDBLocal, aws_endpoint: str) -> dict[str, str]:
    return {
        "TABLE_NAME": table_name,
        "AWS_ENDPOINT_URL_DYNAMODB": ddb.endpoint,
        "AWS_ENDPOINT_URL": aws_endpoint,
        "STUCK_AFTER_MINUTES": "30",
        "REJECTED_QUEUE_URL": f"{aws_endpoint}/123456789012/runwatch-ingest-dlq",
    }


def test_the_built_sweeper_finds_a_stuck_task_once(table_name: str, dynamodb_local: DynamoDBLocal) -> None:
    event = stuck_job_event("BuiltSweepFlow", "1795000000000077", "job-built-1")
    with moto_server() as aws_endpoint:
        env = _env(table_name, dynamodb_local, aws_endpoint)
        ingest = invoke_built("IngestFunction", sqs_event([event]), env)
        first = invoke_built("SweeperFunction", SCHEDULED, env)
        second = invoke_built("SweeperFunction", SCHEDULED, env)

    assert ingest == {"batchItemFailures": []}
    assert (first["active_tasks"], first["stuck_alerts"]) == (1, 1)
    assert (second["active_tasks"], second["stuck_alerts"]) == (1, 0), "a stuck task is alerted once"
