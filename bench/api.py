"""Status API latency through the resolver (the Lambda's code path) against DynamoDB Local.

Seeds 300 runs over five flows and one run of 200 tasks (ingested from its synthetic events), then times
`app.resolve(event)` for the listings and the big run's detail: p50 / p95 of repeated requests, the
DynamoDB requests each one makes, and the detail's response size.
"""

from __future__ import annotations

import json
import random
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3

from runwatch.api.app import create_app
from runwatch.api.pagination import PageTokens, key_from_secret
from runwatch.domain.run_state import RunKey, RunState
from runwatch.domain.task_state import Failure
from runwatch.local.dynamodb_local import DynamoDBLocal
from runwatch.local.synth import RunSpec, simulate_run
from runwatch.local.table_from_template import create_table
from runwatch.services.ingest import Ingestor
from runwatch.services.queries import RunQueries
from runwatch.store import models
from runwatch.store.repository import StatusRepository
from runwatch.store.run_queries import RunReader
from tests.unit.api.rest import rest_event

RUNS = 300
FLOWS = ("TrainFlow", "ScoringFlow", "FeatureFlow", "ReportFlow", "demo.prod.FanoutFlow")
BIG_FANOUT = 197  # start + 197 foreach tasks + join + end = 200 tasks
REPEATS = 60
T0 = 1_795_000_000_000


def _seed_runs(repository: StatusRepository) -> None:
    rng = random.Random(3)
    for n in range(RUNS):
        started = T0 + n * 60_000
        state = RunState(
            key=RunKey(FLOWS[n % len(FLOWS)], str(17950000000000 + n)),
            orchestrator="batch",
            user=rng.choice(["alice", "bob", "carol"]),
            tags=("team:ml",),
            first_seen_at=started,
        )
        roll = rng.random()
        if roll < 0.7:
            state = RunState(**{**_fields(state), "end_succeeded_at": started + 600_000})
        elif roll < 0.85:
            failure = Failure(started + 300_000, "train", "3", 2, "oom", "OutOfMemoryError", 137)
            state = RunState(**{**_fields(state), "failures": (failure,)})
        repository.save_run(state, None)
        repository.record_flow_run(state)


def _fields(state: RunState) -> dict[str, Any]:
    return {name: getattr(state, name) for name in state.__slots__}  # type: ignore[attr-defined]


def _timed(call: Callable[[], dict[str, Any]], reader: RunReader) -> tuple[list[float], int, int]:
    call()  # warm: connection pool, OpenAPI-free code paths, caches
    samples = []
    calls_before = reader.calls
    size = 0
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - started) * 1000)
        size = len(response.get("body") or "")
    return samples, (reader.calls - calls_before) // REPEATS, size


def run(ddb: DynamoDBLocal) -> dict[str, dict[str, Any]]:
    client = boto3.client("dynamodb", endpoint_url=ddb.endpoint, region_name="us-east-1")
    table = f"runwatch-bench-api-{uuid.uuid4().hex[:8]}"
    create_table(client, table)
    models.bind(table, host=ddb.endpoint, region="us-east-1")
    repository = StatusRepository()
    _seed_runs(repository)
    big = RunSpec(
        flow="FanoutFlow", run_id="1795999999999999", fanout=BIG_FANOUT, start_ms=T0 + RUNS * 60_000
    )
    ingestor = Ingestor(repository)
    for event in simulate_run(big, random.Random(5)):
        ingestor.ingest(event)

    reader = RunReader()
    app = create_app(RunQueries(reader, PageTokens(key_from_secret(table))))
    detail_target = f"/flows/{big.flow}/runs/{big.run_id}"
    detail = app.resolve(rest_event(detail_target), None)
    tasks = sum(len(step["tasks"]) for step in json.loads(detail["body"])["steps"])
    etag = detail["multiValueHeaders"]["ETag"][0]

    requests = {
        "runs": lambda: app.resolve(rest_event("/runs"), None),
        "runs_failed": lambda: app.resolve(rest_event("/runs?status=failed"), None),
        "flow_runs_failed": lambda: app.resolve(rest_event("/flows/TrainFlow/runs?status=failed"), None),
        "flows": lambda: app.resolve(rest_event("/flows"), None),
        "run_detail_200_tasks": lambda: app.resolve(rest_event(detail_target), None),
        "run_detail_200_tasks_304": lambda: app.resolve(
            rest_event(detail_target, {"If-None-Match": etag}), None
        ),
    }
    results: dict[str, dict[str, Any]] = {"api.run_detail.tasks": {"value": tasks, "unit": "tasks"}}
    for name, call in requests.items():
        samples, calls, size = _timed(call, reader)
        results[f"api.{name}.p50_ms"] = {"value": round(statistics.median(samples), 1), "unit": "ms"}
        results[f"api.{name}.p95_ms"] = {
            "value": round(statistics.quantiles(samples, n=20)[-1], 1),
            "unit": "ms",
        }
        results[f"api.{name}.dynamodb_requests"] = {"value": calls, "unit": "requests"}
        if name == "run_detail_200_tasks":
            results["api.run_detail_200_tasks.body_kb"] = {"value": round(size / 1024, 1), "unit": "KB"}
    return results
