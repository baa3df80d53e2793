"""Metaflow-shaped Batch jobs and Step Functions executions in moto, for reconciliation and backfill tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from moto.stepfunctions.models import stepfunctions_backends

from runwatch_dev.local.synth import ACCOUNT, REGION, EventFactory, RunSpec

DATA = Path(__file__).resolve().parents[2] / "data"
_FACTORY = EventFactory()


class MotoBatch:
    """A job queue whose jobs succeed (or fail, with MOTO_SIMPLE_BATCH_FAIL_AFTER=0) as soon as submitted."""

    def __init__(self, client: Any) -> None:
        self.client = client
        role = boto3.client("iam", region_name=REGION).create_role(
            RoleName="batch-service", AssumeRolePolicyDocument="{}"
        )["Role"]["Arn"]
        environment = client.create_compute_environment(
            computeEnvironmentName="metaflow-ce", type="UNMANAGED", state="ENABLED", serviceRole=role
        )
        self.queue_arn = client.create_job_queue(
            jobQueueName="metaflow-queue",
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[
                {"order": 1, "computeEnvironment": environment["computeEnvironmentArn"]}
            ],
        )["jobQueueArn"]
        self.definition_arn = client.register_job_definition(
            jobDefinitionName="metaflow_b9c471329d1901620b402dc7c848ef88c9452b4979e9fdc507909f48",
            type="container",
            containerProperties={"image": "python:3.11", "vcpus": 1, "memory": 4096, "command": ["true"]},
        )["jobDefinitionArn"]

    def submit(self, run: RunSpec, step: str, task_id: str = "", retry_count: int = 0) -> str:
        """Submit a job the way Metaflow would for this task (parameters, command line, environment)."""
        shape = _FACTORY.batch_job(
            run,
            step,
            task_id,
            job_id="unknown",
            status="SUBMITTED",
            retry_count=retry_count,
            at_ms=0,
            created_ms=0,
        )["detail"]
        job_id: str = self.client.submit_job(
            jobName=shape["jobName"],
            jobQueue=self.queue_arn,
            jobDefinition=self.definition_arn,
            parameters=shape["parameters"],
            containerOverrides={
                "command": shape["container"]["command"],
                "environment": shape["container"]["environment"],
            },
        )["jobId"]
        return job_id

    def describe(self, job_id: str) -> dict[str, Any]:
        job: dict[str, Any] = self.client.describe_jobs(jobs=[job_id])["jobs"][0]
        return job


class MotoStepFunctions:
    def __init__(self, client: Any) -> None:
        self.client = client

    def create_machine(self, name: str) -> str:
        """A state machine with Metaflow's own definition (tests/data), so it passes Metaflow's test."""
        arn: str = self.client.create_state_machine(
            name=name,
            definition=(DATA / f"sfn_state_machine_{name}.json").read_text(),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/metaflow-step-functions",
        )["stateMachineArn"]
        return arn

    def start(self, machine_arn: str, name: str, start_ms: int) -> str:
        arn: str = self.client.start_execution(stateMachineArn=machine_arn, name=name, input="{}")[
            "executionArn"
        ]
        self._execution(arn).start_date = _dt(start_ms)
        return arn

    def finish(self, arn: str, status: str, stop_ms: int, output: str | None = None) -> None:
        """What AWS would show once the execution stopped (moto never moves executions on by itself)."""
        execution = self._execution(arn)
        execution.status = status
        execution.stop_date = _dt(stop_ms)
        execution.output = output

    @staticmethod
    def _execution(arn: str) -> Any:
        return stepfunctions_backends[ACCOUNT][REGION].describe_execution(arn)


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
