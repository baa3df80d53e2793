"""The resolver without a table: error mapping, conditional GETs, the OpenAPI document and the static pages.

The queries are a fake passed to create_app, so each test says exactly what the service returns or raises.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest

from runwatch.api.app import create_app
from runwatch.api.etag import matches, strong_etag
from runwatch.domain.run_state import RunKey, RunState
from runwatch.domain.task_state import Failure, TaskState
from runwatch.paging import InvalidToken
from runwatch.services.queries import (
    AmbiguousRun,
    FlowLastRun,
    Listing,
    RunNotFound,
    RunWithSteps,
    StepNotFound,
    TaskNotFound,
)
from runwatch.store.repository import StoreUnavailable
from runwatch.store.run_plan import RunFilter
from tests.unit.api.rest import Reply, call, rest_event

SUMMARY: dict[str, Any] = {
    "flow": "TrainFlow",
    "run_id": "17",
    "status": "running",
    "orchestrator": "batch",
    "user": "alice",
    "project": None,
    "branch": None,
    "tags": ["team:ml"],
    "started_at": "2026-11-26T18:55:53.130Z",
    "finished_at": None,
    "failure": None,
    "region": "us-east-1",
    "account": "123456789012",
    "execution_arn": None,
    "state_machine": None,
    "usage": {
        "vcpu_hours": 0.0,
        "memory_gib_hours": 0.0,
        "gpu_hours": 0.0,
        "wasted_vcpu_hours": 0.0,
        "estimated_cost_usd": None,
    },
}
SECRET = "s3cr3t-table-internals"
TWO_ACCOUNTS = ("111111111111", "222222222222")
# Where FakeQueries finds a run when the request does not say.
HOME_ACCOUNT, HOME_REGION = "123456789012", "us-east-1"
# The run SUMMARY describes, as the service hands it out.
RUN = RunState(
    key=RunKey("TrainFlow", "17", account="123456789012", region="us-east-1"),
    orchestrator="batch",
    user="alice",
    tags=("team:ml",),
    first_seen_at=int(datetime.fromisoformat("2026-11-26T18:55:53.130+00:00").timestamp() * 1000),
)


class FakeQueries:
    """Answers like RunQueries; `error` makes every call raise it instead; calls are recorded."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[tuple[Any, ...]] = []
        self.listed = [RUN]

    def _answer(self, *call: Any) -> None:
        self.calls.append(call)
        if self.error is not None:
            raise self.error

    def runs(self, where: RunFilter, limit: int, next_token: str | None) -> Listing[RunState]:
        self._answer("runs", where, limit, next_token)
        return Listing(self.listed, "next" if where.flow else None)

    def flows(self, limit: int, next_token: str | None) -> Listing[FlowLastRun]:
        self._answer("flows", limit, next_token)
        return Listing([], None)

    def run(
        self, flow: str, run_id: str, account: str | None = None, region: str | None = None
    ) -> RunWithSteps:
        self._answer("run", flow, run_id, account, region)
        if run_id == "404":
            raise RunNotFound(flow, run_id)
        if run_id == "409":
            candidates = [RunKey(flow, run_id, account=a, region="us-east-1") for a in TWO_ACCOUNTS]
            raise AmbiguousRun(flow, run_id, candidates)
        return RunWithSteps(RUN, [])

    def locate(self, flow: str, run_id: str, account: str | None, region: str | None) -> RunKey:
        self._answer("locate", flow, run_id, account, region)
        if run_id == "409":
            candidates = [RunKey(flow, run_id, account=a, region="us-east-1") for a in TWO_ACCOUNTS]
            raise AmbiguousRun(flow, run_id, candidates)
        return RunKey(flow, run_id, account=account or HOME_ACCOUNT, region=region or HOME_REGION)

    def step_tasks(
        self, run: RunKey, step: str, status: str | None, limit: int, next_token: str | None
    ) -> Listing[TaskState]:
        self._answer("step_tasks", run, step, status, limit, next_token)
        if step == "404":
            raise StepNotFound(run.flow, run.run_id, step)
        return Listing([], None)

    def task(self, run: RunKey, step: str, task_id: str) -> TaskState:
        self._answer("task", run, step, task_id)
        raise TaskNotFound(run.flow, run.run_id, step, task_id)


