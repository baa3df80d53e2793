"""Ingest Lambda: SQS batches of Batch / Step Functions events -> run status in DynamoDB."""

from __future__ import annotations

from typing import Any

import boto3

from runwatch.observability import MetricCounters, logger, metrics
from runwatch.settings import IngestSettings
from runwatch.wiring import build_queue_consumer

# Built once per container: the table binding and the Step Functions and SQS clients outlive an invocation.
_consumer = build_queue_consumer(IngestSettings.from_env(), boto3.client, MetricCounters(), logger)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _consumer.handle_batch(event, context)
