"""Ingest Lambda: SQS batches of Batch / Step Functions events -> run status in DynamoDB."""

from __future__ import annotations

from typing import Any

import boto3

from runwatch.config import settings
from runwatch.observability import MetricCounters, logger, metrics
from runwatch.services.factory import build_ingestor
from runwatch.services.ingest_queue import IngestQueueConsumer, SqsDeadLetters

_settings = settings()
_counters = MetricCounters()
_consumer = IngestQueueConsumer(
    ingestor=build_ingestor(_settings, counters=_counters, sfn_client=boto3.client("stepfunctions")),
    dead_letters=SqsDeadLetters(boto3.client("sqs"), _settings.rejected_queue_url or ""),
    counters=_counters,
    logger=logger,
)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _consumer.handle_batch(event, context)
