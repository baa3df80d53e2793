"""Concurrent requests through the local server each get a resolver of their own.

The real API resolver keeps the current request's state on itself; shared across the server's threads it
answered about one read in 6,000 with a 500 (`KeyError: '_route'`). Here 8 threads hammer the real
resolver, made by `create_app`, through the real server: every answer must be right.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runwatch.api.app import create_app
from runwatch_dev.local.apigw import template_routes
from runwatch_dev.local.dead_letters import FileDeadLetters
from runwatch_dev.local.intake import EventIntake
from runwatch_dev.local.resolver_pool import ResolverPool
from runwatch_dev.local.server import LocalServer
from tests.unit.api.test_app import FakeQueries
from tests.unit.local.test_intake import ScriptedIngestor

THREADS = 8
REQUESTS_PER_THREAD = 100


class NotReentrant:
    """A resolver that fails when two threads use it at once."""

    def __init__(self) -> None:
        self.busy = threading.Lock()

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        if not self.busy.acquire(blocking=False):
            raise AssertionError("resolver used by two requests at once")
        try:
            time.sleep(0.001)
            return {"statusCode": 200, "body": "{}"}
        finally:
            self.busy.release()


def test_a_resolver_serves_one_request_at_a_time_and_is_reused() -> None:
    pool = ResolverPool(NotReentrant)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(50):
                pool.resolve({}, None)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert 1 <= pool.created <= THREADS


class SlowQueries(FakeQueries):
    """Takes a moment, as a DynamoDB query does, so requests on other threads interleave mid-request."""

    def runs(self, where: Any, limit: int, next_token: str | None) -> Any:
        time.sleep(0.002)
        return super().runs(where, limit, next_token)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    queries = SlowQueries()
    server = LocalServer(template_routes(), port=0, console=lambda line: None)
    server.start(
        ResolverPool(lambda: create_app(queries)),
        EventIntake(ScriptedIngestor(), FileDeadLetters(tmp_path / "dl.jsonl")),
    )
    yield server
    server.stop()


def test_concurrent_reads_through_the_real_resolver_all_succeed(server: LocalServer) -> None:
    statuses: list[int] = []
    lock = threading.Lock()

    def reader(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        for n in range(REQUESTS_PER_THREAD):
            path = "/runs?limit=5" if (index + n) % 2 else "/flows/TrainFlow/runs?limit=3"
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            with lock:
                statuses.append(response.status)
            assert response.status == 200, body
            assert "runs" in json.loads(body)
        connection.close()

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * THREADS * REQUESTS_PER_THREAD
