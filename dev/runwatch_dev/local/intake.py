"""Local event intake: `POST /events` bodies (one EventBridge event or a JSON array) -> the ingest service.

This stands in for EventBridge -> SQS -> the ingest function: each event goes through the same
`Ingestor.ingest` as in AWS, synchronously, so the response is sent only once every event is applied.
Rejected events go to the dead-letter sink with their reason (the DLQ in AWS, a file here) while the rest
are applied; a failure that may pass (DynamoDB unavailable) stops the request so the caller can resend it,
which is safe because ingest is idempotent.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from runwatch.events.envelope import RejectedEvent
from runwatch.services.ingest import APPLIED, DUPLICATE, IGNORED, PARKED
from runwatch.services.ingest_queue import DeadLetters
from runwatch.store.repository import StoreUnavailable

ACCEPTED_OUTCOMES = frozenset({APPLIED, DUPLICATE, PARKED})


class EventSink(Protocol):
    def ingest(self, raw: str | bytes | dict[str, Any]) -> str: ...


class BadBody(ValueError):
    """The request body is not one event or an array of events (HTTP 400)."""


class IntakeInterrupted(Exception):
    """The store became unavailable part way; `report` holds what was done before (HTTP 503)."""

    def __init__(self, report: IntakeReport, cause: StoreUnavailable) -> None:
        super().__init__(str(cause))
        self.report = report


@dataclass
class IntakeReport:
    accepted: int = 0
    ignored: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.accepted + self.ignored + self.rejected

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "ignored": self.ignored,
            "rejected": self.rejected,
            "errors": self.errors,
        }


def events_of(body: bytes) -> list[Any]:
    """The events in a request body; raises BadBody when it is not JSON, or neither an object nor an array."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise BadBody(f"body is not JSON: {error}") from None
    if isinstance(document, dict):
        return [document]
    if isinstance(document, list):
        return document
    raise BadBody(
        f"body must be an EventBridge event (a JSON object) or an array of them, got {type(document).__name__}"
    )


class EventIntake:
    def __init__(self, ingestor: EventSink, dead_letters: DeadLetters, logger: Logger | None = None) -> None:
        self._ingestor = ingestor
        self._dead_letters = dead_letters
        self._log = logger or Logger(service="runwatch")
        # Requests are served on many threads and the demo ingests on its own; the Ingestor's caches are
        # not thread-safe, and Lambda applies one record at a time anyway.
        self._lock = threading.Lock()

    def post(self, body: bytes) -> IntakeReport:
        return self.ingest_all(events_of(body))

    def ingest_all(self, events: list[Any]) -> IntakeReport:
        report = IntakeReport()
        for index, event in enumerate(events):
            try:
                outcome = self._ingest_one(event)
            except StoreUnavailable as error:
                raise IntakeInterrupted(report, error) from None
            except RejectedEvent as rejected:
                self._reject(report, index, event, rejected.reason)
                continue
            except Exception as error:  # a bug must not lose the event: dead-letter it, as the redrive would
                self._log.exception("event failed", index=index)
                self._reject(report, index, event, f"unexpected error: {type(error).__name__}")
                continue
            if outcome in ACCEPTED_OUTCOMES:
                report.accepted += 1
            elif outcome == IGNORED:
                report.ignored += 1
        return report

    def _ingest_one(self, event: Any) -> str:
        with self._lock:
            return self._ingestor.ingest(event)

    def _reject(self, report: IntakeReport, index: int, event: Any, reason: str) -> None:
        report.rejected += 1
        report.errors.append({"index": index, "reason": reason})
        self._log.warning("event rejected", index=index, reason=reason)
        self._dead_letters.send(json.dumps(event, ensure_ascii=False), reason)
