"""A 10,000-task foreach through the API: bounded answers, every task paged once in order, status filters."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver

from runwatch.api.app import create_app
from runwatch.domain.step_summary import RELATIVE_ERROR, recount
from runwatch.paging import PageTokens, key_from_secret
from runwatch.services.queries import RunQueries
from runwatch.settings import TableSettings
from runwatch.store.run_queries import RunReader
from runwatch.wiring import bind_table
from runwatch_dev.local.dynamodb_local import DynamoDBLocal
from runwatch_dev.local.table_from_template import create_table
from tests.integration.api.big_run import BigRun, big_tasks, seed_big_run
from tests.unit.api.rest import Reply, call

ONE_MB = 1_000_000
WIDTH = 10_000


@pytest.fixture(scope="module")
def big_table(dynamodb_local: DynamoDBLocal, ddb_client: Any) -> Iterator[tuple[TableSettings, BigRun]]:
    """One table holding the big run for the whole module: writing 10,000 tasks takes a while."""
    settings = TableSettings(
        table_name=f"runwatch-big-{uuid.uuid4().hex[:12]}", dynamodb_endpoint=dynamodb_local.endpoint
    )
    create_table(ddb_client, settings.table_name)
    yield settings, seed_big_run(bind_table(settings), WIDTH)
    with contextlib.suppress(Exception):
        ddb_client.delete_table(TableName=settings.table_name)


@pytest.fixture
def big(big_table: tuple[TableSettings, BigRun]) -> BigRun:
    bind_table(big_table[0])  # other modules' tests bind the models to their own tables
    return big_table[1]


@pytest.fixture
def reader(big: BigRun) -> RunReader:
    return RunReader()


@pytest.fixture
def api(reader: RunReader, big_table: tuple[TableSettings, BigRun]) -> APIGatewayRestResolver:
    return create_app(RunQueries(reader, PageTokens(key_from_secret(big_table[0].table_name))))


def _get(api: APIGatewayRestResolver, target: str, headers: dict[str, str] | None = None) -> Reply:
    reply = call(api, target, headers)
    assert len(reply.text or "") < ONE_MB, target
    return reply


def _run_path(big: BigRun) -> str:
    return f"/flows/{big.key.flow}/runs/{big.key.run_id}"


def _ids(tasks: list[dict[str, Any]]) -> list[str]:
    return [t["task_id"] for t in tasks]


def test_the_run_detail_is_small_and_holds_the_steps_summaries(
    api: APIGatewayRestResolver, reader: RunReader, big: BigRun
) -> None:
    calls = reader.calls
    reply = _get(api, _run_path(big))
    assert reply.status == 200
    assert len(reply.text or "") < 256_000
    # Where the run is (by_run_id), the run with its steps, then sent together: start's one task (read whole)
    # and a page of train's task keys; then train's 100 tasks in one BatchGetItem.
    assert reader.calls - calls == 5
    start, train = reply.json()["steps"]
    assert (start["step"], start["tasks_next_token"], len(start["tasks"])) == ("start", None, 1)
    assert train["step"] == "train"
    assert train["status"] == "failed"
    assert (
        train["task_counts"]
        == recount("train", [t for t in big_tasks(big) if t.key.step == "train"]).task_counts
    )
    assert (train["task_counts"]["failed"], train["task_counts"]["running"]) == (1, 2)
    assert (train["attempts"], train["retries"]) == (WIDTH + 1, 1)
    assert _ids(train["tasks"]) == [big.task_id(i) for i in range(100)]
    assert train["tasks_next_token"] is not None
    durations = train["durations"]
    assert durations["finished"] == train["task_counts"]["succeeded"] + 1
    assert durations["relative_error"] == pytest.approx(RELATIVE_ERROR, abs=1e-4)
    assert durations["min_ms"] == pytest.approx(30_000, rel=RELATIVE_ERROR)
    assert durations["max_ms"] == pytest.approx(30_000 + (WIDTH - 1) * 7, rel=RELATIVE_ERROR)
    assert durations["min_ms"] <= durations["p50_ms"] <= durations["p95_ms"] <= durations["max_ms"]


def test_paging_every_task_of_the_step_has_no_gap_and_no_repeat(
    api: APIGatewayRestResolver, big: BigRun
) -> None:
    detail = _get(api, _run_path(big)).json()["steps"][1]
    seen = _ids(detail["tasks"])
    token = detail["tasks_next_token"]
    while token is not None:
        page = _get(api, f"{_run_path(big)}/steps/train/tasks?limit=500&next_token={token}").json()
        assert len(page["tasks"]) <= 500
        seen += _ids(page["tasks"])
        token = page["next_token"]
    assert seen == [big.task_id(i) for i in range(WIDTH)]


def test_a_status_filter_returns_only_those_tasks_in_order(api: APIGatewayRestResolver, big: BigRun) -> None:
    failed = _get(api, f"{_run_path(big)}/steps/train/tasks?status=failed").json()
    assert (_ids(failed["tasks"]), failed["next_token"]) == ([big.task_id(big.failed_split)], None)
    assert failed["tasks"][0]["attempts"][0]["failure_class"] == "user_code"
    running = _get(api, f"{_run_path(big)}/steps/train/tasks?status=running&limit=1").json()
    assert _ids(running["tasks"]) == [big.task_id(3)]
    rest = _get(api, f"{_run_path(big)}/steps/train/tasks?status=running&next_token={running['next_token']}")
    assert (_ids(rest.json()["tasks"]), rest.json()["next_token"]) == ([big.task_id(WIDTH - 2)], None)


def test_one_task_by_id_and_the_404s(api: APIGatewayRestResolver, big: BigRun) -> None:
    middle = big.task_id(WIDTH // 2)
    task = _get(api, f"{_run_path(big)}/steps/train/tasks/{middle}")
    assert (task.status, task.json()["task_id"], task.json()["status"]) == (200, middle, "failed")
    assert _get(api, f"{_run_path(big)}/steps/train/tasks/99999999").status == 404
    assert _get(api, f"{_run_path(big)}/steps/nope/tasks").status == 404
    assert _get(api, f"/flows/{big.key.flow}/runs/404/steps/train/tasks").status == 404
    assert _get(api, f"/flows/{big.key.flow}/runs/404/steps/train/tasks/2").status == 404


def test_a_token_of_another_listing_is_refused(api: APIGatewayRestResolver, big: BigRun) -> None:
    token = _get(api, f"{_run_path(big)}/steps/train/tasks?status=succeeded").json()["next_token"]
    for other in ("steps/train/tasks", "steps/start/tasks", "steps/train/tasks?status=failed"):
        joiner = "&" if "?" in other else "?"
        reply = _get(api, f"{_run_path(big)}/{other}{joiner}next_token={token}")
        assert (reply.status, reply.json()["parameter"]) == (400, "next_token"), other


def test_task_pages_answer_304_while_nothing_changed(api: APIGatewayRestResolver, big: BigRun) -> None:
    first = _get(api, f"{_run_path(big)}/steps/train/tasks")
    again = _get(api, f"{_run_path(big)}/steps/train/tasks", {"If-None-Match": first.headers["ETag"]})
    assert again.status == 304