def _get(target: str, queries: FakeQueries | None = None, headers: dict[str, str] | None = None) -> Reply:
    return call(create_app(queries or FakeQueries()), target, headers)  # type: ignore[arg-type]


def _assert_clean_error(reply: Reply) -> dict[str, Any]:
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.headers["Cache-Control"] == "no-cache"
    body = reply.json()
    assert set(body) <= {"message", "parameter", "request_id", "accounts"}
    for leak in ("Traceback", "pydantic", "File ", SECRET, "loc", "detail"):
        assert leak not in reply.text  # type: ignore[operator]
    return body  # type: ignore[no-any-return]


# -- parameters ----------------------------------------------------------------------------------------------
def test_defaults_reach_the_service() -> None:
    queries = FakeQueries()
    assert _get("/runs", queries).status == 200
    assert (
        _get("/flows/demo.prod.FanoutFlow/runs?status=failed&limit=100&next_token=a.b", queries).status == 200
    )
    assert _get("/flows", queries).status == 200
    assert queries.calls == [
        ("runs", RunFilter(), 25, None),
        ("runs", RunFilter(flow="demo.prod.FanoutFlow", statuses=("failed",)), 100, "a.b"),
        ("flows", 25, None),
    ]


def test_account_and_region_reach_the_service() -> None:
    queries = FakeQueries()
    assert _get("/runs?account=111111111111", queries).status == 200
    assert _get("/flows/F/runs?account=222222222222&status=failed", queries).status == 200
    assert _get("/flows/F/runs/42?account=111111111111&region=eu-west-1", queries).status == 200
    assert _get("/flows/F/runs/42", queries).status == 200
    assert queries.calls == [
        ("runs", RunFilter(account="111111111111"), 25, None),
        ("runs", RunFilter(flow="F", statuses=("failed",), account="222222222222"), 25, None),
        ("run", "F", "42", "111111111111", "eu-west-1"),
        ("run", "F", "42", None, None),
    ]


@pytest.mark.parametrize(
    ("target", "parameter"),
    [
        ("/runs?limit=0", "limit"),
        ("/runs?limit=101", "limit"),
        ("/runs?limit=ten", "limit"),
        ("/runs?limit=", "limit"),
        ("/runs?limit=2.5", "limit"),
        ("/flows?limit=-1", "limit"),
        ("/runs?status=done", "status"),
        ("/runs?status=FAILED", "status"),
        ("/flows/F/runs?status=%3Cscript%3E", "status"),
        ("/runs?next_token=", "next_token"),
        ("/runs?next_token=no-dot", "next_token"),
        ("/runs?next_token=a.b%3D", "next_token"),
        ("/runs?next_token=" + "x" * 4097, "next_token"),
        ("/flows/" + "F" * 257 + "/runs", "flow"),
        ("/flows/F/runs/" + "1" * 257, "run_id"),
        ("/runs?account=12345", "account"),
        ("/flows/F/runs?account=abcdefghijkl", "account"),
        ("/flows/F/runs/1?account=1234567890123", "account"),
        ("/flows/F/runs/1?region=US-EAST-1", "region"),
        ("/flows/F/runs/1?region=us-east-1%3B", "region"),
    ],
)
def test_invalid_parameters_are_400_naming_them(target: str, parameter: str) -> None:
    queries = FakeQueries()
    reply = _get(target, queries)
    assert reply.status == 400
    body = _assert_clean_error(reply)
    assert body["parameter"] == parameter
    assert parameter in body["message"]
    assert queries.calls == []


