"""Ingest benchmark: >= 20,000 events of many foreach runs, out of order with 10% duplicates, replayed through
the ingest queue consumer (the Lambda's code path) into DynamoDB Local.

Delivery is what EventBridge and a standard SQS queue give: roughly in time order (runs overlap, and each run's
events come in bursts) with every event displaced by up to DISORDER positions, and duplicates redelivered at
any point. Four consumers take batches of the template's BatchSize from one queue at once, in threads, like
four warm Lambda containers with their own caches. The final state is compared with the in-order replay.

The yardstick, measured in the same run on the same DynamoDB Local: single-item PutItems of a task-sized item
from as many threads as there are consumers (`ingest.raw_put_per_s`); the target is ingest at >= 0.8x that. A
smaller pass runs first and is discarded, so that both meet a warm server (WARM_UP_RUNS).

Every DynamoDB request asks for its consumed capacity (bench/capacity.py), which with the consumers' busy time
per event gives the cost per million events (bench/cost.py).
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from bench.capacity import CapacityMeter
from bench.cost import PerEvent, idle_usd_per_month, monthly_usd
from bench.cpu_split import CpuSplit
from runwatch.domain.run_state import run_key_of
from runwatch.domain.vocab import TERMINAL_TASK_STATUSES
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
BATCH = 100  # the ingest event source's BatchSize in template.yaml
DISORDER = 200  # positions an event may be delivered away from its place in time
RAW_PUTS = 4_000
# DynamoDB Local is a JVM that compiles what the requests run in its first seconds: three 120-run passes on one
# server took 4.08, 2.26 and 2.03 ms of its CPU an event. A warm-up pass of this many runs (its own table and
# seed, figures discarded) runs first, so that ingest, like the raw puts after it, meets a warm server.
WARM_UP_RUNS = 120


def _events(runs: int, seed: int) -> tuple[list[dict[str, Any]], list[str]]:
    in_order = [e for spec in bench_runs(runs, FANOUT, seed=seed) for e in simulate_run(spec)]
    rng = random.Random(seed)
    by_time = sorted(in_order, key=lambda e: str(e["time"]))
    displaced = [
        e for _, e in sorted(((i + rng.uniform(0, DISORDER), e) for i, e in enumerate(by_time)), key=_first)
    ]
    delivered = list(displaced)
    for duplicate in rng.sample(in_order, int(len(in_order) * DUPLICATE_SHARE)):
        delivered.insert(rng.randrange(len(delivered) + 1), duplicate)
    return in_order, [json.dumps(e) for e in delivered]


def _first(pair: tuple[float, Any]) -> float:
    return pair[0]


def _in_threads(count: int, work: Callable[[int], None]) -> float:
    """Run work(i) for i in range(count) in as many threads at once; the seconds they took together."""
    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def raw_put_rate(client: Any, table: str, item: dict[str, Any]) -> float:
    """Unconditional single-item PutItems of `item` per second from CONSUMERS threads, each under its own key."""

    def put(worker: int) -> None:
        for n in range(RAW_PUTS // CONSUMERS):
            client.put_item(
                TableName=table, Item={**item, "pk": {"S": f"RAWPUT#{worker}"}, "sk": {"S": f"{n:08d}"}}
            )

    return RAW_PUTS / _in_threads(CONSUMERS, put)


def _stored_task(client: Any, table: str) -> dict[str, Any]:
    """A finished task item as ingest stored it (its index attributes included: a task write writes them too)."""
    page = client.scan(TableName=table, Limit=500)
    tasks = [
        i
        for i in page["Items"]
        if i.get("kind", {}).get("S") == "task" and i["status"]["S"] in TERMINAL_TASK_STATUSES
    ]
    return tasks[0]


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
    _ingest(ddb, WARM_UP_RUNS, seed=11)
    return _ingest(ddb, RUNS, seed=7)


def _ingest(
    ddb: DynamoDBLocal,
    runs: int,
    seed: int,
    repository_for: Callable[[TableSettings], StatusRepository] = bind_table,
) -> dict[str, dict[str, Any]]:
    """One pass: `runs` runs' events through the consumers into a table of its own, then the raw puts.
    `repository_for` binds the table and gives the consumers' repository (bench/untransacted.py swaps it)."""
    client = boto3.client("dynamodb", endpoint_url=ddb.endpoint, region_name="us-east-1")
    table = f"runwatch-bench-ingest-{uuid.uuid4().hex[:8]}"
    create_table(client, table, stream=False)
    repository = repository_for(TableSettings(table_name=table, dynamodb_endpoint=ddb.endpoint))
    meter = CapacityMeter()
    meter.attach(models.TableItem._get_connection().connection.client)
    in_order, delivered = _events(runs, seed)
    logger = Logger(service="bench", level="ERROR")
    consumers = [
        IngestQueueConsumer(Ingestor(repository), CollectedDeadLetters(), NoCounters(), logger)
        for _ in range(CONSUMERS)
    ]
    queue = [delivered[first : first + BATCH] for first in range(0, len(delivered), BATCH)]
    queue.reverse()
    lock = threading.Lock()
    failures: list[int] = []

    def consume(worker: int) -> None:
        while True:
            with lock:
                if not queue:
                    return
                first = (len(queue) - 1) * BATCH
                batch = queue.pop()
            response = consumers[worker].handle_batch(sqs_event(batch, first_id=first), None)
            failures.append(len(response["batchItemFailures"]))

    ingest_cpu = CpuSplit(ddb.pid)
    ingest_cpu.start()
    elapsed = _in_threads(CONSUMERS, consume)
    ingest_cpu.stop()
    # Each consumer is a Lambda busy for the whole run; measured before the raw puts add their own units.
    costs = _costs(meter, elapsed * CONSUMERS, len(delivered))
    requests = {
        f"ingest.requests_per_event.{operation}": {
            "value": round(count / len(delivered), 3),
            "unit": "requests",
        }
        for operation, count in sorted(meter.requests.items())
    }
    raw_cpu = CpuSplit(ddb.pid)
    raw_cpu.start()
    raw_rate = raw_put_rate(client, table, _stored_task(client, table))
    raw_cpu.stop()
    events_per_s = len(delivered) / elapsed

    expected = MemoryStore()
    replayer = Ingestor(expected)
    for event in in_order:
        replayer.ingest(event)
    matched, mismatches = _matches(expected, repository)
    return {
        "ingest.events": {"value": len(delivered), "unit": "events"},
        "ingest.runs": {"value": len(expected.runs), "unit": "runs"},
        "ingest.events_per_s": {"value": round(events_per_s, 1), "unit": "events/s"},
        "ingest.raw_put_per_s": {"value": round(raw_rate, 1), "unit": "puts/s"},
        "ingest.events_per_raw_put": {"value": round(events_per_s / raw_rate, 2), "unit": "x"},
        "ingest.writes_per_event": {
            "value": round(repository.write_requests / len(delivered), 3),
            "unit": "writes/event",
        },
        "ingest.failed_records": {"value": sum(failures), "unit": "records"},
        "ingest.final_state_matched": {"value": 1 if matched else 0, "unit": "bool"},
        "ingest.mismatched_runs": {"value": mismatches, "unit": "runs"},
        **costs,
        **requests,
        # The rates above are CPU-bound on a shared machine: which side spends it, per event and per raw put.
        **ingest_cpu.per(len(delivered), "ingest.per_event"),
        **raw_cpu.per(RAW_PUTS, "ingest.per_raw_put"),
    }


def _costs(meter: CapacityMeter, busy_s: float, events: int) -> dict[str, dict[str, Any]]:
    """Units, requests and dollars per event; write units also per table and index (where they go)."""
    per_event = PerEvent(
        write_units=meter.total_write_units / events,
        read_units=meter.total_read_units / events,
        handler_ms=busy_s * 1000 / events,
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
