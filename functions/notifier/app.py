"""Notifier Lambda: table stream batches -> Slack / webhook / SNS messages, with partial batch responses.

A record that could not be delivered is reported failed, so the stream retries it (bisecting the batch)
and finally hands it to the on-failure destination; the others are not sent again (see services/notify.py).
"""

from __future__ import annotations

import gc

gc.disable()  # while the function loads (docs/benchmarks.md, "Cold start")

from typing import Any

from runwatch.observability import MetricCounters, logger, metrics
from runwatch.partial_batch import PartialBatchResponse, partial_batch_response, stream_sequence_number
from runwatch.settings import NotifierSettings
from runwatch.wiring import aws_clients, build_lambda_notifier

# Built once per container: only the configured channels create a client, and secrets and rules are cached.
_notifier = build_lambda_notifier(NotifierSettings.from_env(), aws_clients(), counters=MetricCounters())
gc.freeze()  # what was loaded lives as long as the container: no later collection walks it again
gc.enable()


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> PartialBatchResponse:
    def seconds_left() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000

    return partial_batch_response(
        event,
        lambda record: _notifier.handle_record(record, seconds_left),
        stream_sequence_number,
        logger,
    )
