"""Status API integration fixtures: the resolver over a fresh DynamoDB Local table, and ways to fill it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver

from runwatch.api.app import create_app
from runwatch.paging import PageTokens, key_from_secret
from runwatch.services.ingest import Ingestor
from runwatch.services.queries import RunQueries
from runwatch.settings import TableSettings
from runwatch.store.repository import StatusRepository
from runwatch.store.run_queries import RunReader
from runwatch.wiring import bind_table
from runwatch_dev.local.dynamodb_local import DynamoDBLocal

EVENTS = Path(__file__).resolve().parents[3] / "events"


@pytest.fixture
def repository(table_name: str, dynamodb_local: DynamoDBLocal) -> StatusRepository:
    return bind_table(TableSettings(table_name=table_name, dynamodb_endpoint=dynamodb_local.endpoint))


@pytest.fixture
def reader(repository: StatusRepository) -> RunReader:
    return RunReader()


@pytest.fixture
def api(reader: RunReader, table_name: str) -> APIGatewayRestResolver:
    return create_app(RunQueries(reader, PageTokens(key_from_secret(table_name))))


@pytest.fixture
def ingest(repository: StatusRepository) -> Callable[[Iterable[Any]], list[str]]:
    """Feed events (JSON text or dicts) through the real Ingestor; returns the outcomes."""
    ingestor = Ingestor(repository)

    def feed(events: Iterable[Any]) -> list[str]:
        return [ingestor.ingest(event) for event in events]

    return feed


def sample_events(folder: str) -> list[str]:
    """The sample events of one scenario folder under events/, in file order."""
    return [p.read_text() for p in sorted((EVENTS / folder).glob("*.json"))]
