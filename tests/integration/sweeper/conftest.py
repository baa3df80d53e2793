"""Sweeper integration fixtures: a clock the test moves, the table on DynamoDB Local, Batch/SFN on moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from runwatch.services.ingest import Ingestor
from runwatch.services.sweep import Sweeper
from runwatch.settings import SweepThresholds, TableSettings
from runwatch.store.active import SweepReads
from runwatch.store.repository import StatusRepository
from runwatch.wiring import bind_table
from runwatch_dev.local.dynamodb_local import DynamoDBLocal

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "events"
DATA = ROOT / "tests" / "data"


def sample(path: str) -> dict[str, Any]:
    """One of the sample events in events/, e.g. "sfn_run/06_execution_SUCCEEDED.json"."""
    event: dict[str, Any] = json.loads((EVENTS / path).read_text())
    return event


@dataclass
class Clock:
    """Epoch milliseconds that only move when the test says so."""

    now: int = 1_795_000_000_000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def repository(table_name: str, dynamodb_local: DynamoDBLocal, clock: Clock) -> StatusRepository:
    return bind_table(TableSettings(table_name=table_name, dynamodb_endpoint=dynamodb_local.endpoint), clock)


@pytest.fixture
def aws() -> Iterator[None]:
    """moto's Batch (jobs succeed at once, no Docker) and Step Functions, in process."""
    with mock_aws(config={"batch": {"use_docker": False}}):
        yield


@pytest.fixture
def batch_client(aws: None) -> Any:
    return boto3.client("batch", region_name="us-east-1")


@pytest.fixture
def sfn_client(aws: None) -> Any:
    return boto3.client("stepfunctions", region_name="us-east-1")


def make_sweeper(
    repository: StatusRepository, *, jobs: Any = None, executions: Any = None, **settings: Any
) -> Sweeper:
    return Sweeper(
        reads=SweepReads(),
        store=repository,
        ingestor=Ingestor(repository),
        settings=SweepThresholds(**settings),
        jobs=jobs,
        executions=executions,
    )