def test_invalid_token_is_400_naming_next_token() -> None:
    reply = _get("/runs?next_token=abc", FakeQueries(InvalidToken(f"signature does not match {SECRET}")))
    assert reply.status == 400
    assert _assert_clean_error(reply) == {
        "message": "next_token must be a token from a previous page of the same listing",
        "parameter": "next_token",
    }


# -- not found, ambiguous, failures -------------------------------------------------------------------------
def test_run_id_in_two_accounts_is_409_naming_them() -> None:
    reply = _get("/flows/TrainFlow/runs/409")
    assert reply.status == 409
    body = _assert_clean_error(reply)
    assert body["accounts"] == list(TWO_ACCOUNTS)
    assert all(account in body["message"] for account in TWO_ACCOUNTS)
    assert "account" in body["message"] and "region" in body["message"]


def test_unknown_run_is_404_json() -> None:
    reply = _get("/flows/TrainFlow/runs/404")
    assert reply.status == 404
    assert _assert_clean_error(reply) == {"message": "run 404 of flow TrainFlow not found"}


@pytest.mark.parametrize(
    "target", ["/nope", "/runs/17", "/flows/F", "/flows/F/runs/1/steps", "/flows/%16/runs"]
)
def test_unknown_route_is_404_json(target: str) -> None:
    reply = _get(target)
    assert reply.status == 404
    assert _assert_clean_error(reply) == {"message": "not found"}


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "HEAD"])
def test_other_methods_on_known_paths_are_405(method: str) -> None:
    app = create_app(FakeQueries())  # type: ignore[arg-type]
    raw = app.resolve(rest_event("/flows/F/runs/1", method=method), None)
    assert raw["statusCode"] == 405
    assert raw["multiValueHeaders"]["Allow"] == ["GET"]
    assert json.loads(raw["body"]) == {"message": "method not allowed"}
    assert app.resolve(rest_event("/nope", method=method), None)["statusCode"] == 404


def test_every_documented_path_answers_405_to_other_methods() -> None:
    """The 405 list is kept by hand (API Gateway forwards only GET): every route must be on it."""
    app = create_app(FakeQueries())  # type: ignore[arg-type]
    paths = call(app, "/openapi.json").json()["paths"]
    for path in paths:
        concrete = re.sub(r"\{\w+\}", "x", path)
        raw = app.resolve(rest_event(concrete, method="TRACE"), None)
        assert raw["statusCode"] == 405, path


def test_unexpected_error_is_500_without_details() -> None:
    reply = _get("/runs", FakeQueries(RuntimeError(SECRET)))
    assert reply.status == 500
    assert _assert_clean_error(reply) == {"message": "internal error", "request_id": "req-0001"}


def test_store_outage_is_503_with_retry_after() -> None:
    reply = _get("/flows/F/runs/1", FakeQueries(StoreUnavailable(f"ProvisionedThroughputExceeded {SECRET}")))
    assert reply.status == 503
    assert reply.headers["Retry-After"] == "1"
    assert _assert_clean_error(reply) == {
        "message": "status store unavailable, retry shortly",
        "request_id": "req-0001",
    }


def test_invalid_response_is_500_not_a_validation_dump() -> None:
    class Broken(FakeQueries):
        def runs(self, where: RunFilter, limit: int, next_token: str | None) -> Listing[RunState]:
            failure = Failure(1, "train", "2", 0, failure_class=SECRET, status_reason=None, exit_code=None)
            return Listing([replace(RUN, failures=(failure,))], None)

    reply = _get("/runs", Broken())
    assert reply.status == 500
    assert _assert_clean_error(reply)["message"] == "internal error"


