"""Paging through every listing: each run exactly once, newest first, with bounded reads per request."""

from __future__ import annotations

import math
from typing import Any

import pytest
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver

from runwatch.api.app import create_app
from runwatch.domain.run_state import RunKey, RunState
from runwatch.domain.task_state import Failure
from runwatch.paging import PageTokens, key_from_secret
from runwatch.services.queries import RunQueries
from runwatch.store.repository import StatusRepository
from runwatch.store.run_queries import RunReader
from tests.unit.api.rest import call

T0 = 1_795_000_000_000
FLOWS = {"AlphaFlow": 20, "BetaFlow": 15, "demo.prod.GammaFlow": 8}


def _state(flow: str, n: int) -> RunState:
    # Every third run shares its start with the previous one: the run id must break the tie.
    started = T0 + (n - n % 3 // 2) * 60_000
    run = RunState(
        key=RunKey(flow, f"17950000{n:08d}", account="123456789012", region="us-east-1"),
        orchestrator="batch",
        user="alice",
        first_seen_at=started,
    )
    if n % 4 == 0:
        failure = Failure(started + 1000, "train", "2", 0, "oom", "OutOfMemoryError", 137)
        return RunState(**{**_fields(run), "failures": (failure,)})
    if n % 4 == 1:
        return RunState(**{**_fields(run), "end_succeeded_at": started + 5000})
    return run


def _fields(run: RunState) -> dict[str, Any]:
    return {name: getattr(run, name) for name in run.__slots__}  # type: ignore[attr-defined]


@pytest.fixture
def runs(repository: StatusRepository) -> list[RunState]:
    """43 runs over three flows, saved with the repository ingest uses: running, failed, succeeded."""
    states = []
    n = 0
    for flow, count in FLOWS.items():
        for _ in range(count):
            state = _state(flow, n)
            repository.save_run(state, None)
            repository.record_flow_run(state)
            states.append(state)
            n += 1
    return states


def _newest_first(states: list[RunState]) -> list[tuple[str, str]]:
    ordered = sorted(states, key=lambda s: (s.started_at or 0, s.key.run_id), reverse=True)
    return [(s.key.flow, s.key.run_id) for s in ordered]


def _walk(
    api: APIGatewayRestResolver,
    target: str,
    key: str = "runs",
    token: str | None = None,
    max_pages: int = 200,
) -> list[list[Any]]:
    pages: list[list[Any]] = []
    separator = "&" if "?" in target else "?"
    for _ in range(max_pages):
        reply = call(api, target + (f"{separator}next_token={token}" if token else ""))
        assert reply.status == 200, reply.text
        body = reply.json()
        pages.append(body[key])
        token = body["next_token"]
        if token is None:
            return pages
    raise AssertionError("pagination did not end")


def _ids(pages: list[list[Any]]) -> list[tuple[str, str]]:
    return [(r["flow"], r["run_id"]) for page in pages for r in page]


@pytest.mark.parametrize("limit", [1, 5, 42, 43, 100])
def test_recent_runs_each_once_newest_first(
    api: APIGatewayRestResolver, runs: list[RunState], limit: int
) -> None:
    pages = _walk(api, f"/runs?limit={limit}")
    assert _ids(pages) == _newest_first(runs)
    # Full pages until the last, and no empty trailing page.
    assert len(pages) == math.ceil(len(runs) / limit)
    assert all(len(p) == limit for p in pages[:-1]) and pages[-1]


def test_runs_by_status(api: APIGatewayRestResolver, runs: list[RunState]) -> None:
    for status in ("failed", "succeeded", "running"):
        expected = _newest_first([s for s in runs if s.status == status])
        assert expected
        pages = _walk(api, f"/runs?status={status}&limit=4")
        assert _ids(pages) == expected
        assert {r["status"] for page in pages for r in page} == {status}
    assert _walk(api, "/runs?status=timed_out") == [[]]


def test_flow_runs(api: APIGatewayRestResolver, runs: list[RunState]) -> None:
    for flow in FLOWS:
        assert _ids(_walk(api, f"/flows/{flow}/runs?limit=6")) == _newest_first(
            [s for s in runs if s.key.flow == flow]
        )


def test_flow_runs_by_status_read_a_bounded_number_of_items(
    reader: RunReader, table_name: str, runs: list[RunState]
) -> None:
    """A rare status in a long history: every request evaluates at most the budget, pages may be short."""
    budget = 4
    api = create_app(RunQueries(RunReader(filter_budget=budget), PageTokens(key_from_secret(table_name))))
    calls_before = reader.calls
    expected = _newest_first([s for s in runs if s.key.flow == "AlphaFlow" and s.status == "failed"])
    pages = _walk(api, "/flows/AlphaFlow/runs?status=failed&limit=2")
    assert _ids(pages) == expected
    assert all(len(page) <= 2 for page in pages)
    assert any(len(page) < 2 for page in pages[:-1])  # short pages are expected, and skip nothing
    # 20 AlphaFlow runs, 4 evaluated per request: about 20 / 4 requests, never a walk of the whole flow.
    assert len(pages) <= 20 // budget + 2
    assert reader.calls == calls_before


def test_filter_budget_is_per_request(repository: StatusRepository, runs: list[RunState]) -> None:
    reader = RunReader(filter_budget=10)
    page = reader.flow_runs("AlphaFlow", limit=100, status="timed_out")
    assert page.items == [] and page.next_key is not None
    assert reader.calls == 1
    follow = reader.flow_runs("AlphaFlow", limit=100, start=page.next_key, status="timed_out")
    assert follow.items == [] and follow.next_key is not None
    last = reader.flow_runs("AlphaFlow", limit=100, start=follow.next_key, status="timed_out")
    assert last.items == [] and last.next_key is None
    assert reader.calls == 3


def test_flows_by_name_with_their_newest_run(api: APIGatewayRestResolver, runs: list[RunState]) -> None:
    pages = _walk(api, "/flows?limit=2", key="flows")
    assert [len(p) for p in pages] == [2, 1]
    entries = [e for page in pages for e in page]
    assert [e["flow"] for e in entries] == sorted(FLOWS)
    for entry in entries:
        newest = _newest_first([s for s in runs if s.key.flow == entry["flow"]])[0]
        assert (entry["last_run"]["flow"], entry["last_run"]["run_id"]) == newest


def test_new_runs_do_not_disturb_a_walk(
    api: APIGatewayRestResolver, repository: StatusRepository, runs: list[RunState]
) -> None:
    first = call(api, "/runs?limit=10").json()
    newer = RunState(
        key=RunKey("AlphaFlow", "1799999999999999", account="123456789012", region="us-east-1"),
        orchestrator="batch",
        first_seen_at=T0 * 2,
    )
    repository.save_run(newer, None)
    rest = _walk(api, "/runs?limit=10", token=first["next_token"])
    assert _ids([first["runs"], *rest]) == _newest_first(runs)
    assert _ids(_walk(api, "/runs?limit=10"))[0] == ("AlphaFlow", "1799999999999999")


def _bad_token(api: APIGatewayRestResolver, target: str) -> None:
    reply = call(api, target)
    assert reply.status == 400, reply.text
    assert reply.json()["parameter"] == "next_token"


def test_tokens_only_continue_their_own_listing(
    api: APIGatewayRestResolver, table_name: str, runs: list[RunState]
) -> None:
    runs_token = call(api, "/runs?limit=2").json()["next_token"]
    alpha_token = call(api, "/flows/AlphaFlow/runs?limit=2").json()["next_token"]
    flows_token = call(api, "/flows?limit=1").json()["next_token"]
    assert call(api, f"/runs?limit=7&next_token={runs_token}").status == 200  # page size may change
    _bad_token(api, f"/runs?status=failed&next_token={runs_token}")
    _bad_token(api, f"/flows/BetaFlow/runs?next_token={alpha_token}")
    _bad_token(api, f"/flows/AlphaFlow/runs?status=failed&next_token={alpha_token}")
    _bad_token(api, f"/runs?next_token={flows_token}")
    _bad_token(api, f"/flows?next_token={runs_token}")
    _bad_token(api, f"/runs?next_token={runs_token[:-3]}")
    _bad_token(api, f"/runs?next_token={runs_token[1:]}")
    other_table = create_app(RunQueries(RunReader(), PageTokens(key_from_secret(table_name + "-other"))))
    _bad_token(other_table, f"/runs?next_token={runs_token}")


def test_signed_position_of_another_partition_is_refused(
    table_name: str, reader: RunReader, runs: list[RunState]
) -> None:
    """Defense in depth: even a correctly signed token only moves within its own index partition."""
    tokens = PageTokens(key_from_secret(table_name))
    query = {"list": "flow_runs", "flow": "AlphaFlow", "status": None}
    position = reader.flow_runs("BetaFlow", limit=1).next_key
    assert position is not None
    api = create_app(RunQueries(reader, tokens))
    _bad_token(api, f"/flows/AlphaFlow/runs?next_token={tokens.issue(query, position)}")
    extra = {**position, "evil": "x"}
    _bad_token(api, f"/flows/BetaFlow/runs?next_token={tokens.issue({**query, 'flow': 'BetaFlow'}, extra)}")
