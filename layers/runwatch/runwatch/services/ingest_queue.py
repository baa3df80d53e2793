"""The ingest queue consumer: one SQS batch of EventBridge events -> applied, with partial failures.

A record that can never apply (malformed, unsupported) is rejected: logged with its reason, counted, and sent
to the dead-letter queue at once with the reason attached, so it is kept but not retried. A record that
fails for a passing reason (DynamoDB throttled or down) is reported as a batch item failure: SQS redelivers
it, and after maxReceiveCount the queue's redrive policy moves it to the same dead-letter queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from runwatch.events.envelope import RejectedEvent
from runwatch.partial_batch import PartialBatchResponse, Record, partial_batch_response, sqs_message_id
from runwatch.services.ingest import Counters, Ingestor, event_summary

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger


class DeadLetters(Protocol):
    def send(self, body: str, reason: str) -> None: ...


class SqsDeadLetters:
    """Rejected events go to the ingest dead-letter queue with the reason as a message attribute."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def send(self, body: str, reason: str) -> None:
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=body,
            MessageAttributes={"rejected_reason": {"DataType": "String", "StringValue": reason[:1000]}},
        )


class IngestQueueConsumer:
    def __init__(
        self, ingestor: Ingestor, dead_letters: DeadLetters, counters: Counters, logger: Logger
    ) -> None:
        self._ingestor = ingestor
        self._dead_letters = dead_letters
        self._counters = counters
        self._logger = logger

    def apply_message(self, body: str, message_id: str) -> str:
        """Apply one message; raises (for redelivery) only when the failure may pass."""
        try:
            return self._ingestor.ingest(body)
        except RejectedEvent as rejected:
            self._logger.warning(
                "event rejected", reason=rejected.reason, message_id=message_id, event_id=rejected.event_id
            )
            self._counters.add("events_rejected")
            self._dead_letters.send(body, rejected.reason)
            return "rejected"

    def _record_handler(self, record: Record) -> str:
        body, message_id = record["body"], sqs_message_id(record)
        outcome = self.apply_message(body, message_id)
        self._logger.debug(
            "event processed", outcome=outcome, message_id=message_id, event=event_summary(body)
        )
        return outcome

    def handle_batch(self, event: dict[str, Any], context: Any) -> PartialBatchResponse:
        """Partial batch response: only the failed records are retried."""
        return partial_batch_response(event, self._record_handler, sqs_message_id, self._logger)
