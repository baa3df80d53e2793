"""API Gateway REST proxy (v1) events for the resolver, and its responses read back as plain values."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver


def rest_event(
    target: str,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    request_id: str = "req-0001",
    stage: str | None = "dev",
) -> dict[str, Any]:
    """The event API Gateway sends for `target` ("/runs?limit=2") on a stage's default URL: `path` is
    decoded and without the stage, `requestContext.path` has it. `stage=None`: served at the root."""
    parts = urlsplit(target)
    multi = parse_qs(parts.query, keep_blank_values=True)
    headers = headers or {}
    return {
        "resource": parts.path,
        "path": parts.path,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in multi.items()} or None,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "stage": stage or "$default",
            "path": f"/{stage}{parts.path}" if stage else parts.path,
            "requestId": request_id,
            "httpMethod": method,
        },
        "body": None,
        "isBase64Encoded": False,
    }


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str | None

    def json(self) -> Any:
        assert self.text is not None
        return json.loads(self.text)


def call(app: APIGatewayRestResolver, target: str, headers: dict[str, str] | None = None) -> Reply:
    raw = app.resolve(rest_event(target, headers), None)
    flat = {k: v[-1] for k, v in (raw.get("multiValueHeaders") or {}).items()}
    flat.update(raw.get("headers") or {})
    return Reply(raw["statusCode"], flat, raw["body"])
