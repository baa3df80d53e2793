"""Status API latency through the resolver (the Lambda's code path) against DynamoDB Local.

Seeds tables of 1,000 and 100,000 runs over 23 flows, 20 users, projects, branches and tags (raw items from
two threads, bench/seed.py), and one run of 200 tasks (ingested from its
synthetic events), then times `app.resolve(event)` for the listings at both sizes (in turns, so both sizes
see the same machine) and for the big run's
detail: p50 / p95 of repeated requests, the DynamoDB requests each one makes, and the detail's size.
Listings are Queries, so the two sizes should cost the same; that includes the filtered ones (user,
project and branch, tag, since), each read from its own index. A flow of 600 runs measures its health
over its 500 newest finished runs (`api.flow_stats`).
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

from bench.seed import raw_items, write_parallel
from runwatch.api.app import create_app
from runwatch.domain.run_state import RunKey, RunState
from runwatch.domain.task_state import Failure
from runwatch.domain.times import iso
from runwatch.domain.usage import UsageTotals
from runwatch.paging import PageTokens, key_from_secret
from runwatch.services.ingest import Ingestor
from runwatch.services.queries import RunQueries
from runwatch.settings import TableSettings
from runwatch.store.models import RunItem
from runwatch.store.records import run_to_item
from runwatch.store.repository import StatusRepository
from runwatch.store.run_queries import RunReader
from runwatch.wiring import bind_table
from runwatch_dev.local.dynamodb_local import DynamoDBLocal
from runwatch_dev.local.synth import RunSpec, simulate_run
from runwatch_dev.local.table_from_template import create_table
from tests.unit.api.rest import rest_event

TABLE_SIZES = {"1k": 1_000, "100k": 100_000}
FLOWS = (*(f"Flow{n:02d}" for n in range(20)), "TrainFlow", "ScoringFlow", "demo.prod.FanoutFlow")
BIG_FANOUT = 197  # start + 197 foreach tasks + join + end = 200 tasks
REPEATS = 60
T0 = 1_795_000_000_000


USERS = tuple(f"user{n:02d}" for n in range(20))
PROJECTS = (("churn", "prod"), ("churn", "user.alice"), ("fraud", "prod"), ("fraud", "test"), (None, None))
TAGS = ("team:ml", "team:data", "env:prod", "sweep", "nightly")
# A quarter of the runs carry one or two tags: the `team:ml` partition holds about 7,500 runs of the
# 100,000 (75 of 1,000, three pages), and the table about 137,500 items instead of 200,000 when every
# run had up to two tags (a tag item costs DynamoDB Local as much as a run item: bench/seed.py).
TAGGED_SHARE = 0.25
# DynamoDB Local applies writes one at a time on one thread; a second sending thread builds and sends the
# next batch while it works (bench/seed.py).
SEED_THREADS = 2


def _seeded_state(n: int, count: int, rng: random.Random) -> RunState:
    started = T0 - (count - n) * 60_000
    project, branch = rng.choice(PROJECTS)
    state = RunState(
        key=RunKey(
            FLOWS[n % len(FLOWS)], str(17950000000000 + n), account="123456789012", region="us-east-1"
        ),
        orchestrator="batch",
        user=rng.choice(USERS),
        project=project,
        branch=branch,
        tags=tuple(sorted(rng.sample(TAGS, rng.randint(1, 2)))) if rng.random() < TAGGED_SHARE else (),
        first_seen_at=started,
    )
    roll = rng.random()
    if roll < 0.7:
        return RunState(**{**_fields(state), "end_succeeded_at": started + 600_000})
    if roll < 0.85:
        failure = Failure(started + 300_000, "train", "3", 2, "oom", "OutOfMemoryError", 137)
        return RunState(**{**_fields(state), "failures": (failure,)})
    return state


def _seed_runs(count: int, repository: StatusRepository, endpoint: str, table: str) -> None:
    """`count` finished or running runs over the flows, users, projects and tags: their run and tag items
    built raw and written by several threads (bench/seed.py), then each flow's newest run."""
    rng = random.Random(count)
    states = [_seeded_state(n, count, rng) for n in range(count)]
    write_parallel(
        endpoint, table, raw_items(states, repository.clock(), repository.retention_days), SEED_THREADS
    )
    latest = {state.key.flow: state for state in states}
    for state in latest.values():
        repository.record_flow_run(state)


