"""SQS-shaped Lambda events, as the ingest queue delivers them."""

from __future__ import annotations

import json
from typing import Any


def sqs_event(bodies: list[Any], first_id: int = 0) -> dict[str, Any]:
    records = []
    for offset, body in enumerate(bodies):
        text = body if isinstance(body, str) else json.dumps(body)
        records.append(
            {
                "messageId": f"m-{first_id + offset}",
                "receiptHandle": f"r-{first_id + offset}",
                "body": text,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795000000000"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:runwatch-ingest",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


class CollectedDeadLetters:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, body: str, reason: str) -> None:
        self.sent.append((body, reason))
