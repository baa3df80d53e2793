"""`dashboard.first_paint_ms.10k_tasks`: how long the run page of a 10,000-task run takes to show the run.

The real API (create_app over DynamoDB Local, served by the local stack's HTTP server) answers a headless
Chromium, as it would in `make local`. Each load is a fresh browser context (no cached ETags); the figure is
the page's own `runwatch:run-ready` performance mark, set when the run's header, timeline and step blocks
are first in the DOM (the step's counts and its failed task included), in milliseconds from navigation
start. The median of a few loads is reported; the first load is a warm-up and not counted.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from bench.api import _table
from runwatch.api.app import create_app
from runwatch.paging import PageTokens, key_from_secret
from runwatch.services.queries import RunQueries
from runwatch.store.repository import StatusRepository
from runwatch.store.run_queries import RunReader
from runwatch_dev.local.apigw import template_routes
from runwatch_dev.local.dynamodb_local import DynamoDBLocal
from runwatch_dev.local.resolver_pool import ResolverPool
from runwatch_dev.local.server import LocalServer
from tests.browser.conftest import CHROMIUM_ARGS, _chromium_path
from tests.integration.api.big_run import seed_big_run

LOADS = 5
READY = "() => document.getElementById('view').dataset.state === 'ready'"
MARK = "() => performance.getEntriesByName('runwatch:run-ready')[0].startTime"
# When the run document had arrived (its request is the one path ending in the run id).
RUN_DOCUMENT = """id => performance.getEntriesByType('resource')
    .filter(e => new URL(e.name).pathname.endsWith('/runs/' + id))[0].responseEnd"""


def first_paints(url: str, run_id: str, loads: int = LOADS) -> list[tuple[float, float]]:
    """(`runwatch:run-ready`, run document received) of `loads` fresh page loads of `url`, after a warm-up."""
    from playwright import sync_api

    path = _chromium_path()
    if path is None:
        raise RuntimeError("chromium is not installed (apt-get install -y chromium)")
    samples = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        for n in range(loads + 1):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.goto(url)
            page.wait_for_function(READY, timeout=60_000)
            # The tasks needing attention follow the first paint; let them land before the context closes.
            page.wait_for_selector("[data-testid=attention]", timeout=60_000)
            if n:
                samples.append((float(page.evaluate(MARK)), float(page.evaluate(RUN_DOCUMENT, run_id))))
            context.close()
        browser.close()
    return samples


def _median(values: Iterable[float]) -> float:
    return round(statistics.median(values), 1)


def run(ddb: DynamoDBLocal) -> dict[str, dict[str, Any]]:
    table = _table(ddb, "dashboard")
    started = time.perf_counter()
    wide = seed_big_run(StatusRepository(), 10_000, run_id="1795000000020000")
    seeded = round(time.perf_counter() - started, 1)
    queries = RunQueries(RunReader(), PageTokens(key_from_secret(table)))
    server = LocalServer(template_routes(), port=0, console=lambda _: None)
    server.start(ResolverPool(lambda: create_app(queries)), None)  # type: ignore[arg-type] - no events posted
    try:
        flow, run_id = quote(wide.key.flow, safe=""), quote(wide.key.run_id, safe="")
        samples = first_paints(f"{server.url}?refresh=3600#/flows/{flow}/runs/{run_id}", wide.key.run_id)
    finally:
        server.stop()
    return {
        "dashboard.seed_s.10k_tasks": {"value": seeded, "unit": "s"},
        "dashboard.first_paint_ms.10k_tasks": {"value": _median(s[0] for s in samples), "unit": "ms"},
        "dashboard.first_paint_ms_max.10k_tasks": {
            "value": round(max(s[0] for s in samples), 1),
            "unit": "ms",
        },
        # Of which: until the run document had arrived (the API's share, from navigation start).
        "dashboard.run_document_ms.10k_tasks": {"value": _median(s[1] for s in samples), "unit": "ms"},
    }