def _fields(state: RunState) -> dict[str, Any]:
    return {name: getattr(state, name) for name in state.__slots__}  # type: ignore[attr-defined]


def _timed(calls: dict[str, Callable[[], dict[str, Any]]]) -> dict[str, tuple[list[float], list[float], int]]:
    """Each call's latencies and this process's CPU time (ms; every thread's, DynamoDB Local's left out) and
    body size, REPEATS times, the calls taking turns so that each one sees the same machine (its load varies
    by the minute when other work runs)."""
    samples: dict[str, list[float]] = {label: [] for label in calls}
    cpu: dict[str, list[float]] = {label: [] for label in calls}
    sizes = dict.fromkeys(calls, 0)
    for call in calls.values():
        call()  # warm: connection pool, OpenAPI-free code paths, caches
    for _ in range(REPEATS):
        for label, call in calls.items():
            started, cpu_started = time.perf_counter(), time.process_time()
            response = call()
            samples[label].append((time.perf_counter() - started) * 1000)
            cpu[label].append((time.process_time() - cpu_started) * 1000)
            sizes[label] = len(response.get("body") or "")
    return {label: (samples[label], cpu[label], sizes[label]) for label in calls}


def _table(ddb: DynamoDBLocal, name: str) -> str:
    """A table of the template's keys and indexes without its stream, bound to the store: no benchmark
    reads the stream, and DynamoDB Local's stream records would double the cost of every write and slow
    the later ones down as they pile up."""
    client = boto3.client("dynamodb", endpoint_url=ddb.endpoint, region_name="us-east-1")
    table = f"runwatch-bench-api-{name}-{uuid.uuid4().hex[:8]}"
    create_table(client, table, stream=False)
    bind_table(TableSettings(table_name=table, dynamodb_endpoint=ddb.endpoint))
    return table


def _measure(
    name: str, call: Callable[[], dict[str, Any]], reader: RunReader, suffix: str = ""
) -> dict[str, Any]:
    return _measure_together(name, {suffix: (call, reader)})


def _measure_together(
    name: str, calls: dict[str, tuple[Callable[[], dict[str, Any]], RunReader]]
) -> dict[str, Any]:
    """p50, p95 and DynamoDB requests of `name` for each suffix's call (timed in turns: _timed)."""
    before = {suffix: reader.calls for suffix, (_, reader) in calls.items()}
    timed = _timed({suffix: call for suffix, (call, _) in calls.items()})
    results: dict[str, dict[str, Any]] = {}
    for suffix, (samples, cpu, size) in timed.items():
        reader = calls[suffix][1]
        requests = (reader.calls - before[suffix]) // (REPEATS + 1)
        results[f"api.{name}.p50_ms{suffix}"] = {"value": round(statistics.median(samples), 1), "unit": "ms"}
        results[f"api.{name}.p95_ms{suffix}"] = {
            "value": round(statistics.quantiles(samples, n=20)[-1], 1),
            "unit": "ms",
        }
        results[f"api.{name}.dynamodb_requests{suffix}"] = {"value": requests, "unit": "requests"}
        if name.startswith("run_detail"):
            results[f"api.{name}.body_kb"] = {"value": round(size / 1024, 1), "unit": "KB"}
            # Steadier than the wall time when the machine is shared: the detail's own work, not its waits.
            results[f"api.{name}.cpu_p50_ms"] = {"value": round(statistics.median(cpu), 1), "unit": "ms"}
    return results


LISTINGS = {
    "list_runs": "/runs",
    "list_runs_failed": "/runs?status=failed",
    "list_flow_runs": "/flows/TrainFlow/runs",
    "list_flow_runs_failed": "/flows/TrainFlow/runs?status=failed",
    "list_flows": "/flows",
    "list_runs_user": "/runs?user=user07",
    "list_runs_project_branch": "/runs?project=churn&branch=prod",
    "list_runs_tag": "/runs?tag=team:ml",
    "list_runs_since": f"/runs?since={iso(T0 - 3 * 3_600_000)}",
}


def _seeded_app(ddb: DynamoDBLocal, label: str, count: int) -> tuple[Any, RunReader, dict[str, Any]]:
    """The API over a new table of `count` seeded runs, its reader, and how long the seeding took."""
    table = _table(ddb, label)
    started = time.perf_counter()
    _seed_runs(count, StatusRepository(), ddb.endpoint, table)
    seed_s = {f"api.seed_s.{label}": {"value": round(time.perf_counter() - started, 1), "unit": "s"}}
    reader = RunReader()
    return create_app(RunQueries(reader, PageTokens(key_from_secret(table)))), reader, seed_s


