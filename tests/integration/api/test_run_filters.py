"""Run listing filters against DynamoDB Local: every filter alone and combined equals a brute-force filter of
the same seeded runs, paged with small limits with no gap or repeat, each page within its read budget."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import pytest
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver

from runwatch.api.app import create_app
from runwatch.domain.run_state import ExecutionFact, RunKey, RunState
from runwatch.domain.task_state import Failure
from runwatch.domain.times import iso
from runwatch.paging import PageTokens, key_from_secret
from runwatch.services.ingest.views import RunTagView
from runwatch.services.queries import RunQueries
from runwatch.store.repository import StatusRepository
from runwatch.store.run_queries import RunReader
from tests.unit.api.rest import call

T0 = 1_795_000_000_000
HOUR = 3_600_000
USERS = ("alice", "bob", "carol", "dave")
PROJECTS = (("churn", "prod"), ("churn", "user.alice"), ("fraud", "prod"), ("fraud", "test"), (None, None))
TAGS = ("team:ml", "team:data", "env:prod", "sweep", "nightly")
ACCOUNTS = ("111111111111", "222222222222")
FLOWS = ("TrainFlow", "ScoreFlow", "churn.prod.EtlFlow")
STATUSES = ("running", "succeeded", "failed", "timed_out", "aborted")


def _seeded_run(n: int, pick: random.Random) -> RunState:
    """Run n: every attribute drawn so that each filter value has several runs, some start times tied."""
    started = T0 + (n // 3) * HOUR + (0 if n % 3 == 2 else n % 3) * 60_000
    project, branch = pick.choice(PROJECTS)
    run = RunState(
        key=RunKey(pick.choice(FLOWS), f"{9000 + n}", account=pick.choice(ACCOUNTS), region="us-east-1"),
        orchestrator=pick.choice(("batch", "step-functions")),
        user=pick.choice(USERS),
        project=project,
        branch=branch,
        tags=tuple(sorted(pick.sample(TAGS, pick.randint(0, 3)))),
        first_seen_at=started,
    )
    status = STATUSES[n % len(STATUSES)]
    if status == "succeeded":
        return replace(run, end_succeeded_at=started + HOUR)
    if status == "failed":
        return replace(run, failures=(Failure(started + 1000, "train", "2", 0, "oom", "OOM", 137),))
    if status == "timed_out":
        return replace(run, execution=ExecutionFact(0, True, started + HOUR, "TIMED_OUT", None, None))
    if status == "aborted":
        return replace(run, killed_at=started + 2000)
    return run


@pytest.fixture
def seeded(repository: StatusRepository) -> list[RunState]:
    """90 runs over users, projects, branches, tags, accounts, orchestrators, statuses and 30 hours."""
    pick = random.Random(8)
    tags = RunTagView(repository)
    states = []
    for n in range(90):
        state = _seeded_run(n, pick)
        repository.save_run(state, None)
        tags.update(None, state)
        states.append(state)
    return states


def _brute_force(runs: list[RunState], params: dict[str, Any]) -> list[tuple[str, str]]:
    """What the listing must hold, newest first: each run checked against every parameter given."""

    def keep(run: RunState) -> bool:
        started = run.started_at or 0
        checks = [
            params.get("flow") in (None, run.key.flow),
            "status" not in params or run.status in params["status"].split(","),
            params.get("user") in (None, run.user),
            params.get("project") in (None, run.project),
            params.get("branch") in (None, run.branch),
            params.get("orchestrator") in (None, run.orchestrator),
            params.get("account") in (None, run.account),
            all(tag in run.tags for tag in params.get("tag", [])),
            "since" not in params or started >= params["since"],
            "until" not in params or started <= params["until"],
        ]
        return all(checks)

    chosen = sorted((r for r in runs if keep(r)), key=lambda r: (r.started_at, r.key.run_id), reverse=True)
    return [(r.key.flow, r.key.run_id) for r in chosen]


def _target(params: dict[str, Any]) -> str:
    query = {k: v for k, v in params.items() if k not in ("flow", "since", "until")}
    for bound in ("since", "until"):
        if bound in params:  # alternately ISO 8601 and epoch milliseconds
            query[bound] = iso(params[bound]) if bound == "since" else str(params[bound])
    path = f"/flows/{params['flow']}/runs" if "flow" in params else "/runs"
    return f"{path}?{urlencode(query, doseq=True)}"


def _walk(api: APIGatewayRestResolver, reader: RunReader, target: str) -> list[tuple[str, str]]:
    """Every run of the listing, page by page; each page within two Queries (plus one BatchGetItem by tag)."""
    found: list[tuple[str, str]] = []
    token = None
    for _ in range(200):
        before = reader.calls
        reply = call(api, target + (f"&next_token={token}" if token else ""))
        assert reply.status == 200, reply.text
        assert reader.calls - before <= (3 if "tag=" in target else 2), target
        body = reply.json()
        assert len(body["runs"]) <= 3
        found += [(r["flow"], r["run_id"]) for r in body["runs"]]
        token = body["next_token"]
        if token is None:
            return found
    raise AssertionError("paging did not end")


CASES: list[dict[str, Any]] = [
    {},
    {"status": "failed"},
    {"status": "failed,timed_out"},
    {"user": "alice"},
    {"project": "churn", "branch": "prod"},
    {"project": "fraud"},
    {"branch": "prod"},
    {"tag": ["team:ml"]},
    {"tag": ["team:ml", "env:prod"]},
    {"orchestrator": "step-functions"},
    {"account": "222222222222"},
    {"since": T0 + 10 * HOUR},
    {"until": T0 + 12 * HOUR},
    {"since": T0 + 5 * HOUR, "until": T0 + 20 * HOUR + 60_000},
    {"flow": "TrainFlow"},
    {"flow": "TrainFlow", "user": "bob", "status": "running,succeeded"},
    {"user": "alice", "status": "failed", "since": T0 + 3 * HOUR},
    {"project": "churn", "branch": "prod", "tag": ["team:data"]},
    {"project": "churn", "user": "carol"},
    {"tag": ["sweep"], "status": "succeeded,aborted", "account": "111111111111"},
    {"tag": ["nightly"], "since": T0 + 8 * HOUR, "until": T0 + 25 * HOUR},
    {"tag": ["team:ml"], "user": "dave", "orchestrator": "batch"},
    {"flow": "ScoreFlow", "tag": ["env:prod"], "since": T0 + 2 * HOUR},
    {"flow": "churn.prod.EtlFlow", "project": "fraud", "branch": "test"},
    {"user": "nobody"},
    {"tag": ["no-such-tag"]},
]


def test_filters_equal_a_brute_force_filter(table_name: str, seeded: list[RunState]) -> None:
    """One seeded table for every case (seeding dominates the time)."""
    reader = RunReader()
    api = create_app(RunQueries(reader, PageTokens(key_from_secret(table_name))))
    non_empty = 0
    for params in CASES:
        expected = _brute_force(seeded, params)
        got = _walk(api, reader, _target({**params, "limit": 3}))
        assert len(got) == len(set(got)), params
        assert got == expected, params
        non_empty += bool(expected)
    assert non_empty >= len(CASES) - 2  # the seed gives almost every case runs to find


def test_a_small_budget_still_finds_every_run(table_name: str, seeded: list[RunState]) -> None:
    """Rare matches in a long read: pages are short (even empty) with a token, and nothing is skipped."""
    reader = RunReader(filter_budget=7)
    api = create_app(RunQueries(reader, PageTokens(key_from_secret(table_name))))
    for params in (
        {"status": "aborted,timed_out", "account": "111111111111"},
        {"tag": ["sweep"], "user": "bob"},
    ):
        assert _walk(api, reader, _target({**params, "limit": 3})) == _brute_force(seeded, params)


def test_a_run_whose_start_moves_earlier_is_listed_once_by_tag(
    table_name: str, repository: StatusRepository, api: APIGatewayRestResolver
) -> None:
    run = RunState(
        key=RunKey("TagFlow", "1", account="111111111111", region="us-east-1"),
        orchestrator="batch",
        tags=("moved",),
        first_seen_at=T0 + HOUR,
    )
    version = repository.save_run(run, None)
    repository.record_run_tags(None, run)
    earlier = replace(run, first_seen_at=T0, user="erin", tags=("moved", "more"))
    repository.save_run(earlier, version)
    repository.record_run_tags(run, earlier)
    body = call(api, "/runs?tag=moved").json()
    assert [(r["run_id"], r["started_at"]) for r in body["runs"]] == [("1", iso(T0))]
    assert [r["run_id"] for r in call(api, "/runs?tag=more&user=erin").json()["runs"]] == ["1"]
    # An item left under the old start (its deletion lost) no longer matches its run: skipped, not repeated.
    repository.record_run_tags(None, run)
    assert [r["run_id"] for r in call(api, "/runs?tag=moved").json()["runs"]] == ["1"]


BAD = [
    ("/runs?status=failed,bogus", "status"),
    ("/runs?status=", "status"),
    ("/flows/F/runs?status=pending", "status"),
    ("/runs?since=yesterday", "since"),
    ("/runs?until=2026-13-01T00:00:00Z", "until"),
    ("/runs?since=2026-11-30T00:00:00Z&until=2026-11-29T00:00:00Z", "since"),
    ("/runs?since=1795000000001&until=1795000000000", "since"),
    ("/runs?orchestrator=airflow", "orchestrator"),
    ("/runs?limit=0", "limit"),
    ("/runs?limit=101", "limit"),
    ("/runs?limit=ten", "limit"),
    ("/runs?user=", "user"),
    ("/runs?account=12", "account"),
    ("/runs?" + "&".join(f"tag=t{i}" for i in range(11)), "tag"),
    ("/runs?tag=ok&tag=", "tag"),
    ("/runs?tag=" + "x" * 257, "tag"),
    ("/runs?since=1795000000", "since"),
]


def test_bad_filters_are_400_naming_the_parameter(api: APIGatewayRestResolver) -> None:
    for target, parameter in BAD:
        reply = call(api, target)
        assert reply.status == 400, (target, reply.text)
        assert reply.json()["parameter"] == parameter, target
        assert reply.json()["message"]


def test_a_token_only_continues_the_filters_it_was_issued_with(
    api: APIGatewayRestResolver, seeded: list[RunState]
) -> None:
    token = call(api, "/runs?user=alice&tag=team:ml&limit=1").json()["next_token"]
    assert token
    assert call(api, f"/runs?tag=team:ml&user=alice&limit=2&next_token={token}").status == 200
    for other in (
        "user=bob&tag=team:ml",
        "user=alice",
        "user=alice&tag=team:ml&tag=sweep",
        "user=alice&tag=team:ml&since=1795000000000",
        "user=alice&tag=team:ml&status=failed",
    ):
        reply = call(api, f"/runs?{other}&next_token={token}")
        assert reply.status == 400, other
        assert reply.json()["parameter"] == "next_token"
