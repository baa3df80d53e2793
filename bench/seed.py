"""Fast seeding of big run tables: raw run and tag items written by several threads with BatchWriteItem.

Writing 100,000 runs through PynamoDB models one batch at a time took about 35 minutes; most of it was
building and serialising models on one thread while DynamoDB Local waited. Here each run's items are built
as DynamoDB attribute values directly (the same items and index keys ingest writes: the run item of
store/records.run_to_item and the tag items of store/run_tags; tests/unit/test_bench_seed.py compares them)
and sent 25 at a time from several threads, each with its own client.

Where the time goes (Java Flight Recorder on DynamoDB Local, CPU time of both processes): DynamoDB Local
applies every write on one queue thread and spends about 2 ms of CPU per item, most of it in Jackson
turning the item to and from the JSON it keeps in SQLite; a run item with its eight index entries costs
little more than a tag item with none. A table with a stream costs twice that, and more as the stream's
records pile up in the process (9 ms an item once a few tables' worth were written), which is why the
benchmarks' tables have no stream (bench/api.py `_table`). Without it the cost per item stays flat from
10,000 to 70,000 items. Building and sending the requests costs Python about 0.5 ms an item; a second
thread does that while DynamoDB Local works, more threads only queue behind its one writer.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import boto3

from runwatch.domain.run_state import RunState
from runwatch.domain.times import iso
from runwatch.store.keys import (
    ACTIVE_RUN,
    RECENT_RUNS,
    RUN_SK,
    flow_pk,
    project_only_pk,
    project_pk,
    run_id_pk,
    run_pk,
    started_sk,
    status_pk,
    tag_pk,
    tag_sk,
    user_pk,
)
from runwatch.store.records import expiry

RawItem = dict[str, dict[str, Any]]
BATCH = 25


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _failure(state: RunState) -> dict[str, Any] | None:
    failure = state.failure
    if failure is None:
        return None
    fields: dict[str, Any] = {
        "at": _n(failure.at),
        "attempt": _n(failure.attempt),
        "failure_class": _s(failure.failure_class),
        "step": _s(failure.step),
        "task_id": _s(failure.task_id),
    }
    if failure.exit_code is not None:
        fields["exit_code"] = _n(failure.exit_code)
    if failure.status_reason is not None:
        fields["status_reason"] = _s(failure.status_reason)
    return {"M": fields}


def raw_run_item(state: RunState, now_ms: int, retention_days: int) -> RawItem:
    """The run item ingest writes for `state` (version 1), for the fields a benchmark's runs have: identity,
    orchestrator, user, project, branch, tags, start, and a success or one task failure."""
    key = state.key
    pk = run_pk(key.account, key.region, key.flow, key.run_id)
    started = iso(state.started_at) or iso(now_ms) or ""
    item: RawItem = {
        "pk": _s(pk),
        "sk": _s(RUN_SK),
        "kind": _s("run"),
        "version": _n(1),
        "status": _s(state.status),
        "flow": _s(key.flow),
        "run_id": _s(key.run_id),
        "account": _s(key.account),
        "region": _s(key.region),
        "orchestrator": _s(state.orchestrator),
        "tags": {"L": [_s(tag) for tag in state.tags]},
        "failures": {"L": [f for f in [_failure(state)] if f is not None]},
        "flow_pk": _s(flow_pk(key.flow)),
        "recent_pk": _s(RECENT_RUNS),
        "status_pk": _s(status_pk(state.status)),
        "started_sk": _s(started_sk(started, key.run_id)),
        "run_id_pk": _s(run_id_pk(key.run_id)),
        "expires_at": _n(expiry(now_ms, retention_days)),
    }
    optional: dict[str, dict[str, Any] | None] = {
        "user": _s(state.user) if state.user else None,
        "user_pk": _s(user_pk(state.user)) if state.user else None,
        "project": _s(state.project) if state.project else None,
        "branch": _s(state.branch) if state.branch else None,
        "project_pk": _s(project_pk(state.project, state.branch)) if state.project and state.branch else None,
        "project_only_pk": _s(project_only_pk(state.project)) if state.project else None,
        "first_seen_at": _n(state.first_seen_at) if state.first_seen_at is not None else None,
        "end_succeeded_at": _n(state.end_succeeded_at) if state.end_succeeded_at is not None else None,
        "started_at": _s(started) if state.started_at is not None else None,
        "finished_at": _s(iso(state.finished_at) or "") if state.finished_at is not None else None,
        "failure": _failure(state),
    }
    item.update({name: value for name, value in optional.items() if value is not None})
    if not state.is_terminal:  # an ended run as the sweeper leaves it: out of `active_keys`
        item["active_pk"] = _s(ACTIVE_RUN)
    return item


def raw_tag_items(state: RunState, now_ms: int, retention_days: int) -> list[RawItem]:
    """The run's tag items, as store/run_tags.py writes them."""
    if not state.tags or state.started_at is None:
        return []
    key = state.key
    started = started_sk(iso(state.started_at) or "", key.run_id)
    shared: RawItem = {
        "kind": _s("run_tag"),
        "sk": _s(tag_sk(started, run_pk(key.account, key.region, key.flow, key.run_id))),
        "flow": _s(key.flow),
        "run_id": _s(key.run_id),
        "account": _s(key.account),
        "region": _s(key.region),
        "started_sk": _s(started),
        "orchestrator": _s(state.orchestrator),
        "tags": {"L": [_s(tag) for tag in state.tags]},
        "expires_at": _n(expiry(now_ms, retention_days)),
    }
    for name in ("user", "project", "branch"):
        value = getattr(state, name)
        if value:
            shared[name] = _s(value)
    return [{**shared, "pk": _s(tag_pk(tag))} for tag in state.tags]


def raw_items(states: Iterable[RunState], now_ms: int, retention_days: int) -> Iterator[RawItem]:
    for state in states:
        yield raw_run_item(state, now_ms, retention_days)
        yield from raw_tag_items(state, now_ms, retention_days)


def _chunks(items: Iterable[RawItem]) -> Iterator[list[RawItem]]:
    chunk: list[RawItem] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == BATCH:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def write_parallel(endpoint: str, table: str, items: Iterable[RawItem], threads: int = 4) -> int:
    """Put every item with BatchWriteItem from `threads` threads (25 items a request, unprocessed items
    sent again); returns the number of items written."""
    local = threading.local()

    def client() -> Any:
        if not hasattr(local, "client"):
            local.client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
        return local.client

    def send(chunk: list[RawItem]) -> int:
        pending: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in chunk]}
        while pending:
            answer = client().batch_write_item(RequestItems=pending)
            pending = answer.get("UnprocessedItems") or {}
        return len(chunk)

    written = 0
    with ThreadPoolExecutor(max_workers=threads) as pool:
        in_flight: deque[Future[int]] = deque()
        for chunk in _chunks(items):
            in_flight.append(pool.submit(send, chunk))
            if len(in_flight) >= 4 * threads:  # bounded: a 100,000-run table is never all in memory
                written += in_flight.popleft().result()
        written += sum(future.result() for future in in_flight)
    return written
