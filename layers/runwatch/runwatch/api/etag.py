"""Conditional GETs: a strong ETag over the exact body sent, 304 when If-None-Match already has it.

Runs change while they are watched, so clients poll; a 304 saves the body and the client's re-render. The
tag is a hash of the serialized JSON, so it changes exactly when the answer does (no version bookkeeping).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

CACHE_CONTROL = "no-cache"


def serialize(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def strong_etag(body: str | bytes) -> str:
    data = body.encode() if isinstance(body, str) else body
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: weak comparison against any listed tag, or "*"."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


def conditional_get(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Middleware: tag every 200 response; answer 304 (no body) when the client has that version already."""
    response = next_middleware(app)
    response.headers["Cache-Control"] = CACHE_CONTROL
    if response.status_code != 200 or response.body is None:
        return response
    if response.is_json() and not isinstance(response.body, str | bytes):
        response.body = serialize(response.body)
    etag = strong_etag(response.body)
    response.headers["ETag"] = etag
    if matches(app.current_event.headers.get("If-None-Match"), etag):
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
        return Response(status_code=304, content_type=None, body=None, headers=headers)
    return response
