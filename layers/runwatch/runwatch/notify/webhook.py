"""The generic webhook channel: a JSON body signed with HMAC-SHA256, and how a receiver checks it.

    X-Runwatch-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
    X-Runwatch-Delivery:  <id, the same for every retry of one notification>

The timestamp is signed with the body, so a receiver that rejects old timestamps also rejects replays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from runwatch.domain.times import iso
from runwatch.notify.delivery import HttpSender
from runwatch.notify.message import AttemptReport, Notification
from runwatch.notify.secrets import EndpointSource

SIGNATURE_HEADER: Final = "X-Runwatch-Signature"
DELIVERY_HEADER: Final = "X-Runwatch-Delivery"
DEFAULT_TOLERANCE_SECONDS: Final = 300


def _attempt(attempt: AttemptReport) -> dict[str, Any]:
    return {
        "attempt": attempt.attempt,
        "status": attempt.status,
        "failure_class": attempt.failure_class,
        "reason": attempt.reason,
        "exit_code": attempt.exit_code,
        "started_at": iso(attempt.started_at),
        "stopped_at": iso(attempt.stopped_at),
    }


def _usage(notification: Notification) -> dict[str, Any] | None:
    usage = notification.usage
    if usage is None:
        return None
    return {
        "vcpu_hours": round(usage.vcpu_hours, 6),
        "memory_gib_hours": round(usage.memory_gib_hours, 6),
        "gpu_hours": round(usage.gpu_hours, 6),
        "wasted_vcpu_hours": round(usage.wasted_vcpu_hours, 6),
        "estimated_cost_usd": None
        if notification.estimated_cost_usd is None
        else round(notification.estimated_cost_usd, 6),
    }


def payload(notification: Notification) -> dict[str, Any]:
    failure = notification.failure
    task = notification.task
    return {
        "type": notification.type,
        "flow": notification.flow,
        "run_id": notification.run_id,
        "account": notification.account,
        "region": notification.region,
        "status": notification.status,
        "orchestrator": notification.orchestrator,
        "user": notification.user,
        "project": notification.project,
        "branch": notification.branch,
        "failure": None
        if failure is None
        else {
            "step": failure.step or None,
            "task_id": failure.task_id or None,
            "attempt": failure.attempt,
            "failure_class": failure.failure_class,
            "reason": failure.reason,
            "exit_code": failure.exit_code,
            "exception": failure.exception,
            "log_lines": list(failure.log_lines),
        },
        "task": None
        if task is None
        else {
            "step": task.step,
            "task_id": task.task_id,
            "status": task.status,
            "attempts": [_attempt(a) for a in task.attempts],
        },
        "occurred_at": iso(notification.occurred_at),
        "links": dict(notification.links),
        # Beyond the core fields: context a receiver may show or route on.
        "severity": notification.severity,
        "tags": list(notification.tags),
        "started_at": iso(notification.started_at),
        "finished_at": iso(notification.finished_at),
        "failed_tasks": notification.failed_tasks,
        "usage": _usage(notification),
        "message": notification.message,
        "hint": notification.hint,
    }


def body(notification: Notification) -> bytes:
    return json.dumps(payload(notification), separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, timestamp: int, raw_body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str, header: str | None, raw_body: bytes, now: float, tolerance: int = DEFAULT_TOLERANCE_SECONDS
) -> bool:
    """The receiver's check (also in docs/notifications.md): a valid v1 signature made less than `tolerance` ago."""
    if not header:
        return False
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    timestamp = parts.get("t", "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    expected = signature(secret, int(timestamp), raw_body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


class WebhookChannel:
    name = "webhook"

    def __init__(
        self, endpoint: EndpointSource, sender: HttpSender, clock: Callable[[], float] = time.time
    ) -> None:
        self.endpoint = endpoint
        self.sender = sender
        self.clock = clock

    def send(self, notification: Notification) -> None:
        endpoint = self.endpoint.get()
        raw = body(notification)
        secret = endpoint.secret

        def headers() -> Mapping[str, str]:
            signed = {SIGNATURE_HEADER: signature(secret, int(self.clock()), raw)} if secret else {}
            return {"Content-Type": "application/json", DELIVERY_HEADER: notification.delivery_id, **signed}

        self.sender.post(endpoint.url, raw, headers)
