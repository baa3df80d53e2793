"""Ingest integration fixtures: a repository bound to the test's fresh DynamoDB Local table."""

from __future__ import annotations

import pytest

from runwatch.store import models
from runwatch.store.repository import StatusRepository
from runwatch_dev.local.dynamodb_local import DynamoDBLocal


@pytest.fixture
def repository(table_name: str, dynamodb_local: DynamoDBLocal) -> StatusRepository:
    models.bind(table_name, host=dynamodb_local.endpoint, region="us-east-1")
    return StatusRepository()
