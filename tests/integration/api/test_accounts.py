"""Two accounts, one run id: `TrainFlow/42` from dev and from prod stay two runs, in the table and the API."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver

from runwatch.domain.run_state import RunKey
from runwatch.store.repository import StatusRepository
from runwatch_dev.local.synth import EventFactory, RunSpec, simulate_run
from tests.unit.api.rest import call

DEV, PROD = "111111111111", "222222222222"
T0 = 1_795_000_000_000
SUCCEEDS = RunSpec(flow="TrainFlow", run_id="42", start_ms=T0, fanout=2)
FAILS = RunSpec(
    flow="TrainFlow", run_id="42", start_ms=T0 + 60_000, fanout=2, outcomes={"train": {1: ["oom"] * 3}}
)


def _both(ingest: Callable[[Iterable[Any]], list[str]]) -> None:
    """The dev run succeeds and the prod run fails; their events arrive interleaved and shuffled."""
    events = simulate_run(SUCCEEDS, factory=EventFactory(account=DEV)) + simulate_run(
        FAILS, factory=EventFactory(account=PROD, region="eu-west-1")
    )
    random.Random(14).shuffle(events)
    assert set(ingest(events)) <= {"applied", "duplicate"}  # an older event after a newer one changes nothing


def test_same_run_id_in_two_accounts_is_two_runs(
    repository: StatusRepository, ingest: Callable[[Iterable[Any]], list[str]]
) -> None:
    _both(ingest)

    dev, dev_tasks = repository.run_with_tasks(RunKey("TrainFlow", "42", account=DEV, region="us-east-1"))
    prod, prod_tasks = repository.run_with_tasks(RunKey("TrainFlow", "42", account=PROD, region="eu-west-1"))
    assert dev is not None and prod is not None
    assert (dev.state.status, prod.state.status) == ("succeeded", "failed")
    assert {t.key.account for t in dev_tasks} == {DEV} and {t.key.account for t in prod_tasks} == {PROD}
    assert len(dev_tasks) == 5  # start, two train tasks, join, end: none of prod's joined in


def test_api_lists_both_and_filters_on_account(
    api: APIGatewayRestResolver, ingest: Callable[[Iterable[Any]], list[str]]
) -> None:
    _both(ingest)

    for path in ("/runs", "/flows/TrainFlow/runs"):
        runs = call(api, path).json()["runs"]
        assert sorted((r["account"], r["region"], r["status"]) for r in runs) == [
            (DEV, "us-east-1", "succeeded"),
            (PROD, "eu-west-1", "failed"),
        ]
        only_prod = call(api, f"{path}?account={PROD}").json()["runs"]
        assert [(r["account"], r["run_id"]) for r in only_prod] == [(PROD, "42")]
    assert call(api, "/runs?account=333333333333").json()["runs"] == []
    failed_dev = call(api, f"/runs?status=failed&account={DEV}").json()["runs"]
    assert failed_dev == []


def test_detail_needs_the_account_when_the_run_id_is_in_two(
    api: APIGatewayRestResolver, ingest: Callable[[Iterable[Any]], list[str]]
) -> None:
    _both(ingest)

    ambiguous = call(api, "/flows/TrainFlow/runs/42")
    assert ambiguous.status == 409
    body = ambiguous.json()
    assert body["accounts"] == [DEV, PROD]
    assert DEV in body["message"] and PROD in body["message"]

    prod = call(api, f"/flows/TrainFlow/runs/42?account={PROD}")
    assert prod.status == 200
    assert (prod.json()["account"], prod.json()["region"], prod.json()["status"]) == (
        PROD,
        "eu-west-1",
        "failed",
    )
    dev = call(api, f"/flows/TrainFlow/runs/42?account={DEV}&region=us-east-1").json()
    assert (dev["account"], dev["status"]) == (DEV, "succeeded")
    assert sum(len(step["tasks"]) for step in dev["steps"]) == 5
    assert call(api, f"/flows/TrainFlow/runs/42?account={DEV}&region=eu-west-1").status == 404
    assert call(api, "/flows/TrainFlow/runs/42?region=eu-west-1").json()["account"] == PROD


def test_detail_without_account_when_the_run_id_is_in_one(
    api: APIGatewayRestResolver, ingest: Callable[[Iterable[Any]], list[str]]
) -> None:
    assert set(ingest(simulate_run(SUCCEEDS, factory=EventFactory(account=DEV)))) == {"applied"}

    reply = call(api, "/flows/TrainFlow/runs/42")
    assert reply.status == 200
    assert (reply.json()["account"], reply.json()["region"]) == (DEV, "us-east-1")
    assert call(api, "/flows/TrainFlow/runs/43").status == 404
    assert call(api, f"/flows/TrainFlow/runs/42?account={PROD}").status == 404
