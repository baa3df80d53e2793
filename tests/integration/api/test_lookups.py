"""Lookups against DynamoDB Local: every Batch job id of the sample runs (both orchestrators, retries, a
multi-node job's nodes) leads to its task attempt, executions lead to their runs, and search finds each kind
of input.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

import pytest
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver

from tests.integration.api.conftest import sample_events
from tests.unit.api.rest import call

Ingest = Callable[[Iterable[Any]], list[str]]
FOLDERS = ("local_run", "sfn_run", "sfn_failed_run", "parallel_run")
LOCAL = ("FanoutFlow", "1795719352434625")
SFN_NAME = "5f0b1d2e-8a4c-4f6e-9b3a-2c7d1e9f0a41"
SFN_ARN = f"arn:aws:states:us-east-1:123456789012:execution:demo.prod.FanoutFlow:{SFN_NAME}"
ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture
def samples(ingest: Ingest) -> list[dict[str, Any]]:
    events = [json.loads(text) for folder in FOLDERS for text in sample_events(folder)]
    ingest(events)
    return events


def _job_ids(events: list[dict[str, Any]]) -> set[str]:
    return {
        e["detail"]["jobId"]
        for e in events
        if e["source"] == "aws.batch" and e["detail"].get("parameters", {}).get("metaflow.flow_name")
    }


def test_every_job_id_leads_to_the_attempt_it_ran(
    api: APIGatewayRestResolver, samples: list[dict[str, Any]]
) -> None:
    job_ids = _job_ids(samples)
    assert len(job_ids) >= 12 and any("#" in j for j in job_ids)  # local, Step Functions, nodes
    for job_id in sorted(job_ids):
        reply = call(api, f"/jobs/{quote(job_id, safe='')}")
        assert reply.status == 200, job_id
        found = reply.json()
        assert (found["account"], found["region"]) == (ACCOUNT, REGION)
        task = call(
            api,
            f"/flows/{found['flow']}/runs/{quote(found['run_id'], safe='')}/steps/{found['step']}"
            f"/tasks/{found['task_id']}",
        ).json()
        # A node #0 is the main node: its events are recorded under the job's own id (the control task).
        recorded = job_id.removesuffix("#0")
        ran = [a["attempt"] for a in task["attempts"] if a["job_id"] == recorded]
        assert ran and found["attempt"] == max(ran), job_id


def test_retries_and_nodes_point_at_their_own_attempt_or_task(
    api: APIGatewayRestResolver, samples: list[dict[str, Any]]
) -> None:
    # A local retry is a new job with the same task id and the next attempt.
    first = call(api, "/jobs/461e0ec3-c08c-4a27-bb87-1b5f69933c2f").json()
    retry = call(api, "/jobs/5e5d82b7-262a-48d9-bf84-3f173df1aa2c").json()
    assert (first["task_id"], first["attempt"]) == ("3", 0)
    assert (retry["task_id"], retry["attempt"]) == ("3", 1)
    # A Step Functions retry stays in its job: the job points at the latest attempt.
    sfn = call(api, "/jobs/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c32").json()
    assert (sfn["run_id"], sfn["step"], sfn["attempt"]) == (f"sfn-{SFN_NAME}", "train", 1)
    # Nodes of a multi-node job are their node's task.
    parallel = "309d6b79-965e-da32-dae4-45508201e2bd"
    tasks = {n: call(api, f"/jobs/{parallel}{quote(f'#{n}')}").json()["task_id"] for n in (0, 1, 2)}
    assert tasks == {0: "control-2", 1: "2-node-1", 2: "2-node-2"}
    assert call(api, f"/jobs/{parallel}").json()["task_id"] == "control-2"


@pytest.mark.usefixtures("samples")
def test_unknown_jobs_and_executions_are_404(api: APIGatewayRestResolver) -> None:
    reply = call(api, "/jobs/00000000-0000-0000-0000-000000000000")
    assert reply.status == 404
    assert reply.json() == {"message": "Batch job 00000000-0000-0000-0000-000000000000 not found"}
    assert call(api, f"/executions/{quote(SFN_ARN.replace(SFN_NAME, 'other'), safe='')}").status == 404
    assert call(api, "/executions/no-such-execution").status == 404
    assert call(api, f"/executions/{quote(SFN_ARN.replace(ACCOUNT, '999999999999'), safe='')}").status == 404


@pytest.mark.usefixtures("samples")
def test_an_execution_arn_or_name_is_its_run(api: APIGatewayRestResolver) -> None:
    by_arn = call(api, f"/executions/{quote(SFN_ARN, safe='')}")
    by_name = call(api, f"/executions/{SFN_NAME}")
    assert by_arn.status == by_name.status == 200
    assert by_arn.json() == by_name.json()
    run = by_arn.json()
    assert (run["flow"], run["run_id"], run["execution_arn"]) == ("FanoutFlow", f"sfn-{SFN_NAME}", SFN_ARN)
    assert set(run["usage"]) == {
        "vcpu_hours",
        "memory_gib_hours",
        "gpu_hours",
        "wasted_vcpu_hours",
        "estimated_cost_usd",
    }


def _matches(api: APIGatewayRestResolver, q: str) -> list[tuple[Any, ...]]:
    reply = call(api, f"/search?q={quote(q, safe='')}")
    assert reply.status == 200
    body = reply.json()
    assert body["query"] == q
    return [
        (m["kind"], m["flow"], m["run_id"], m["step"], m["task_id"], m["attempt"]) for m in body["matches"]
    ]


@pytest.mark.usefixtures("samples")
def test_search_finds_each_kind_of_input(api: APIGatewayRestResolver) -> None:
    flow, run_id = LOCAL
    run = ("run", flow, run_id, None, None, None)
    sfn_run = ("run", "FanoutFlow", f"sfn-{SFN_NAME}", None, None, None)
    assert _matches(api, run_id) == [run]
    assert _matches(api, f"{flow}/{run_id}") == [run]
    assert _matches(api, f"{flow}/{run_id}/train/3") == [("task", flow, run_id, "train", "3", None)]
    assert _matches(api, f"{flow}/{run_id}/train/99") == []
    assert _matches(api, f"OtherFlow/{run_id}") == []
    assert _matches(api, "5e5d82b7-262a-48d9-bf84-3f173df1aa2c") == [("task", flow, run_id, "train", "3", 1)]
    job_arn = "arn:aws:batch:us-east-1:123456789012:job/5e5d82b7-262a-48d9-bf84-3f173df1aa2c"
    assert _matches(api, job_arn) == [("task", flow, run_id, "train", "3", 1)]
    assert _matches(api, SFN_ARN) == [sfn_run]
    assert _matches(api, SFN_NAME) == [sfn_run]
    assert _matches(api, f"sfn-{SFN_NAME}") == [sfn_run]
    assert _matches(api, "nothing-like-this") == []


def test_an_empty_search_is_400(api: APIGatewayRestResolver) -> None:
    for q in ("", "%20%20"):
        reply = call(api, f"/search?q={q}")
        assert reply.status == 400
        assert reply.json()["parameter"] == "q"
    assert call(api, "/search").json()["parameter"] == "q"
