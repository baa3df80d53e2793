"""A real HTTP server on 127.0.0.1 in front of the resolver: HTTP request -> REST proxy event -> response.

Single-threaded on purpose: a resolver holds the current event while it answers, like one Lambda instance.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver

from tests.unit.api.rest import proxy_event


@contextmanager
def serve(app: APIGatewayRestResolver) -> Iterator[str]:
    """Serve `app` on a free port; yields the base URL (no trailing slash)."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)  # no route takes a body
            event = proxy_event(
                unquote(parts.path), parts.query, dict(self.headers.items()), method=self.command, stage=None
            )
            reply = app.resolve(event, None)
            body = reply.get("body") or ""
            data = base64.b64decode(body) if reply.get("isBase64Encoded") else body.encode()
            self.send_response(reply["statusCode"])
            for name, values in (reply.get("multiValueHeaders") or {}).items():
                for value in values:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def __getattr__(self, name: str) -> Any:
            # Every method (GET, POST, QUERY, ...) goes to the resolver, which decides 404 / 405.
            if name.startswith("do_"):
                return self._answer
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
