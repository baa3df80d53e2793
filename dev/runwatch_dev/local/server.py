"""The local HTTP server: API routes through the API's resolver as API Gateway proxy events, and
`POST /events` into the event intake (the local stand-in for EventBridge -> SQS -> ingest).

A ThreadingHTTPServer on 127.0.0.1; each request is converted by runwatch_dev.local.apigw, handed to
`app.resolve(event, context)` exactly as the API Lambda's handler does, and the proxy response written back.
"""

from __future__ import annotations

import errno
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aws_lambda_powertools import Logger

from runwatch_dev.local.apigw import (
    ApiRoute,
    HttpRequest,
    HttpResponse,
    http_response,
    match_route,
    missing_route_response,
    proxy_event,
)
from runwatch_dev.local.intake import BadBody, EventIntake, IntakeInterrupted
from runwatch_dev.local.resolver_pool import Resolver

HOST = "127.0.0.1"
EVENTS_PATH = "/events"
MAX_EVENTS_BODY = 1024 * 1024  # 1 MiB: an SQS message holds at most 256 KiB, so this is a generous batch
MAX_API_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
_DRAIN_LIMIT = 64 * 1024 * 1024  # read and drop an oversized body up to this, so the client sees the 413


class PortInUse(RuntimeError):
    """The port is taken by another process."""


@dataclass(frozen=True, slots=True)
class LocalContext:
    """The parts of a Lambda context the handlers and Powertools read."""

    aws_request_id: str
    function_name: str = "runwatch-local-api"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:runwatch-local-api"
    log_group_name: str = "/aws/lambda/runwatch-local-api"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def _json_response(
    status: int, body: dict[str, Any], extra: list[tuple[str, str]] | None = None
) -> HttpResponse:
    headers = [("Content-Type", "application/json"), *(extra or [])]
    return HttpResponse(status, headers, json.dumps(body).encode())


class LocalServer:
    """Binds at construction, so a busy port is refused before anything slow starts; `start(app, intake)`
    serves on a thread (connections made meanwhile wait in the listen backlog), `stop()` closes it."""

    def __init__(
        self,
        routes: list[ApiRoute],
        *,
        port: int = 3000,
        host: str = HOST,
        console: Callable[[str], None] = print,
        logger: Logger | None = None,
        max_events_body: int = MAX_EVENTS_BODY,
    ) -> None:
        self.routes = routes
        self.console = console
        self.log = logger or Logger(service="runwatch")
        self.max_events_body = max_events_body
        self.app: Resolver | None = None
        self.intake: EventIntake | None = None
        try:
            self._httpd = ThreadingHTTPServer((host, port), _handler_class(self))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"port {port} on {host} is already in use; stop whatever listens there or pick another "
                    f"port with PORT=<n> (PORT=0 picks a free one)"
                ) from None
            raise
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def start(self, app: Resolver, intake: EventIntake) -> LocalServer:
        self.app = app
        self.intake = intake
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="http-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, wait for the serving loop, close the socket. Idempotent."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._httpd.server_close()

    # -- request handling (called on the request's thread) --------------------------------------------------
    def handle(self, request: HttpRequest) -> HttpResponse:
        if request.path == EVENTS_PATH:
            if request.method != "POST":
                return _json_response(405, {"message": "POST events to /events"}, [("Allow", "POST")])
            return self.post_events(request.body)
        matched = match_route(self.routes, request.method, request.path)
        if matched is None:
            return missing_route_response()
        if self.app is None:
            return _json_response(503, {"message": "starting"})
        request_id = str(uuid.uuid4())
        event = proxy_event(request, matched, request_id=request_id)
        try:
            proxy = self.app.resolve(event, LocalContext(aws_request_id=request_id))
        except Exception:
            # What API Gateway answers when the function itself fails.
            self.log.exception("api handler failed", path=request.path, request_id=request_id)
            return _json_response(502, {"message": "Internal server error"})
        return http_response(proxy)

    def post_events(self, body: bytes) -> HttpResponse:
        if self.intake is None:
            return _json_response(503, {"message": "starting"})
        try:
            report = self.intake.post(body)
        except BadBody as error:
            return _json_response(400, {"message": str(error)})
        except IntakeInterrupted as interrupted:
            done = interrupted.report
            return _json_response(
                503,
                {
                    "message": "status store unavailable; the events before `processed` were applied, "
                    "resend the request (ingest is idempotent)",
                    "processed": done.total,
                },
                [("Retry-After", "1")],
            )
        return _json_response(202, report.as_dict())


def _content_length(headers: Any, limit: int) -> tuple[int, HttpResponse | None, bool]:
    """(length, an error response or None, whether to close the connection) for a request's headers."""
    raw = headers.get("Content-Length")
    if raw is None:
        if headers.get("Transfer-Encoding"):
            return (
                0,
                _json_response(411, {"message": "send a Content-Length (chunked bodies are not supported)"}),
                True,
            )
        return 0, None, False
    try:
        length = int(raw)
    except ValueError:
        return 0, _json_response(400, {"message": "invalid Content-Length"}), True
    if length > limit:
        return (
            length,
            _json_response(413, {"message": f"body too large: {length} bytes, the limit is {limit}"}),
            False,
        )
    return length, None, False


class _Handler(BaseHTTPRequestHandler):
    local: LocalServer  # set by _handler_class
    protocol_version = "HTTP/1.1"  # keep-alive: the dashboard polls
    server_version = "runwatch-local"
    timeout = 60  # idle keep-alive connections close, so no thread waits forever

    def __getattr__(self, name: str) -> Any:
        # Every method, TRACE and made-up ones included, is answered as API Gateway would (JSON 403 or
        # 405), not with http.server's HTML 501 page.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _serve(self) -> None:
        started = time.perf_counter()
        limit = self.local.max_events_body if self.path.split("?", 1)[0] == EVENTS_PATH else MAX_API_BODY
        body, response = self._read_body(limit)
        if response is None:
            request = HttpRequest(
                method=self.command,
                target=self.path,
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
            )
            response = self.local.handle(request)
        elapsed = (time.perf_counter() - started) * 1000
        # Logged before the write, so the line is out by the time the client has its answer.
        self.local.console(f"{self.command} {self.path} {response.status} {elapsed:.0f} ms")
        self._write(response)

    def _read_body(self, limit: int) -> tuple[bytes, HttpResponse | None]:
        length, error, close = _content_length(self.headers, limit)
        if close:
            self.close_connection = True
        if error is not None:
            if error.status == 413:
                self._drain(length)
            return b"", error
        return (self.rfile.read(length) if length else b""), None

    def _drain(self, length: int) -> None:
        # Reading what was sent lets the client get the 413 instead of a reset connection.
        if length > _DRAIN_LIMIT:
            self.close_connection = True
            return
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 65536))
            if not chunk:
                break
            remaining -= len(chunk)

    def _write(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server's own errors (a malformed request line, a header too long) as JSON, not HTML.
        self.close_connection = True
        self._write(_json_response(code, {"message": message or self.responses.get(code, ("error",))[0]}))

    def log_message(self, format: str, *args: Any) -> None:
        return None  # one line per request is written by _serve


def _handler_class(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    return type("Handler", (_Handler,), {"local": server})
