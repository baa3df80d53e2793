"""The SNS channel: a plain-text message (e-mail and chat subscribers read it as is) with attributes that
subscription filter policies can match (type, severity, flow, status)."""

from __future__ import annotations

import re
from typing import Any, Final

from runwatch.domain.times import iso
from runwatch.notify.delivery import DeliveryFailed
from runwatch.notify.message import Notification, format_duration

MAX_SUBJECT: Final = 99  # SNS: fewer than 100 printable ASCII characters, no line breaks
MAX_REASON: Final = 4000
_NOT_PRINTABLE_ASCII = re.compile(r"[^\x20-\x7e]")
_RETRYABLE_CODES = frozenset({"Throttling", "ThrottlingException", "InternalError", "ServiceUnavailable"})


def subject(notification: Notification) -> str:
    text = _NOT_PRINTABLE_ASCII.sub("?", f"[runwatch] {notification.title}").strip()
    return text if len(text) <= MAX_SUBJECT else text[: MAX_SUBJECT - 3] + "..."


def text(notification: Notification) -> str:
    lines = [notification.title, ""]
    facts = [
        ("Status", notification.status),
        ("Orchestrator", notification.orchestrator),
        ("Project", notification.project),
        ("Branch", notification.branch),
        ("User", notification.user),
        ("Tags", ", ".join(notification.tags) or None),
        ("Duration", format_duration(notification.duration_ms)),
        ("Occurred", iso(notification.occurred_at)),
    ]
    lines.extend(f"{label}: {value}" for label, value in facts if value)
    if notification.message:
        lines += ["", notification.message]
    failure = notification.failure
    if failure is not None:
        where = f"{failure.step}/{failure.task_id} attempt {failure.attempt}" if failure.step else "the run"
        exit_code = f", exit code {failure.exit_code}" if failure.exit_code is not None else ""
        lines += ["", f"Failure: {failure.failure_class} in {where}{exit_code}"]
        if failure.reason:
            reason = failure.reason
            lines.append(reason if len(reason) <= MAX_REASON else reason[:MAX_REASON] + "...")
        if failure.exception:
            lines.append(f"Exception: {failure.exception}")
        if failure.log_lines:
            lines += ["", "Log (last lines):", *failure.log_lines]
    others = notification.failed_tasks - (1 if failure and failure.step else 0)
    if others > 0 and notification.type.startswith("run."):
        lines.append(f"{others} other task(s) failed or were killed.")
    if notification.hint:
        lines += ["", f"Hint: {notification.hint}"]
    if notification.links:
        lines += ["", *(f"{name}: {url}" for name, url in notification.links)]
    return "\n".join(lines)


class SnsChannel:
    name = "sns"

    def __init__(self, client: Any, topic_arn: str) -> None:
        self.client = client
        self.topic_arn = topic_arn

    def send(self, notification: Notification) -> None:
        attributes = {
            "type": notification.type,
            "severity": notification.severity,
            "flow": notification.flow,
            "status": notification.status,
        }
        try:
            self.client.publish(
                TopicArn=self.topic_arn,
                Subject=subject(notification),
                Message=text(notification),
                MessageAttributes={
                    k: {"DataType": "String", "StringValue": v} for k, v in attributes.items() if v
                },
            )
        except Exception as error:  # botocore raises many types; keep only the error code
            code = getattr(error, "response", {}).get("Error", {}).get("Code") or type(error).__name__
            raise DeliveryFailed(
                "sns", f"publish failed ({code})", retryable=code in _RETRYABLE_CODES
            ) from None
