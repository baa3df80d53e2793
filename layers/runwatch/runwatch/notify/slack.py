"""The Slack channel: a Block Kit message posted to an incoming webhook, one per second at most."""

from __future__ import annotations

import json

from runwatch.notify.delivery import DeliveryFailed, HttpSender
from runwatch.notify.message import Notification
from runwatch.notify.secrets import EndpointSource
from runwatch.notify.slack_blocks import check_limits, render


class SlackChannel:
    name = "slack"

    def __init__(self, endpoint: EndpointSource, sender: HttpSender) -> None:
        self.endpoint = endpoint
        self.sender = sender  # its RateLimiter keeps to Slack's one message per second per webhook

    def send(self, notification: Notification) -> None:
        message = render(notification)
        problems = check_limits(message)
        endpoint = self.endpoint.get()
        if problems:
            # Slack would answer 400 invalid_blocks: a bug here, not a reason to retry.
            raise DeliveryFailed(
                endpoint.host, f"message breaks Block Kit limits: {problems[0]}", retryable=False
            )
        body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
        self.sender.post(endpoint.url, body, lambda: {"Content-Type": "application/json; charset=utf-8"})
