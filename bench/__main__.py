"""`make bench`: measure, print and write bench/results.json as {"metric": {"value": n, "unit": s}}.

A first benchmark only (DynamoDB Local start-up and table creation); the real ones are added here.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import boto3

from runwatch.local.dynamodb_local import DynamoDBLocal
from runwatch.local.table_from_template import create_table

RESULTS = Path(__file__).resolve().parent / "results.json"


def main() -> None:
    results: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    with DynamoDBLocal() as ddb:
        results["dynamodb_local_start"] = {"value": round(time.perf_counter() - started, 3), "unit": "s"}
        client = boto3.client(
            "dynamodb",
            endpoint_url=ddb.endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        started = time.perf_counter()
        create_table(client, f"runwatch-bench-{uuid.uuid4().hex[:8]}")
        results["create_status_table"] = {"value": round(time.perf_counter() - started, 3), "unit": "s"}
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    for name, result in results.items():
        print(f"{name:30} {result['value']:>10} {result['unit']}")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
