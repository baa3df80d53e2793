"""DynamoDB Local stops in the middle of a replay: failed records are redelivered and nothing is lost."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Logger

from runwatch.domain.run_state import RunKey
from runwatch.services.ingest import Ingestor, NoCounters
from runwatch.services.ingest_queue import IngestQueueConsumer
from runwatch.settings import TableSettings
from runwatch.store.repository import StatusRepository
from runwatch.wiring import bind_table
from runwatch_dev.local.dynamodb_local import DynamoDBLocal
from runwatch_dev.local.synth import RunSpec, simulate_run
from runwatch_dev.local.table_from_template import create_table
from tests.integration.ingest.sqs import CollectedDeadLetters, sqs_event
from tests.unit.ingest.scenarios import replay

BATCH = 10


@pytest.fixture
def disk_dynamodb(tmp_path: Path) -> Any:
    with DynamoDBLocal(db_path=tmp_path / "ddb") as ddb:
        client = boto3.client("dynamodb", endpoint_url=ddb.endpoint, region_name="us-east-1")
        create_table(client, "runwatch-fault")
        bind_table(TableSettings(table_name="runwatch-fault", dynamodb_endpoint=ddb.endpoint))
        yield ddb


def test_records_failed_during_an_outage_are_redelivered_and_applied(disk_dynamodb: DynamoDBLocal) -> None:
    specs = [
        RunSpec(
            "TrainFlow",
            str(100 + i),
            fanout=4,
            start_ms=1_795_000_000_000 + i * 1_000,
            outcomes={"train": {1: ["spot", "ok"]}} if i % 2 else {"train": {0: ["oom"] * 3}},
        )
        for i in range(4)
    ] + [
        RunSpec(
            "TrainFlow",
            "sfn-x",
            orchestrator="step-functions",
            state_machine="TrainFlow",
            start_ms=1_795_000_000_000,
        )
    ]
    events = [json.dumps(e) for spec in specs for e in simulate_run(spec)]
    random.Random(3).shuffle(events)
    consumer = IngestQueueConsumer(
        Ingestor(StatusRepository()), CollectedDeadLetters(), NoCounters(), Logger(service="test")
    )
    queue = list(enumerate(events))
    failed_during_outage = 0
    delivered_batches = 0
    while queue:
        batch, queue = queue[:BATCH], queue[BATCH:]
        if delivered_batches == 5:
            disk_dynamodb.stop()
        if delivered_batches == 9:
            disk_dynamodb.restart()
        response = consumer.handle_batch(sqs_event([body for _, body in batch], first_id=batch[0][0]), None)
        failed_ids = {f["itemIdentifier"] for f in response["batchItemFailures"]}
        if 5 <= delivered_batches < 9:
            # Records that change nothing already known (cached) need no write and succeed; the rest fail.
            failed_during_outage += len(failed_ids)
        # SQS makes failed records visible again: they come back at the end of the queue.
        queue += [(i, body) for i, body in batch if f"m-{i}" in failed_ids]
        delivered_batches += 1
    assert failed_during_outage >= 20

    expected = replay([json.loads(e) for e in events])
    repository = StatusRepository()
    for spec in specs:
        stored, tasks = repository.run_with_tasks(
            RunKey(spec.flow, spec.run_id, account="123456789012", region="us-east-1")
        )
        want = expected.runs[RunKey(spec.flow, spec.run_id, account="123456789012", region="us-east-1")].state
        assert stored is not None
        assert (stored.state.status, stored.state.failure) == (want.status, want.failure)
        want_tasks = {
            k: v.state for k, v in expected.tasks.items() if (k.flow, k.run_id) == (spec.flow, spec.run_id)
        }
        assert {t.key: t for t in tasks} == want_tasks
