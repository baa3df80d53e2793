"""Ingest integration fixtures: a repository bound to the test's fresh DynamoDB Local table."""

from __future__ import annotations

import pytest

from runwatch.settings import TableSettings
from runwatch.store.repository import StatusRepository
from runwatch.wiring import bind_table
from runwatch_dev.local.dynamodb_local import DynamoDBLocal


@pytest.fixture
def repository(table_name: str, dynamodb_local: DynamoDBLocal) -> StatusRepository:
    return bind_table(TableSettings(table_name=table_name, dynamodb_endpoint=dynamodb_local.endpoint))
