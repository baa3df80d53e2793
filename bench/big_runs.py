"""Big runs through the API (the resolver, DynamoDB Local): the run detail of a 10,000-task foreach costs
what a 100-task one costs, its body stays small, and a task page from the middle is one bounded Query.

Both runs are written by tests/integration/api/big_run.py (tasks by BatchWriteItem, each step's summary
through the store's transactional write), in one table, and measured in the same bench run so that the
ratio of the two detail figures is meaningful.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.api import _table
from runwatch.api.app import create_app
from runwatch.paging import PageTokens, key_from_secret
from runwatch.services.queries import RunQueries
from runwatch.store.repository import StatusRepository
from runwatch.store.run_queries import RunReader
from runwatch_dev.local.dynamodb_local import DynamoDBLocal
from tests.integration.api.big_run import seed_big_run
from tests.unit.api.rest import rest_event

REPEATS = 40
MIDDLE_PAGE = 50  # tasks 5,001-5,100 of 10,000


def _p50(call: Callable[[], dict[str, Any]]) -> tuple[float, int]:
    call()  # warm
    samples, size = [], 0
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - started) * 1000)
        size = len(response.get("body") or "")
    return round(statistics.median(samples), 1), size


def _p50_interleaved(
    first: Callable[[], dict[str, Any]], second: Callable[[], dict[str, Any]]
) -> tuple[tuple[float, int], tuple[float, int]]:
    """p50 and body size of two requests timed alternately."""
    samples: tuple[list[float], list[float]] = ([], [])
    sizes = [0, 0]
    first(), second()  # warm
    for _ in range(REPEATS):
        for index, call in enumerate((first, second)):
            started = time.perf_counter()
            response = call()
            samples[index].append((time.perf_counter() - started) * 1000)
            sizes[index] = len(response.get("body") or "")
    medians = [round(statistics.median(times), 1) for times in samples]
    return (medians[0], sizes[0]), (medians[1], sizes[1])


def run(ddb: DynamoDBLocal) -> dict[str, dict[str, Any]]:
    table = _table(ddb, "bigruns")
    repository = StatusRepository()
    started = time.perf_counter()
    wide = seed_big_run(repository, 10_000, run_id="1795000000010000")
    small = seed_big_run(repository, 100, run_id="1795000000000100")
    results: dict[str, dict[str, Any]] = {
        "api.big_runs.seed_s": {"value": round(time.perf_counter() - started, 1), "unit": "s"}
    }
    app = create_app(RunQueries(RunReader(), PageTokens(key_from_secret(table))))

    def detail(run_id: str) -> Callable[[], dict[str, Any]]:
        event = rest_event(f"/flows/{wide.key.flow}/runs/{run_id}")
        return lambda: app.resolve(event, None)

    # Interleaved, so both see the same machine: measured one after the other, the first (run right after
    # seeding 10,000 tasks, while DynamoDB Local's JVM still collects) came out slower for the same 4 reads.
    (p50_wide, size_wide), (p50_small, _) = _p50_interleaved(
        detail(wide.key.run_id), detail(small.key.run_id)
    )
    results["api.run_summary.p50_ms.10k_tasks"] = {"value": p50_wide, "unit": "ms"}
    results["api.run_summary.p50_ms.100_tasks"] = {"value": p50_small, "unit": "ms"}
    results["api.run_summary.ratio_10k_to_100"] = {"value": round(p50_wide / p50_small, 2), "unit": "x"}
    results["api.run_summary.bytes.10k_tasks"] = {"value": size_wide, "unit": "bytes"}

    tasks = f"/flows/{wide.key.flow}/runs/{wide.key.run_id}/steps/train/tasks"
    token = None
    for _ in range(MIDDLE_PAGE):
        page = json.loads(
            app.resolve(rest_event(tasks + (f"?next_token={token}" if token else "")), None)["body"]
        )
        token = page["next_token"]
    middle = rest_event(f"{tasks}?next_token={token}")
    first_id = json.loads(app.resolve(middle, None)["body"])["tasks"][0]["task_id"]
    p50_page, size_page = _p50(lambda: app.resolve(middle, None))
    results["api.task_page.p50_ms.10k_tasks"] = {"value": p50_page, "unit": "ms"}
    results["api.task_page.bytes.10k_tasks"] = {"value": size_page, "unit": "bytes"}
    results["api.task_page.first_split.10k_tasks"] = {"value": int(first_id) - 2, "unit": "split index"}
    return results