# -- conditional GET -----------------------------------------------------------------------------------------
def test_etag_and_304() -> None:
    app = create_app(FakeQueries())  # type: ignore[arg-type]
    first = call(app, "/runs")
    assert first.status == 200
    assert first.headers["Cache-Control"] == "no-cache"
    etag = first.headers["ETag"]
    assert etag == strong_etag(first.text or "")
    assert etag.startswith('"') and not etag.startswith("W/")
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = call(app, "/runs", {"If-None-Match": header})
        assert (again.status, again.text, again.headers["ETag"]) == (304, None, etag)
        assert "Content-Type" not in again.headers
    assert call(app, "/runs", {"if-none-match": '"stale"'}).status == 200


def test_etag_follows_the_body() -> None:
    queries = FakeQueries()
    app = create_app(queries)  # type: ignore[arg-type]
    before = call(app, "/runs").headers["ETag"]
    queries.listed = [replace(RUN, end_succeeded_at=RUN.first_seen_at)]
    after = call(app, "/runs", {"If-None-Match": before})
    assert after.status == 200 and after.headers["ETag"] != before


def test_errors_carry_no_etag() -> None:
    assert "ETag" not in _get("/runs?limit=0").headers


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),
        ("", False),
        ('"a"', True),
        ('W/"a"', True),
        ('"b", "a"', True),
        ('"b"', False),
        ("*", True),
    ],
)
def test_if_none_match_parsing(header: str | None, expected: bool) -> None:
    assert matches(header, '"a"') is expected


# -- CORS ----------------------------------------------------------------------------------------------------
def test_no_cors_headers_by_default() -> None:
    reply = _get("/runs", headers={"Origin": "https://evil.example"})
    assert not any(k.lower().startswith("access-control") for k in reply.headers)


