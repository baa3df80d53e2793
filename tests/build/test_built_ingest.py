"""The built ingest function, invoked with the SQS events in events/ingest (what `sam local invoke` uses)."""

from __future__ import annotations

import json
from pathlib import Path

from runwatch.domain.run_state import RunKey
from runwatch.settings import TableSettings
from runwatch.wiring import bind_table
from runwatch_dev.local.dynamodb_local import DynamoDBLocal
from tests.build.built import invoke_built

EVENTS = Path(__file__).resolve().parents[2] / "events" / "ingest"


def _env(table_name: str, ddb: DynamoDBLocal) -> dict[str, str]:
    return {
        "TABLE_NAME": table_name,
        "AWS_ENDPOINT_URL_DYNAMODB": ddb.endpoint,
        "REJECTED_QUEUE_URL": "http://127.0.0.1:9/123456789012/runwatch-ingest-dlq",
    }


def test_built_ingest_applies_the_sample_runs(table_name: str, dynamodb_local: DynamoDBLocal) -> None:
    env = _env(table_name, dynamodb_local)
    samples = ("sqs_local_run.json", "sqs_sfn_run.json", "sqs_sfn_failed_run.json", "sqs_parallel_run.json")
    for name in (*samples, "sqs_foreign.json"):
        response = invoke_built("IngestFunction", json.loads((EVENTS / name).read_text()), env)
        assert response == {"batchItemFailures": []}, name
    repository = bind_table(TableSettings(table_name=table_name, dynamodb_endpoint=dynamodb_local.endpoint))
    for flow, run_id, status in (
        ("FanoutFlow", "1795719352434625", "succeeded"),
        ("FanoutFlow", "sfn-5f0b1d2e-8a4c-4f6e-9b3a-2c7d1e9f0a41", "succeeded"),
        (
            "ScoringFlow",
            "sfn-8c1e5b7d-2f4a-7c3e-1d9b-6e2f0a4c8b13_90d3f7a1-6b2e-c4d8-5f1a-3e7b9c2d4a68",
            "failed",
        ),
        ("TorchFlow", "1795733100123456", "failed"),
    ):
        run, _ = repository.run_with_tasks(RunKey(flow, run_id, account="123456789012", region="us-east-1"))
        assert run is not None and run.state.status == status


def test_built_ingest_keeps_a_rejected_event_on_the_queue_when_the_dead_letter_queue_is_unreachable(
    table_name: str, dynamodb_local: DynamoDBLocal
) -> None:
    response = invoke_built(
        "IngestFunction",
        json.loads((EVENTS / "sqs_malformed.json").read_text()),
        _env(table_name, dynamodb_local),
    )
    # Sending to the dead-letter queue failed, so both records stay on the queue (and reach the DLQ by redrive).
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-0"}, {"itemIdentifier": "m-1"}]}
