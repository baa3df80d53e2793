"""Notifier Lambda: table stream batches -> Slack / webhook / SNS messages, with partial batch responses.

A record that could not be delivered is reported failed, so the stream retries it (bisecting the batch)
and finally hands it to the on-failure destination; the others are not sent again (see services/notify.py).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from runwatch.observability import MetricCounters, logger, metrics
from runwatch.settings import NotifierSettings
from runwatch.wiring import aws_clients, build_lambda_notifier

# Built once per container: only the configured channels create a client, and secrets and rules are cached.
_notifier = build_lambda_notifier(NotifierSettings.from_env(), aws_clients(), counters=MetricCounters())
_processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _record(record: DynamoDBRecord, lambda_context: LambdaContext) -> int:
    return _notifier.handle_record(
        record.raw_event, lambda: lambda_context.get_remaining_time_in_millis() / 1000
    )


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=_record, processor=_processor, context=context
    )