def test_cors_origin_from_settings() -> None:
    app = create_app(FakeQueries(), cors_origin="https://metaflow.example.com")  # type: ignore[arg-type]
    reply = call(app, "/runs", {"Origin": "https://metaflow.example.com"})
    assert reply.headers["Access-Control-Allow-Origin"] == "https://metaflow.example.com"
    error = call(app, "/runs?limit=0", {"Origin": "https://metaflow.example.com"})
    assert error.headers["Access-Control-Allow-Origin"] == "https://metaflow.example.com"
    other = call(app, "/runs", {"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


# -- static routes and the document --------------------------------------------------------------------------
def test_health() -> None:
    reply = _get("/health")
    assert (reply.status, reply.json()) == (200, {"status": "ok"})


def test_dashboard_is_served_as_html() -> None:
    reply = _get("/")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert (reply.text or "").lstrip().lower().startswith("<!doctype html")
    assert "ETag" in reply.headers


def test_swagger_ui() -> None:
    reply = _get("/swagger")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    assert "SwaggerUIBundle" in (reply.text or "")


def test_openapi_document() -> None:
    reply = _get("/openapi.json")
    assert reply.status == 200
    doc = reply.json()
    assert doc["openapi"].startswith("3.")
    assert doc["servers"] == [{"url": "/dev"}]
    assert set(doc["paths"]) == {
        "/health",
        "/flows",
        "/flows/{flow}/runs",
        "/flows/{flow}/runs/{run_id}",
        "/flows/{flow}/runs/{run_id}/steps/{step}/tasks",
        "/flows/{flow}/runs/{run_id}/steps/{step}/tasks/{task_id}",
        "/flows/{flow}/runs/{run_id}/steps/{step}/tasks/{task_id}/attempts/{attempt}/logs",
        "/runs",
        "/config",
        "/flows/{flow}/stats",
        "/jobs/{job_id}",
        "/executions/{execution}",
        "/search",
    }
    text = json.dumps(doc)
    assert "422" not in doc["paths"]["/runs"]["get"]["responses"]
    assert "ValidationError" not in text
    schemas = doc["components"]["schemas"]
    assert set(schemas["RunSummary"]["required"]) == set(SUMMARY)
    assert set(schemas["RunDetail"]["required"]) == {*SUMMARY, "steps"}
    run = doc["paths"]["/flows/{flow}/runs/{run_id}"]["get"]
    assert set(run["responses"]) == {"200", "304", "400", "404", "409", "500", "503"}
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for path in doc["paths"].values():
        responses = path["get"]["responses"]
        assert responses["500"]["content"] == error_body
        assert all(
            responses[code]["content"] == error_body for code in ("400", "404", "503") if code in responses
        )
        assert responses.get("304", {}).get("content", {}) == {}
    assert run["security"] == [{"api_key": []}]
    assert doc["components"]["securitySchemes"]["api_key"] == {
        "type": "apiKey",
        "name": "x-api-key",
        "in": "header",
    }
    limit = next(p for p in doc["paths"]["/runs"]["get"]["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"], limit["schema"]["default"]) == (
        1,
        100,
        25,
    )


# -- a step's tasks ----------------------------------------------------------------------------------------
TASKS = "/flows/F/runs/1/steps/train/tasks"


def test_task_pages_default_to_100_and_pass_the_status() -> None:
    queries = FakeQueries()
    assert _get(TASKS, queries).status == 200
    assert _get(f"{TASKS}?status=failed&limit=500", queries).status == 200
    run = RunKey("F", "1", account=HOME_ACCOUNT, region=HOME_REGION)
    assert queries.calls == [
        ("locate", "F", "1", None, None),
        ("step_tasks", run, "train", None, 100, None),
        ("locate", "F", "1", None, None),
        ("step_tasks", run, "train", "failed", 500, None),
    ]


def test_task_routes_pass_account_and_region_to_find_the_run() -> None:
    queries = FakeQueries()
    place = f"account={TWO_ACCOUNTS[1]}&region=eu-west-1"
    assert _get(f"{TASKS}?{place}", queries).status == 200
    assert _get(f"{TASKS}/7?{place}", queries).status == 404
    run = RunKey("F", "1", account=TWO_ACCOUNTS[1], region="eu-west-1")
    assert queries.calls == [
        ("locate", "F", "1", TWO_ACCOUNTS[1], "eu-west-1"),
        ("step_tasks", run, "train", None, 100, None),
        ("locate", "F", "1", TWO_ACCOUNTS[1], "eu-west-1"),
        ("task", run, "train", "7"),
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/flows/F/runs/409/steps/train/tasks",
        "/flows/F/runs/409/steps/train/tasks/7",
        "/flows/F/runs/409/steps/train/tasks/7/attempts/0/logs",
    ],
)
def test_task_routes_are_409_when_the_run_id_is_in_two_accounts(path: str) -> None:
    reply = _get(path)
    assert reply.status == 409
    assert _assert_clean_error(reply)["accounts"] == list(TWO_ACCOUNTS)


@pytest.mark.parametrize("query", ["account=12345", "region=nowhere"])
def test_task_routes_refuse_a_malformed_account_or_region(query: str) -> None:
    queries = FakeQueries()
    reply = _get(f"{TASKS}?{query}", queries)
    assert reply.status == 400
    assert _assert_clean_error(reply)["parameter"] == query.partition("=")[0]
    assert queries.calls == []


@pytest.mark.parametrize(
    ("query", "parameter"), [("limit=0", "limit"), ("limit=501", "limit"), ("status=timed_out", "status")]
)
def test_bad_task_page_parameters_are_400_naming_them(query: str, parameter: str) -> None:
    reply = _get(f"{TASKS}?{query}")
    assert reply.status == 400
    assert _assert_clean_error(reply)["parameter"] == parameter


def test_unknown_step_and_task_are_404() -> None:
    step = _get("/flows/F/runs/1/steps/404/tasks")
    task = _get(f"{TASKS}/7")
    assert (step.status, task.status) == (404, 404)
    assert _assert_clean_error(step)["message"] == "step 404 of run 1 of flow F not found"
    assert _assert_clean_error(task)["message"] == "task 7 of step train of run 1 of flow F not found"
