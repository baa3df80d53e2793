"""`make bench`: run every benchmark, print a table and write bench/results.json.

results.json maps each metric to {"value": number, "unit": str}. Figures are measurements on this machine
against DynamoDB Local; tests never assert on them.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

# DynamoDB Local accepts any credentials; never let a developer's real ones or profile be picked up.
os.environ.update(AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local", AWS_DEFAULT_REGION="us-east-1")
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)

import boto3  # noqa: E402

from bench import cold_start  # noqa: E402
from runwatch_dev.local.dynamodb_local import DynamoDBLocal  # noqa: E402
from runwatch_dev.local.table_from_template import create_table  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results.json"


# The benches that run against DynamoDB Local, in the order they run: name -> (module, function). A module is
# imported only when its bench is selected.
_ON_DYNAMODB_LOCAL = {
    "ingest": ("ingest", "run"),
    "server_cpu": ("server_cpu", "run"),
    "api": ("api", "run"),
    "run_detail": ("api", "run_detail"),
    "big_runs": ("big_runs", "run"),
    "dashboard": ("dashboard", "run"),
    "fanout": ("fanout", "run"),
    "untransacted": ("untransacted", "run"),  # a what-if, only when named
}
DEFAULT = frozenset({"ingest", "server_cpu", "api", "big_runs", "fanout", "dashboard", "cold_start", "build"})


def main(selected: list[str]) -> None:
    results: dict[str, dict[str, Any]] = {}
    wanted = set(selected) or DEFAULT
    started = time.perf_counter()
    with DynamoDBLocal() as ddb:
        results["dynamodb_local.start_s"] = {"value": round(time.perf_counter() - started, 2), "unit": "s"}
        for name, (module, function) in _ON_DYNAMODB_LOCAL.items():
            if name in wanted:
                results.update(getattr(importlib.import_module(f"bench.{module}"), function)(ddb))
        if "cold_start" in wanted:
            table = f"runwatch-bench-cold-{uuid.uuid4().hex[:8]}"
            create_table(boto3.client("dynamodb", endpoint_url=ddb.endpoint, region_name="us-east-1"), table)
            results.update(cold_start.run(table, ddb.endpoint))
    if "build" in wanted:
        results.update(cold_start.layer_size())
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() and selected else {}
    RESULTS.write_text(json.dumps({**previous, **results}, indent=2, sort_keys=True) + "\n")
    width = max(len(name) for name in results)
    for name, result in sorted(results.items()):
        print(f"{name:<{width}}  {result['value']:>12}  {result['unit']}")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main(sys.argv[1:])
