"""HTTP request <-> API Gateway REST proxy event, the way API Gateway builds them for template.yaml's routes.

The local server hands the API's resolver exactly what the deployed API Gateway would: the routes come from
the `Api` events of template.yaml's functions (so a route the template does not declare answers 403
"Missing Authentication Token" here too, as API Gateway does), `resource` and `pathParameters` are the
matched route's, the query string is decoded into single- and multi-value maps, and the body is text
(the API declares no binary media types). The served URL has no stage prefix, like a custom domain:
`requestContext.path` equals `path`, so generated links (OpenAPI `servers`) point at the root.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from runwatch_dev.local.table_from_template import DEFAULT_TEMPLATE, load_template

STAGE = "local"
ACCOUNT_ID = "000000000000"
API_ID = "local"
# API Gateway's own answer for a method/path the API does not declare (it is not an auth problem).
MISSING_ROUTE_BODY = '{"message":"Missing Authentication Token"}'
# Set by API Gateway itself; whatever the Lambda returns for these is replaced.
_HOP_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})
_PARAM = re.compile(r"^\{([A-Za-z0-9_.-]+)(\+?)\}$")


@dataclass(frozen=True, slots=True)
class ApiRoute:
    """One `Type: Api` event: `method` upper-case (or ANY), `resource` like /flows/{flow}/runs."""

    method: str
    resource: str

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters if this route takes the request, else None."""
        if self.method not in ("ANY", method):
            return None
        wanted = _segments(self.resource)
        given = _segments(path)
        params: dict[str, str] = {}
        for index, part in enumerate(wanted):
            param = _PARAM.match(part)
            if param and param.group(2):  # {proxy+}: the rest of the path, at least one segment
                if index >= len(given):
                    return None
                params[param.group(1)] = "/".join(given[index:])
                return params
            if index >= len(given):
                return None
            if param:
                if not given[index]:
                    return None
                params[param.group(1)] = given[index]
            elif part != given[index]:
                return None
        return params if len(given) == len(wanted) else None

    def specificity(self) -> tuple[int, ...]:
        # API Gateway prefers a literal segment over {param} over {proxy+}, segment by segment.
        ranks = []
        for part in _segments(self.resource):
            param = _PARAM.match(part)
            ranks.append(0 if param and param.group(2) else 1 if param else 2)
        return (*ranks, 1 if self.method != "ANY" else 0)


def _segments(path: str) -> list[str]:
    stripped = path.strip("/")
    return stripped.split("/") if stripped else []


def api_routes(template: Mapping[str, Any]) -> list[ApiRoute]:
    """Every `Type: Api` event of the template's serverless functions."""
    routes = []
    for resource in (template.get("Resources") or {}).values():
        if not isinstance(resource, Mapping) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
            if isinstance(event, Mapping) and event.get("Type") == "Api":
                properties = event.get("Properties") or {}
                routes.append(ApiRoute(str(properties["Method"]).upper(), str(properties["Path"])))
    return routes


def template_routes(template_path: str | os.PathLike[str] = DEFAULT_TEMPLATE) -> list[ApiRoute]:
    return api_routes(load_template(template_path))


@dataclass(frozen=True, slots=True)
class RouteMatch:
    route: ApiRoute
    path_parameters: dict[str, str]


def match_route(routes: Iterable[ApiRoute], method: str, path: str) -> RouteMatch | None:
    """The most specific route that takes `method` `path`, as API Gateway picks it."""
    best: RouteMatch | None = None
    for route in routes:
        params = route.match(method, path)
        if params is not None and (best is None or route.specificity() > best.route.specificity()):
            best = RouteMatch(route, params)
    return best


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """What the local HTTP server received. `target` is the raw request-target (path and query)."""

    method: str
    target: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    source_ip: str = "127.0.0.1"

    @property
    def path(self) -> str:
        return urlsplit(self.target).path or "/"


def proxy_event(
    request: HttpRequest,
    matched: RouteMatch,
    *,
    request_id: str | None = None,
    now: datetime | None = None,
    stage: str = STAGE,
) -> dict[str, Any]:
    """The REST API (v1) proxy event for `request` on the route it matched."""
    now = now or datetime.now(tz=UTC)
    request_id = request_id or str(uuid.uuid4())
    # Like API Gateway REST: the path is passed as received (still percent-encoded), the query decoded.
    parts = urlsplit(request.target)
    path = parts.path or "/"
    multi_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        multi_query.setdefault(name, []).append(value)
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        multi_headers.setdefault(name, []).append(value)
    headers = {name: values[-1] for name, values in multi_headers.items()}
    lower = {name.lower(): value for name, value in headers.items()}
    body, is_base64 = _request_body(request.body)
    return {
        "resource": matched.route.resource,
        "path": path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": matched.path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "resourceId": API_ID,
            "resourcePath": matched.route.resource,
            "httpMethod": request.method,
            "extendedRequestId": request_id,
            "requestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "path": path,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainName": lower.get("host", "127.0.0.1"),
            "domainPrefix": lower.get("host", "127.0.0.1").split(".", 1)[0],
            "identity": {
                "sourceIp": request.source_ip,
                "userAgent": lower.get("user-agent"),
                "accessKey": None,
                "accountId": None,
                "apiKey": None,
                "apiKeyId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "user": None,
                "userArn": None,
            },
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _request_body(raw: bytes) -> tuple[str | None, bool]:
    if not raw:
        return None, False
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        # Not text: API Gateway would mangle it; base64 at least keeps it intact for the handler.
        return base64.b64encode(raw).decode("ascii"), True


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def http_response(proxy: Mapping[str, Any]) -> HttpResponse:
    """The HTTP response API Gateway sends for a Lambda proxy response.

    `multiValueHeaders` and `headers` are merged; a name in both keeps only its multi-value values.
    """
    try:
        status = int(proxy["statusCode"])
    except (KeyError, TypeError, ValueError):
        # What API Gateway answers for a malformed proxy response.
        return HttpResponse(
            502, [("Content-Type", "application/json")], b'{"message": "Internal server error"}'
        )
    multi: dict[str, list[str]] = {
        name: [str(value) for value in values]
        for name, values in (proxy.get("multiValueHeaders") or {}).items()
    }
    multi_lower = {name.lower() for name in multi}
    headers: list[tuple[str, str]] = [
        (name, value)
        for name, values in multi.items()
        for value in values
        if name.lower() not in _HOP_HEADERS
    ]
    for name, value in (proxy.get("headers") or {}).items():
        if name.lower() not in multi_lower and name.lower() not in _HOP_HEADERS:
            headers.append((name, str(value)))
    raw_body = proxy.get("body")
    if raw_body is None:
        body = b""
    elif proxy.get("isBase64Encoded"):
        try:
            body = base64.b64decode(str(raw_body), validate=True)
        except (binascii.Error, ValueError):
            return HttpResponse(
                502, [("Content-Type", "application/json")], b'{"message": "Internal server error"}'
            )
    else:
        body = str(raw_body).encode("utf-8")
    return HttpResponse(status, headers, body)


def missing_route_response() -> HttpResponse:
    return HttpResponse(
        403,
        [("Content-Type", "application/json"), ("x-amzn-ErrorType", "MissingAuthenticationTokenException")],
        MISSING_ROUTE_BODY.encode(),
    )
