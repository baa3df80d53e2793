"""The ingest queue consumer: one SQS batch of EventBridge events -> applied, with partial failures.

A record that can never apply (malformed, unsupported) is rejected: logged with its reason, counted, and sent
to the dead-letter queue at once with the reason attached, so it is kept but not retried. A record that
fails for a passing reason (DynamoDB throttled or down) is reported as a batch item failure: SQS redelivers
it, and after maxReceiveCount the queue's redrive policy moves it to the same dead-letter queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from runwatch.events.envelope import RejectedEvent
from runwatch.partial_batch import PartialBatchResponse, records_of, sqs_message_id
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

    def handle_batch(self, event: dict[str, Any], context: Any) -> PartialBatchResponse:
        """Apply the batch together (each item written once); only the failed records are retried.

        The answer is SQS's partial batch response (`batchItemFailures`); the batch is applied as a whole
        (not record by record, as runwatch.partial_batch does) because its events are coalesced per item.
        """
        records = records_of(event)
        bodies = {sqs_message_id(record): str(record["body"]) for record in records}
        result = self._ingestor.ingest_batch(list(bodies.items()))
        failed = set(result.failed)
        for message_id, rejected in result.rejected.items():
            if not self._reject(bodies[message_id], message_id, rejected):
                failed.add(message_id)
        for message_id, error in result.failed.items():
            self._logger.warning(
                "event not applied, to be retried",
                error=f"{type(error).__name__}: {error}",
                message_id=message_id,
                event=event_summary(bodies[message_id]),
            )
        for message_id, outcome in result.outcomes.items():
            self._logger.debug(
                "event processed",
                outcome=outcome,
                message_id=message_id,
                event=event_summary(bodies[message_id]),
            )
        return {
            "batchItemFailures": [
                {"itemIdentifier": message_id} for message_id in bodies if message_id in failed
            ]
        }

    def _reject(self, body: str, message_id: str, rejected: RejectedEvent) -> bool:
        """Log, count and dead-letter a rejected event; False when the dead-letter queue could not take it."""
        self._logger.warning(
            "event rejected", reason=rejected.reason, message_id=message_id, event_id=rejected.event_id
        )
        self._counters.add("events_rejected")
        try:
            self._dead_letters.send(body, rejected.reason)
        except Exception as exc:  # the record is retried and rejected again
            self._logger.warning("dead-letter send failed", error=type(exc).__name__, message_id=message_id)
            return False
        return True
