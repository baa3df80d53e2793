"""Ingest benchmark: >= 20,000 events of many foreach runs, shuffled with 10% duplicates, replayed through the
ingest queue consumer (the Lambda's code path) into DynamoDB Local.

Four consumers take SQS-sized batches at random, like four warm Lambda containers with their own caches.
The final state is compared with the in-order replay of the same events. Every DynamoDB request asks for
its consumed capacity (bench/capacity.py), which with the handler's time per event gives the cost per
million events (bench/cost.py).
"""

from __future__ import annotations

import json
import random
import time
import uuid
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from bench.capacity import CapacityMeter
from bench.cost import PerEvent, idle_usd_per_month, monthly_usd
from runwatch.domain.run_state import run_key_of
from runwatch.services.ingest import Ingestor, NoCounters
from runwatch.services.ingest_queue import IngestQueueConsumer
from runwatch.settings import TableSettings
from runwatch.store import models
from runwatch.store.repository import StatusRepository
from runwatch.wiring import bind_table
from runwatch_dev.local.dynamodb_local import DynamoDBLocal
from runwatch_dev.local.synth import bench_runs, simulate_run
from runwatch_dev.local.table_from_template import create_table
from tests.fakes.memory_store import MemoryStore
from tests.integration.ingest.sqs import CollectedDeadLetters, sqs_event

RUNS = 480
FANOUT = 8
DUPLICATE_SHARE = 0.10
CONSUMERS = 4
BATCH = 10


def _events(seed: int) -> tuple[list[dict[str, Any]], list[str]]:
    in_order = [e for spec in bench_runs(RUNS, FANOUT, seed=seed) for e in simulate_run(spec)]
    rng = random.Random(seed)
    delivered = in_order + rng.sample(in_order, int(len(in_order) * DUPLICATE_SHARE))
    rng.shuffle(delivered)
    return in_order, [json.dumps(e) for e in delivered]


def _matches(expected: MemoryStore, repository: StatusRepository) -> tuple[bool, int]:
    mismatches = 0
    for key, versioned in expected.runs.items():
        stored, tasks = repository.run_with_tasks(key)
        want = versioned.state
        want_tasks = {k: v.state for k, v in expected.tasks.items() if run_key_of(k) == key}
        if (
            stored is None
            or (stored.state.status, stored.state.failure) != (want.status, want.failure)
            or {t.key: t for t in tasks} != want_tasks
        ):
            mismatches += 1
    return mismatches == 0, mismatches


def run(ddb: DynamoDBLocal) -> dict[str, dict[str, Any]]:
    client = boto3.client("dynamodb", endpoint_url=ddb.endpoint, region_name="us-east-1")
    table = f"runwatch-bench-ingest-{uuid.uuid4().hex[:8]}"
    create_table(client, table)
    repository = bind_table(TableSettings(table_name=table, dynamodb_endpoint=ddb.endpoint))
    meter = CapacityMeter()
    meter.attach(models.TableItem._get_connection().connection.client)
    in_order, delivered = _events(seed=7)
    logger = Logger(service="bench", level="ERROR")
    consumers = [
        IngestQueueConsumer(Ingestor(repository), CollectedDeadLetters(), NoCounters(), logger)
        for _ in range(CONSUMERS)
    ]
    rng = random.Random(1)
    failures = 0
    started = time.perf_counter()
    for first in range(0, len(delivered), BATCH):
        batch = delivered[first : first + BATCH]
        response = rng.choice(consumers).handle_batch(sqs_event(batch, first_id=first), None)
        failures += len(response["batchItemFailures"])
    elapsed = time.perf_counter() - started
    costs = _costs(meter, elapsed, len(delivered))

    expected = MemoryStore()
    replayer = Ingestor(expected)
    for event in in_order:
        replayer.ingest(event)
    matched, mismatches = _matches(expected, repository)
    return {
        "ingest.events": {"value": len(delivered), "unit": "events"},
        "ingest.runs": {"value": len(expected.runs), "unit": "runs"},
        "ingest.events_per_s": {"value": round(len(delivered) / elapsed, 1), "unit": "events/s"},
        "ingest.writes_per_event": {
            "value": round(repository.write_requests / len(delivered), 3),
            "unit": "writes/event",
        },
        "ingest.failed_records": {"value": failures, "unit": "records"},
        "ingest.final_state_matched": {"value": 1 if matched else 0, "unit": "bool"},
        "ingest.mismatched_runs": {"value": mismatches, "unit": "runs"},
        **costs,
    }


def _costs(meter: CapacityMeter, elapsed: float, events: int) -> dict[str, dict[str, Any]]:
    """Units, requests and dollars per event; write units also per table and index (where they go)."""
    per_event = PerEvent(
        write_units=meter.total_write_units / events,
        read_units=meter.total_read_units / events,
        handler_ms=elapsed * 1000 / events,
    )
    results: dict[str, dict[str, Any]] = {
        "ingest.wcu_per_event": {"value": round(per_event.write_units, 3), "unit": "WCU/event"},
        "ingest.rcu_per_event": {"value": round(per_event.read_units, 3), "unit": "RCU/event"},
        "ingest.failed_conditions_per_event": {
            "value": round(meter.failed_conditional_writes / events, 3),
            "unit": "writes/event",
        },
        "ingest.sqs_requests_per_event": {
            "value": round(per_event.sqs_requests, 2),
            "unit": "requests/event",
        },
        "ingest.lambda_gb_s_per_event": {
            "value": round(per_event.lambda_gb_seconds, 6),
            "unit": "GB-s/event",
        },
        "ingest.usd_per_million_events": {"value": round(per_event.usd_per_million(), 3), "unit": "USD"},
    }
    results["cost.idle_usd_per_month"] = {
        "value": round(sum(idle_usd_per_month().values()), 2),
        "unit": "USD",
    }
    for label, count in (("10k", 10_000), ("1M", 1_000_000), ("100M", 100_000_000)):
        usd = monthly_usd(count, per_event.usd_per_million())
        results[f"cost.usd_per_month.{label}_events"] = {"value": round(usd, 2), "unit": "USD"}
    for service, usd in per_event.usd_parts_per_million().items():
        results[f"ingest.usd_per_million_events.{service}"] = {"value": round(usd, 3), "unit": "USD"}
    for operation, units in meter.write_units_by_operation.items():
        results[f"ingest.wcu_per_event.{operation}"] = {
            "value": round(units / events, 3),
            "unit": "WCU/event",
        }
    for name, units in meter.write_units.items():
        where = name.partition("/")[2] or "table"
        results[f"ingest.wcu_per_event.{where}"] = {"value": round(units / events, 3), "unit": "WCU/event"}
    return results
