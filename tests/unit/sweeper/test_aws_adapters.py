"""The Batch and Step Functions adapters against moto (and a failing client): batching, listings, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from runwatch.aws.batch_jobs import DESCRIBE_JOBS_MAX, BatchJobs, BatchUnavailable
from runwatch.aws.executions import ExecutionsUnavailable, StepFunctionsExecutions
from runwatch_dev.local.synth import RunSpec
from tests.integration.sweeper.moto_aws import MotoBatch, MotoStepFunctions

DAY = 86_400_000


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws(config={"batch": {"use_docker": False}}):
        yield


def test_describe_jobs_asks_100_ids_a_call(aws: None) -> None:
    client = boto3.client("batch", region_name="us-east-1")
    batch = MotoBatch(client)
    spec = RunSpec(flow="WideFlow", run_id="1795000000000007")
    job_ids = [batch.submit(spec, "train", str(n)) for n in range(250)]
    jobs = BatchJobs(client)

    # Ids repeat (a task listed twice) and one is unknown to Batch (expired)
    found = jobs.describe_jobs([*job_ids, *job_ids[:10], "0f0e0d0c-expired"])

    assert jobs.calls == 3 == -(-251 // DESCRIBE_JOBS_MAX)
    assert sorted(j["jobId"] for j in found) == sorted(job_ids)
    assert {j["parameters"]["metaflow.flow_name"] for j in found} == {"WideFlow"}
    assert jobs.describe_jobs([]) == [] and jobs.calls == 3


def test_job_queues_and_job_ids_since(aws: None) -> None:
    client = boto3.client("batch", region_name="us-east-1")
    batch = MotoBatch(client)
    job_id = batch.submit(RunSpec(flow="F", run_id="1"), "start", "1")
    created = batch.describe(job_id)["createdAt"]
    jobs = BatchJobs(client)

    assert jobs.job_queues() == [batch.queue_arn]
    assert list(jobs.job_ids(batch.queue_arn, created - DAY)) == [job_id]
    assert list(jobs.job_ids(batch.queue_arn, created + 1)) == []


class _ListingClient:
    """ListJobs with pages and every status, which moto cannot show (its jobs finish at once)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def list_jobs(self, **kwargs: Any) -> dict[str, Any]:
        self.requests.append(kwargs)
        if "filters" in kwargs:
            if kwargs.get("nextToken") is None:
                return {
                    "jobSummaryList": [{"jobId": "new", "createdAt": 200}, {"jobId": "old", "createdAt": 50}],
                    "nextToken": "p2",
                }
            return {
                "jobSummaryList": [
                    {"jobId": "newer", "createdAt": 300},
                    {"jobId": "runnable-old", "createdAt": 10},
                ]
            }
        if kwargs["jobStatus"] == "RUNNABLE":
            return {
                "jobSummaryList": [
                    {"jobId": "runnable-old", "createdAt": 10},
                    {"jobId": "new", "createdAt": 200},
                ]
            }
        return {"jobSummaryList": []}


def test_job_ids_are_history_since_plus_everything_in_flight() -> None:
    client = _ListingClient()

    ids = list(BatchJobs(client).job_ids("queue", since_ms=100))

    assert ids == ["new", "newer", "runnable-old"]
    assert client.requests[0]["filters"] == [{"name": "AFTER_CREATED_AT", "values": ["100"]}]
    assert {r.get("jobStatus") for r in client.requests[2:]} == {
        "SUBMITTED",
        "PENDING",
        "RUNNABLE",
        "STARTING",
        "RUNNING",
    }


class _Failing:
    def __getattr__(self, name: str) -> Any:
        def fail(**kwargs: Any) -> Any:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, name)

        return fail


def test_aws_errors_become_unavailable_without_details() -> None:
    with pytest.raises(BatchUnavailable, match="describe_jobs: ClientError"):
        BatchJobs(_Failing()).describe_jobs(["a"])
    with pytest.raises(ExecutionsUnavailable, match="describe_execution: ThrottlingException"):
        StepFunctionsExecutions(_Failing()).describe_execution("arn:aws:states:us-east-1:1:execution:m:n")


def test_metaflow_state_machines_and_executions(aws: None) -> None:
    client = boto3.client("stepfunctions", region_name="us-east-1")
    sfn = MotoStepFunctions(client)
    metaflow = sfn.create_machine("demo.prod.FanoutFlow")
    other = client.create_state_machine(
        name="order-fulfillment",
        definition=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/x",
    )["stateMachineArn"]
    t0 = 1_795_000_000_000
    old = sfn.start(metaflow, "old", t0 - 2 * DAY)
    sfn.finish(old, "SUCCEEDED", t0 - 2 * DAY + 60_000)
    running_old = sfn.start(metaflow, "running-old", t0 - 3 * DAY)
    recent = sfn.start(metaflow, "recent", t0)
    sfn.start(other, "not-ours", t0)
    executions = StepFunctionsExecutions(client)

    assert executions.metaflow_state_machines() == {metaflow: "FanoutFlow"}
    assert list(executions.execution_arns(metaflow, since_ms=t0 - DAY)) == [recent, running_old]
    described = executions.describe_execution(recent)
    assert described is not None and described["status"] == "RUNNING"
    missing = metaflow.replace(":stateMachine:", ":execution:") + ":never-ran"
    assert executions.describe_execution(missing) is None
