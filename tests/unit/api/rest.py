"""API Gateway REST proxy (v1) events for the resolver, and its responses read back as plain values."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver


def proxy_event(
    path: str,
    query: str = "",
    headers: dict[str, str] | None = None,
    method: str = "GET",
    request_id: str = "req-0001",
    stage: str | None = "dev",
) -> dict[str, Any]:
    """The event API Gateway sends on a stage's default URL: `path` decoded and without the stage (which
    `requestContext.path` has), the raw `query` string split into parameters. `stage=None`: served at /."""
    multi = parse_qs(query, keep_blank_values=True)
    headers = headers or {}
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in multi.items()} or None,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "stage": stage or "$default",
            "path": f"/{stage}{path}" if stage else path,
            "requestId": request_id,
            "httpMethod": method,
        },
        "body": None,
        "isBase64Encoded": False,
    }


def rest_event(target: str, headers: dict[str, str] | None = None, **kwargs: Any) -> dict[str, Any]:
    """The event for a request target such as "/flows/F/runs?status=failed" (percent-encoded)."""
    parts = urlsplit(target)
    return proxy_event(unquote(parts.path), parts.query, headers, **kwargs)


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
