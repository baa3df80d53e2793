"""HTTP <-> API Gateway REST proxy events: template.yaml's routes, the event's fields, the response back."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from runwatch.api.app import create_app
from runwatch_dev.local.apigw import (
    ApiRoute,
    HttpRequest,
    http_response,
    match_route,
    missing_route_response,
    proxy_event,
    template_routes,
)

ROUTES = template_routes()


def test_the_routes_are_the_templates_api_events() -> None:
    assert {(r.method, r.resource) for r in ROUTES} == {
        ("GET", "/"),
        ("GET", "/health"),
        ("GET", "/flows"),
        ("GET", "/flows/{flow}/runs"),
        ("GET", "/flows/{flow}/runs/{run_id}"),
        ("GET", "/flows/{flow}/runs/{run_id}/steps/{step}/tasks"),
        ("GET", "/flows/{flow}/runs/{run_id}/steps/{step}/tasks/{task_id}"),
        ("GET", "/flows/{flow}/runs/{run_id}/steps/{step}/tasks/{task_id}/attempts/{attempt}/logs"),
        ("GET", "/runs"),
        ("GET", "/config"),
        ("GET", "/flows/{flow}/stats"),
        ("GET", "/jobs/{job_id}"),
        ("GET", "/executions/{execution}"),
        ("GET", "/search"),
        ("GET", "/openapi.json"),
        ("GET", "/swagger"),
    }


def test_every_template_route_is_a_route_of_the_api_app() -> None:
    app = create_app(queries=None)  # type: ignore[arg-type] - routes only, no query is made
    registered = {(route.method, route.rule.pattern) for route in app._static_routes + app._dynamic_routes}
    for route in ROUTES:
        path = route.resource.replace("{", "<").replace("}", ">")
        assert any(method == route.method and _matches(pattern, path) for method, pattern in registered), (
            route
        )


def _matches(pattern: str, path: str) -> bool:
    import re

    example = re.sub(r"<\w+>", "x", path)
    return re.fullmatch(pattern, example) is not None


@pytest.mark.parametrize(
    ("method", "path", "resource", "params"),
    [
        ("GET", "/", "/", {}),
        ("GET", "/runs", "/runs", {}),
        ("GET", "/flows/TrainFlow/runs", "/flows/{flow}/runs", {"flow": "TrainFlow"}),
        (
            "GET",
            "/flows/TrainFlow/runs/sfn-1",
            "/flows/{flow}/runs/{run_id}",
            {"flow": "TrainFlow", "run_id": "sfn-1"},
        ),
        ("GET", "/flows/A%20B/runs", "/flows/{flow}/runs", {"flow": "A%20B"}),
    ],
)
def test_a_request_matches_its_route_with_path_parameters(
    method: str, path: str, resource: str, params: dict[str, str]
) -> None:
    matched = match_route(ROUTES, method, path)
    assert matched is not None
    assert (matched.route.resource, matched.path_parameters) == (resource, params)


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/nowhere"), ("POST", "/runs"), ("GET", "/flows//runs"), ("GET", "/flows/x")]
)
def test_what_the_template_does_not_declare_matches_nothing(method: str, path: str) -> None:
    assert match_route(ROUTES, method, path) is None


def test_literal_segments_win_over_parameters_and_greedy_paths() -> None:
    routes = [
        ApiRoute("ANY", "/{proxy+}"),
        ApiRoute("GET", "/flows/{flow}"),
        ApiRoute("GET", "/flows/latest"),
    ]
    assert match_route(routes, "GET", "/flows/latest").route.resource == "/flows/latest"  # type: ignore[union-attr]
    assert match_route(routes, "GET", "/flows/x").route.resource == "/flows/{flow}"  # type: ignore[union-attr]
    greedy = match_route(routes, "POST", "/a/b/c")
    assert greedy is not None and greedy.path_parameters == {"proxy": "a/b/c"}


def test_the_proxy_event_has_what_api_gateway_sends() -> None:
    request = HttpRequest(
        "GET",
        "/flows/TrainFlow/runs?status=failed&limit=5&limit=10&q=a%20b",
        headers=[("Host", "127.0.0.1:3000"), ("Accept", "a"), ("Accept", "b"), ("User-Agent", "curl/8")],
        source_ip="127.0.0.2",
    )
    matched = match_route(ROUTES, "GET", request.path)
    assert matched is not None
    now = datetime(2026, 11, 26, 19, 32, 5, 123000, tzinfo=UTC)

    event = proxy_event(request, matched, request_id="req-1", now=now)

    assert event["resource"] == "/flows/{flow}/runs"
    assert event["path"] == "/flows/TrainFlow/runs"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"flow": "TrainFlow"}
    assert event["queryStringParameters"] == {"status": "failed", "limit": "10", "q": "a b"}
    assert event["multiValueQueryStringParameters"] == {
        "status": ["failed"],
        "limit": ["5", "10"],
        "q": ["a b"],
    }
    assert event["headers"]["Accept"] == "b"
    assert event["multiValueHeaders"]["Accept"] == ["a", "b"]
    assert (event["body"], event["isBase64Encoded"]) == (None, False)
    context = event["requestContext"]
    assert (context["requestId"], context["stage"], context["path"]) == (
        "req-1",
        "local",
        "/flows/TrainFlow/runs",
    )
    assert context["identity"]["sourceIp"] == "127.0.0.2"
    assert context["identity"]["userAgent"] == "curl/8"
    assert context["requestTimeEpoch"] == int(now.timestamp() * 1000)
    assert context["resourcePath"] == "/flows/{flow}/runs"


def test_a_request_without_query_or_headers_gets_nulls_and_binary_bodies_base64() -> None:
    matched = match_route(ROUTES, "GET", "/runs")
    assert matched is not None

    event = proxy_event(HttpRequest("GET", "/runs", body=b"\xff\x00"), matched)

    assert event["queryStringParameters"] is None and event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None and event["headers"] is None
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\xff\x00"


def test_the_proxy_response_becomes_the_http_response() -> None:
    response = http_response(
        {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json", "ETag": '"a"', "Content-Length": "999"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "ETag": ['"b"']},
            "body": '{"ok": true}',
            "isBase64Encoded": False,
        }
    )

    assert response.status == 200
    assert sorted(response.headers) == [
        ("Content-Type", "application/json"),
        ("ETag", '"b"'),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
    ]
    assert response.body == b'{"ok": true}'


def test_base64_bodies_are_decoded_and_malformed_responses_are_502() -> None:
    encoded = http_response(
        {"statusCode": 200, "body": base64.b64encode(b"\x1f\x8b").decode(), "isBase64Encoded": True}
    )
    assert encoded.body == b"\x1f\x8b"
    assert http_response({"body": "no status"}).status == 502
    assert http_response({"statusCode": 200, "body": "%%%", "isBase64Encoded": True}).status == 502
    assert http_response({"statusCode": 304, "body": None}).body == b""


def test_a_missing_route_gets_api_gateways_answer() -> None:
    response = missing_route_response()
    assert response.status == 403
    assert response.body == b'{"message":"Missing Authentication Token"}'
