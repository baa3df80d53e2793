"""Raw message -> a typed event, or a RejectedEvent saying exactly what is wrong with it."""

from __future__ import annotations

import json
from typing import Any

from runwatch.events.models import (
    BATCH_JOB_QUEUE_BLOCKED,
    BATCH_JOB_STATE_CHANGE,
    SFN_EXECUTION_STATUS_CHANGE,
    BatchJobStateChangeEvent,
    StepFunctionsExecutionStatusChangeEvent,
)
from runwatch.json_fields import Fields, InvalidFields

AnyEvent = BatchJobStateChangeEvent | StepFunctionsExecutionStatusChangeEvent

_MODELS: dict[tuple[str, str], type[AnyEvent]] = {
    ("aws.batch", BATCH_JOB_STATE_CHANGE): BatchJobStateChangeEvent,
    ("aws.batch", BATCH_JOB_QUEUE_BLOCKED): BatchJobStateChangeEvent,
    ("aws.states", SFN_EXECUTION_STATUS_CHANGE): StepFunctionsExecutionStatusChangeEvent,
}


class RejectedEvent(ValueError):
    """Input that can never be applied: it goes to the dead-letter path with this reason."""

    def __init__(self, reason: str, event_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.event_id = event_id


def parse_event(raw: str | bytes | dict[str, Any]) -> AnyEvent:
    """Validate one EventBridge event; raises RejectedEvent with a reason a person can act on."""
    if isinstance(raw, str | bytes):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise RejectedEvent(f"malformed JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise RejectedEvent(f"an event must be a JSON object, got {type(raw).__name__}")
    event_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    source, detail_type = raw.get("source"), raw.get("detail-type")
    model = (
        _MODELS.get((source, detail_type))
        if isinstance(source, str) and isinstance(detail_type, str)
        else None
    )
    if model is None:
        raise RejectedEvent(f"unsupported event: source={source!r} detail-type={detail_type!r}", event_id)
    fields = Fields(raw)
    event = model.read(fields)
    try:
        fields.check()
    except InvalidFields as exc:
        raise RejectedEvent(f"invalid {detail_type} event: {exc.describe()}", event_id) from None
    return event