def _listings(ddb: DynamoDBLocal, sizes: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Every listing on tables of each size: all tables seeded first, then each listing timed on them in
    turns, so that the sizes' figures compare under the same load."""
    results: dict[str, dict[str, Any]] = {}
    apps: dict[str, tuple[Any, RunReader]] = {}
    for label, count in sizes.items():
        app, reader, seed_s = _seeded_app(ddb, label, count)
        apps[label] = (app, reader)
        results.update(seed_s)
    for name, path in LISTINGS.items():
        event = rest_event(path)
        calls = {
            f".{label}": (lambda app=app, event=event: app.resolve(event, None), reader)
            for label, (app, reader) in apps.items()
        }
        results.update(_measure_together(name, calls))
    return results


def _detail(app: Any, reader: RunReader, repository: StatusRepository) -> dict[str, dict[str, Any]]:
    big = RunSpec(flow="FanoutFlow", run_id="1795999999999999", fanout=BIG_FANOUT, start_ms=T0)
    ingestor = Ingestor(repository)
    for event in simulate_run(big, random.Random(5)):
        ingestor.ingest(event)
    target = f"/flows/{big.flow}/runs/{big.run_id}"
    detail = app.resolve(rest_event(target), None)
    tasks = sum(len(step["tasks"]) for step in json.loads(detail["body"])["steps"])
    etag = detail["multiValueHeaders"]["ETag"][0]
    results: dict[str, dict[str, Any]] = {"api.run_detail.tasks": {"value": tasks, "unit": "tasks"}}
    results.update(_measure("run_detail", lambda: app.resolve(rest_event(target), None), reader))
    cached = rest_event(target, {"If-None-Match": etag})
    results.update(_measure("run_detail_304", lambda: app.resolve(cached, None), reader))
    return results


def run_detail(ddb: DynamoDBLocal) -> dict[str, dict[str, Any]]:
    """Only the 200-task run's detail, on a table of its own (`make bench BENCH=run_detail`: seconds, where
    seeding the listings' 100,000-run table takes minutes)."""
    table = _table(ddb, "detail")
    reader = RunReader()
    app = create_app(RunQueries(reader, PageTokens(key_from_secret(table))))
    return _detail(app, reader, StatusRepository())


STATS_RUNS = 500


def _flow_stats(ddb: DynamoDBLocal) -> dict[str, dict[str, Any]]:
    """`GET /flows/{flow}/stats?runs=500` over a flow with 600 runs (about 500 finished, the rest running)."""
    table = _table(ddb, "stats")
    repository = StatusRepository()
    rng = random.Random(500)
    with RunItem.batch_write() as batch:
        for n in range(600):
            started = T0 - (600 - n) * 60_000
            state = RunState(
                key=RunKey("StatsFlow", str(17960000000000 + n), account="123456789012", region="us-east-1"),
                orchestrator="batch",
                first_seen_at=started,
                usage=UsageTotals(vcpu_ms=rng.randint(0, 10**9), memory_ms=rng.randint(0, 10**10)),
            )
            roll = rng.random()
            if roll < 0.7:
                state = RunState(
                    **{**_fields(state), "end_succeeded_at": started + rng.randint(1, 900) * 1000}
                )
            elif roll < 0.85:
                failure = Failure(started + 300_000, "train", "3", 2, "oom", "OutOfMemoryError", 137)
                state = RunState(**{**_fields(state), "failures": (failure,)})
            batch.save(run_to_item(state, 1, repository.clock(), repository.retention_days))
    reader = RunReader()
    app = create_app(RunQueries(reader, PageTokens(key_from_secret(table))))
    event = rest_event(f"/flows/StatsFlow/stats?runs={STATS_RUNS}")
    counted = json.loads(app.resolve(event, None)["body"])["runs"]
    results: dict[str, dict[str, Any]] = {"api.flow_stats.runs": {"value": counted, "unit": "runs"}}
    results.update(_measure("flow_stats", lambda: app.resolve(event, None), reader))
    return results


def run(ddb: DynamoDBLocal) -> dict[str, dict[str, Any]]:
    results = _listings(ddb, TABLE_SIZES)
    results.update(run_detail(ddb))
    results.update(_flow_stats(ddb))
    return results
