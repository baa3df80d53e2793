"""Ingest Lambda: SQS batches of Batch / Step Functions events -> run status in DynamoDB."""

from __future__ import annotations

import gc

gc.disable()  # while the function loads (docs/benchmarks.md, "Cold start")

from typing import Any

from runwatch.observability import MetricCounters, logger, metrics
from runwatch.settings import IngestSettings
from runwatch.wiring import aws_clients, build_queue_consumer

# Built once per container: the table binding, and the Step Functions and SQS clients made on first use.
_consumer = build_queue_consumer(IngestSettings.from_env(), aws_clients(), MetricCounters(), logger)
gc.freeze()  # what was loaded lives as long as the container: no later collection walks it again
gc.enable()


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _consumer.handle_batch(event, context)
