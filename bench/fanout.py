"""Ingest at fan-out: every event of a 10,000-way foreach arrives at once and 8 consumers apply it together.

Each consumer is an Ingestor with its own cache (a warm Lambda container) sharing the table; they take
batches of the template's BatchSize from one queue in threads, each applied as one batch. Measured: events
per second, conflict retries per event (a conditional write or transaction that lost a race and was joined
again), split by what it lost on (`tasks` another consumer changed meanwhile, the `step`'s summary item,
the `run` item, `other`), events that failed (would be dead-lettered), and whether the step summaries equal
the in-order replay.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from typing import Any

from bench.api import _table
from runwatch.domain.run_state import RunKey
from runwatch.services.ingest import Ingestor
from runwatch.store.repository import StatusRepository
from runwatch.store.run_queries import RunReader
from runwatch_dev.local.dynamodb_local import DynamoDBLocal
from runwatch_dev.local.synth import RunSpec, simulate_run
from tests.fakes.memory_store import MemoryStore
from tests.integration.ingest.concurrent_consumers import apply_concurrently

WIDTH = 10_000
CONSUMERS = 8
BATCH = 100  # the ingest event source's BatchSize in template.yaml
T0 = 1_795_000_000_000


def run(ddb: DynamoDBLocal) -> dict[str, dict[str, Any]]:
    spec = RunSpec(flow="FanoutFlow", run_id="1795000000999999", fanout=WIDTH, start_ms=T0)
    in_order = simulate_run(spec, random.Random(3))
    delivered = [json.dumps(e) for e in in_order]
    random.Random(4).shuffle(delivered)
    expected = MemoryStore()
    replay = Ingestor(expected)
    for event in in_order:
        replay.ingest(event)

    _table(ddb, "fanout")
    repository = StatusRepository()
    consumers = [Ingestor(repository) for _ in range(CONSUMERS)]
    count = len(delivered)
    started = time.perf_counter()
    failed = [type(error).__name__ for error in apply_concurrently(consumers, delivered, BATCH)]
    elapsed = time.perf_counter() - started
    conflicts = sum(c.joins.conflicts for c in consumers)
    lost_on: Counter[str] = sum((c.joins.lost_on for c in consumers), Counter())

    _, summaries = RunReader().run_with_steps(
        RunKey(spec.flow, spec.run_id, account="123456789012", region="us-east-1")
    )
    want = {key[2]: summary for key, summary in expected.steps.items()}
    matched = {s.step: s for s in summaries} == want
    return {
        "ingest.fanout_10k.events": {"value": count, "unit": "events"},
        "ingest.fanout_10k.events_per_s": {"value": round(count / elapsed, 1), "unit": "events/s"},
        "ingest.fanout_10k.conflicts_per_event": {"value": round(conflicts / count, 4), "unit": "retries"},
        **{
            f"ingest.fanout_10k.conflicts_per_event.{on}": {
                "value": round(lost_on[on] / count, 4),
                "unit": "retries",
            }
            for on in ("tasks", "step", "run", "other")
        },
        "ingest.fanout_10k.server_errors_read_back": {
            "value": sum(c.joins.server_errors for c in consumers),
            "unit": "transactions",
        },
        "ingest.fanout_10k.failed_events": {"value": len(failed), "unit": "events"},
        "ingest.fanout_10k.writes_per_event": {
            "value": round(repository.write_requests / count, 2),
            "unit": "requests",
        },
        "ingest.fanout_10k.step_summaries_matched": {"value": int(matched), "unit": "bool"},
    }
