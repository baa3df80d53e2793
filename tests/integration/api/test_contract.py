"""The API's JSON for runs ingested from the sample events and from synthetic ones, against DynamoDB Local.

The sample runs are compared with whole documents under expected/: any change of the contract shows up as
a diff there, field by field.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver

from runwatch_dev.local.synth import RunSpec, simulate_run
from tests.integration.api.conftest import sample_events
from tests.unit.api.rest import call

EXPECTED = Path(__file__).resolve().parent / "expected"
LOCAL = ("FanoutFlow", "1795719352434625")
SFN = ("FanoutFlow", "sfn-5f0b1d2e-8a4c-4f6e-9b3a-2c7d1e9f0a41")
SFN_FAILED = ("ScoringFlow", "sfn-8c1e5b7d-2f4a-7c3e-1d9b-6e2f0a4c8b13_90d3f7a1-6b2e-c4d8-5f1a-3e7b9c2d4a68")
T0 = 1_795_000_000_000

Ingest = Callable[[Iterable[Any]], list[str]]


def _expected(name: str) -> Any:
    return json.loads((EXPECTED / f"{name}.json").read_text())


@pytest.fixture
def samples(ingest: Ingest) -> None:
    for folder in ("local_run", "sfn_run", "sfn_failed_run"):
        assert "applied" in ingest(sample_events(folder))


@pytest.mark.usefixtures("samples")
@pytest.mark.parametrize(
    ("name", "run"), [("local_run", LOCAL), ("sfn_run", SFN), ("sfn_failed_run", SFN_FAILED)]
)
def test_run_detail_of_sample_runs(api: APIGatewayRestResolver, name: str, run: tuple[str, str]) -> None:
    reply = call(api, f"/flows/{run[0]}/runs/{run[1]}")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.json() == _expected(name)


@pytest.mark.usefixtures("samples")
def test_listings_of_sample_runs(api: APIGatewayRestResolver) -> None:
    assert call(api, "/runs").json() == _expected("runs")
    assert call(api, "/flows").json() == _expected("flows")
    detail = _expected("local_run")
    summary = {k: v for k, v in detail.items() if k != "steps"}
    assert call(api, "/flows/FanoutFlow/runs").json()["runs"][1] == summary
    assert call(api, "/runs?status=failed").json()["runs"] == [
        {k: v for k, v in _expected("sfn_failed_run").items() if k != "steps"}
    ]
    assert call(api, "/flows/FanoutFlow/runs?status=failed").json() == {"runs": [], "next_token": None}


@pytest.mark.usefixtures("samples")
def test_unknown_runs_are_404(api: APIGatewayRestResolver) -> None:
    for target in ("/flows/FanoutFlow/runs/1", "/flows/NoSuchFlow/runs/1795719352434625"):
        reply = call(api, target)
        assert reply.status == 404
        assert reply.json() == {
            "message": f"run {target.split('/')[-1]} of flow {target.split('/')[2]} not found"
        }
    assert call(api, "/flows/NoSuchFlow/runs").json() == {"runs": [], "next_token": None}


def test_oom_failure_with_killed_siblings(api: APIGatewayRestResolver, ingest: Ingest) -> None:
    spec = RunSpec(
        flow="TrainFlow",
        run_id="1795000000000042",
        fanout=12,
        outcomes={"train": {4: ["oom", "oom", "oom"], 9: ["spot", "ok"]}},
        start_ms=T0,
    )
    ingest(simulate_run(spec, random.Random(42)))
    run = call(api, "/flows/TrainFlow/runs/1795000000000042").json()
    assert run["status"] == "failed"
    assert [s["step"] for s in run["steps"]] == ["start", "train"]
    train = run["steps"][1]
    assert train["status"] == "failed"
    assert [t["split_index"] for t in train["tasks"]] == list(range(12))
    failed = train["tasks"][4]
    assert failed["status"] == "failed"
    assert [(a["attempt"], a["status"], a["failure_class"], a["exit_code"]) for a in failed["attempts"]] == [
        (0, "failed", "oom", 137),
        (1, "failed", "oom", 137),
        (2, "failed", "oom", 137),
    ]
    assert run["failure"] == {
        "step": "train",
        "task_id": failed["task_id"],
        "attempt": 2,
        "failure_class": "oom",
        "status_reason": "OutOfMemoryError: Container killed due to memory usage",
        "exit_code": 137,
        "exception": None,
    }
    counts = train["task_counts"]
    assert counts["failed"] == 1 and counts.get("killed", 0) >= 1 and sum(counts.values()) == 12
    assert {t["status"] for t in train["tasks"]} <= {"failed", "killed", "succeeded"}
    assert run["finished_at"] is not None and run["started_at"] < run["finished_at"]


def test_execution_level_failure_has_no_task(api: APIGatewayRestResolver, ingest: Ingest) -> None:
    spec = RunSpec(
        flow="ReportFlow",
        run_id="sfn-0f1e2d3c-4b5a-4697-8877-665544332211",
        orchestrator="step-functions",
        fanout=2,
        execution_outcome="TIMED_OUT",
        start_ms=T0,
    )
    ingest(simulate_run(spec, random.Random(7)))
    run = call(api, f"/flows/ReportFlow/runs/{spec.run_id}").json()
    assert run["status"] == "timed_out"
    assert run["failure"] == {
        "step": None,
        "task_id": None,
        "attempt": None,
        "failure_class": "timeout",
        "status_reason": "States.Timeout",
        "exit_code": None,
        "exception": None,
    }
    assert run["execution_arn"].endswith(":execution:ReportFlow:0f1e2d3c-4b5a-4697-8877-665544332211")
    assert all(s["status"] == "succeeded" for s in run["steps"])


def test_etag_changes_with_the_run(api: APIGatewayRestResolver, ingest: Ingest) -> None:
    events = sample_events("local_run")
    ingest(events[:3])
    target = f"/flows/{LOCAL[0]}/runs/{LOCAL[1]}"
    first = call(api, target)
    etag = first.headers["ETag"]
    assert call(api, target, {"If-None-Match": etag}).status == 304
    ingest(events[3:])
    changed = call(api, target, {"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag
    assert call(api, target, {"If-None-Match": changed.headers["ETag"]}).text is None
