"""The local HTTP server on a real 127.0.0.1 socket, in front of a recording app and a scripted intake."""

from __future__ import annotations

import http.client
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runwatch_dev.local.apigw import template_routes
from runwatch_dev.local.dead_letters import FileDeadLetters
from runwatch_dev.local.intake import EventIntake
from runwatch_dev.local.server import LocalServer, PortInUse
from tests.unit.local.test_intake import ScriptedIngestor


class RecordingApp:
    """Answers like the resolver; remembers the proxy events; raises for /health to play a crashed handler."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        if event["path"] == "/health":
            raise RuntimeError("handler crashed")
        return {
            "statusCode": 200,
            "multiValueHeaders": {
                "Content-Type": ["application/json"],
                "X-Request-Id": [context.aws_request_id],
            },
            "body": json.dumps({"path": event["path"]}),
            "isBase64Encoded": False,
        }


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[LocalServer, RecordingApp, list[str]]]:
    lines: list[str] = []
    app = RecordingApp()
    server = LocalServer(template_routes(), port=0, console=lines.append, max_events_body=1000)
    server.start(app, EventIntake(ScriptedIngestor(), FileDeadLetters(tmp_path / "dl.jsonl")))
    yield server, app, lines
    server.stop()


def _call(
    server: LocalServer, method: str, path: str, body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_an_api_request_reaches_the_app_as_a_proxy_event_and_its_answer_comes_back(
    served: tuple[LocalServer, RecordingApp, list[str]],
) -> None:
    server, app, lines = served

    status, headers, body = _call(server, "GET", "/flows/TrainFlow/runs?limit=2")

    assert (status, json.loads(body)) == (200, {"path": "/flows/TrainFlow/runs"})
    assert headers["X-Request-Id"] == app.events[0]["requestContext"]["requestId"]
    assert app.events[0]["pathParameters"] == {"flow": "TrainFlow"}
    assert app.events[0]["queryStringParameters"] == {"limit": "2"}
    assert len(lines) == 1 and re.fullmatch(r"GET /flows/TrainFlow/runs\?limit=2 200 \d+ ms", lines[0])


def test_routes_outside_the_template_and_crashing_handlers_get_api_gateways_answers(
    served: tuple[LocalServer, RecordingApp, list[str]],
) -> None:
    server, app, _ = served
    assert _call(server, "GET", "/admin")[0] == 403
    assert _call(server, "HEAD", "/runs")[0] == 403
    assert _call(server, "GET", "/health")[0] == 502
    assert [event["path"] for event in app.events] == ["/health"]


def test_events_are_posted_to_the_intake(served: tuple[LocalServer, RecordingApp, list[str]]) -> None:
    server, app, _ = served

    status, _, body = _call(server, "POST", "/events", b'[{"n": 0, "outcome": "applied"}]')
    down = _call(server, "POST", "/events", b'[{"n": 0, "outcome": "down"}]')

    assert (status, json.loads(body)["accepted"]) == (202, 1)
    assert (down[0], down[1]["Retry-After"], json.loads(down[2])["processed"]) == (503, "1", 0)
    assert _call(server, "POST", "/events", b"x")[0] == 400
    assert _call(server, "POST", "/events", b"[" + b" " * 2000 + b"]")[0] == 413
    assert _call(server, "PUT", "/events", b"[]")[0] == 405
    assert app.events == []


def test_a_busy_port_is_refused() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(PortInUse, match="already in use"):
            LocalServer(template_routes(), port=busy.getsockname()[1])


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "BREW"])
def test_every_method_is_answered_as_api_gateway_would_never_with_an_html_error_page(
    served: tuple[LocalServer, RecordingApp, list[str]], method: str
) -> None:
    server, _, _ = served
    for path in ("/runs", "/nowhere", "/events"):
        status, headers, body = _call(server, method, path)

        assert status in (403, 405), (method, path, status)
        assert headers["Content-Type"] == "application/json"
        assert json.loads(body)["message"]


def test_a_request_http_server_refuses_itself_is_answered_in_json(
    served: tuple[LocalServer, RecordingApp, list[str]],
) -> None:
    server, _, _ = served
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /runs HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):  # the server closes the connection after an error of its own
            answer += chunk

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split()[1] == b"431"
    assert b"application/json" in head and json.loads(body)["message"]
