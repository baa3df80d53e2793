"""The sweeper's alerts (`task.stuck`, `run.late`) and the marker that records each one exactly once.

The sweeper claims a marker per alert through `StatusRepository.claim_marker(*alert_marker(alert, reason),
detail=alert.to_json())`; the marker's INSERT on the table's stream is what makes the notifier send it, so
the marker's sort key must name the alert uniquely (one per stuck attempt, one per lateness reason).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Final

TASK_STUCK: Final = "task.stuck"
RUN_LATE: Final = "run.late"
ALERT_TYPES: Final = (TASK_STUCK, RUN_LATE)

# Marker kind of alerts: claimed as (ALERT_MARKER_KIND, alert_subject(...), alert_marker_sk(...)).
ALERT_MARKER_KIND: Final = "alert"


@dataclass(frozen=True, slots=True)
class Alert:
    """Something the sweeper found wrong with a run or one of its tasks. Times are epoch milliseconds."""

    type: str
    flow: str
    run_id: str
    account: str = ""  # the run's account and region (docs/design.md §2); empty for a flow's deadline
    region: str = ""
    step: str | None = None
    task_id: str | None = None
    attempt: int | None = None
    message: str = ""
    hint: str | None = None
    occurred_at: int = 0

    def __post_init__(self) -> None:
        if self.type not in ALERT_TYPES:
            raise ValueError(f"unknown alert type {self.type!r}")
        if self.type == TASK_STUCK and (self.step is None or self.task_id is None or self.attempt is None):
            raise ValueError("a task.stuck alert names its step, task_id and attempt")

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Alert:
        data: Any = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("alert detail is not a JSON object")
        attempt = data.get("attempt")
        return cls(
            type=str(data["type"]),
            flow=str(data["flow"]),
            run_id=str(data["run_id"]),
            account=str(data.get("account") or ""),
            region=str(data.get("region") or ""),
            step=_str_or_none(data.get("step")),
            task_id=_str_or_none(data.get("task_id")),
            attempt=None if attempt is None else int(attempt),
            message=str(data.get("message") or ""),
            hint=_str_or_none(data.get("hint")),
            occurred_at=int(data.get("occurred_at") or 0),
        )


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def alert_subject(alert: Alert) -> str:
    """The marker subject: all alerts of one run (account, region, flow, run id) share a partition."""
    return f"{alert.account}#{alert.region}#{alert.flow}#{alert.run_id}"


def alert_marker_sk(alert: Alert, reason: str | None = None) -> str:
    """`task.stuck#<step>#<task_id>#<attempt>` or `run.late#<reason>`: one marker, so one alert, per fact."""
    if alert.type == TASK_STUCK:
        return f"{TASK_STUCK}#{alert.step}#{alert.task_id}#{alert.attempt}"
    if not reason:
        raise ValueError("a run.late marker needs a reason (what made the run late)")
    return f"{RUN_LATE}#{reason}"


def alert_marker(alert: Alert, reason: str | None = None) -> tuple[str, str, str]:
    """(kind, subject, what) for StatusRepository.claim_marker / release_marker."""
    return ALERT_MARKER_KIND, alert_subject(alert), alert_marker_sk(alert, reason)


def alert_type_of_sk(sk: str) -> str | None:
    """The alert type a marker sort key names, None when it is not an alert marker."""
    head = sk.split("#", 1)[0]
    return head if head in ALERT_TYPES else None
