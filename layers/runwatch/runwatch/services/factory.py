"""Builds the services from settings: the one place where the table and AWS clients are wired."""

from __future__ import annotations

from typing import Any

from runwatch.config import Settings
from runwatch.services.ingest import Counters, Ingestor
from runwatch.store import models
from runwatch.store.repository import StatusRepository


def bind_table(settings: Settings) -> StatusRepository:
    models.bind(settings.table_name, host=settings.dynamodb_endpoint, region=settings.region)
    return StatusRepository(retention_days=settings.retention_days)


def build_ingestor(
    settings: Settings, counters: Counters | None = None, sfn_client: Any | None = None
) -> Ingestor:
    """An Ingestor on the configured table; with a Step Functions client it can describe state machines."""
    from runwatch.aws.state_machines import DescribeStateMachineInspector

    inspector = DescribeStateMachineInspector(sfn_client) if sfn_client is not None else None
    return Ingestor(
        bind_table(settings),
        counters=counters,
        inspector=inspector,
        state_machine_prefix=settings.state_machine_prefix,
    )
