"""The ingest queue consumer: bad records are rejected to the dead-letter path, the rest still applies."""

from __future__ import annotations

import json
from pathlib import Path

from aws_lambda_powertools import Logger

from runwatch.domain.run_state import RunKey
from runwatch.services.ingest import Ingestor, NoCounters
from runwatch.services.ingest_queue import IngestQueueConsumer
from runwatch.store.repository import StatusRepository
from tests.integration.ingest.sqs import CollectedDeadLetters, sqs_event

EVENTS = Path(__file__).resolve().parents[3] / "events"


def test_bad_records_are_rejected_with_a_reason_and_the_batch_still_applies(
    repository: StatusRepository,
) -> None:
    good = [p.read_text() for p in sorted((EVENTS / "local_run").glob("*.json"))]
    missing_job_id = json.loads(good[0])
    del missing_job_id["detail"]["jobId"]
    wrong_type = json.loads(good[1])
    wrong_type["detail"]["createdAt"] = "yesterday"
    unknown = {
        "version": "0",
        "id": "x",
        "source": "aws.ec2",
        "detail-type": "EC2 Instance State-change Notification",
        "account": "1",
        "time": "2026-11-27T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }
    bodies = [
        "{not json",
        json.dumps(missing_job_id),
        *good[:4],
        json.dumps(wrong_type),
        json.dumps(unknown),
        "[1, 2]",
        *good[4:],
    ]
    dead = CollectedDeadLetters()
    consumer = IngestQueueConsumer(Ingestor(repository), dead, NoCounters(), Logger(service="test"))

    response = consumer.handle_batch(sqs_event(bodies), None)

    assert response == {"batchItemFailures": []}  # nothing is retried: bad input never becomes good
    reasons = [reason for _, reason in dead.sent]
    assert len(reasons) == 5
    assert reasons[0].startswith("malformed JSON")
    assert "detail.jobId" in reasons[1] and "Field required" in reasons[1]
    assert "detail.createdAt" in reasons[2]
    assert (
        reasons[3]
        == "unsupported event: source='aws.ec2' detail-type='EC2 Instance State-change Notification'"
    )
    assert reasons[4] == "an event must be a JSON object, got list"
    assert next(body for body, _ in dead.sent) == "{not json"  # kept as received
    run, _ = repository.run_with_tasks(
        RunKey("FanoutFlow", "1795719352434625", account="123456789012", region="us-east-1")
    )
    assert run is not None and run.state.status == "succeeded"


def test_store_errors_fail_only_the_affected_records(repository: StatusRepository) -> None:
    class FlakyStore(StatusRepository):
        """Throttles every write for one run; the other run's records must still apply."""

        def save_tasks(self, writes, change, spread=False):  # type: ignore[no-untyped-def]
            if writes[0][0].key.run_id == "sfn-5f0b1d2e-8a4c-4f6e-9b3a-2c7d1e9f0a41":
                from runwatch.store.repository import StoreUnavailable

                raise StoreUnavailable("ProvisionedThroughputExceededException")
            return super().save_tasks(writes, change, spread)

    local = [p.read_text() for p in sorted((EVENTS / "local_run").glob("*.json"))]
    sfn_job = (EVENTS / "sfn_run" / "02_start_job_RUNNING.json").read_text()
    consumer = IngestQueueConsumer(
        Ingestor(FlakyStore()), CollectedDeadLetters(), NoCounters(), Logger(service="test")
    )

    response = consumer.handle_batch(sqs_event([local[0], sfn_job, *local[1:]]), None)

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    run, tasks = repository.run_with_tasks(
        RunKey("FanoutFlow", "1795719352434625", account="123456789012", region="us-east-1")
    )
    assert run is not None and run.state.status == "succeeded" and len(tasks) == 5
