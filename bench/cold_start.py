"""Cold-start import time of each function, from `sam build` output: median of fresh interpreters.

Only the import of the handler module is timed (what Lambda's INIT phase runs), with the function folder
and the layer as the whole sys.path, as in AWS. Besides the wall time, the CPU time the import took
(`import_cpu_ms`): on a shared machine the wall time grows with the load, the CPU time much less.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / ".aws-sam" / "build"
FUNCTIONS = {
    "ingest": "IngestFunction",
    "api": "ApiFunction",
    "notifier": "NotifierFunction",
    "sweeper": "SweeperFunction",
}
SAMPLES = 5

_PROBE = """
import sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
started, cpu = time.perf_counter(), time.process_time()
import app
print((time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000)
"""


def _import_ms(function_dir: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) milliseconds of one import in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-I", "-c", _PROBE, str(function_dir), str(BUILD / "RunwatchLayer" / "python")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    wall, cpu = result.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def run(table_name: str, endpoint: str) -> dict[str, dict[str, Any]]:
    if not (BUILD / "RunwatchLayer").exists():
        raise SystemExit("no sam build output: run `make build` first")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_MAX_ATTEMPTS": "1",
        "TABLE_NAME": table_name,
        "REJECTED_QUEUE_URL": "http://127.0.0.1:9/q",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "NOTIFY_RULES_PARAMETER": "",
        "DASHBOARD_URL": "https://runwatch.example/",
    }
    results: dict[str, dict[str, Any]] = {}
    for name, logical_id in FUNCTIONS.items():
        samples = [_import_ms(BUILD / logical_id, env) for _ in range(SAMPLES)]
        results[f"cold_start.{name}.import_ms"] = {
            "value": round(statistics.median(wall for wall, _ in samples), 1),
            "unit": "ms",
        }
        results[f"cold_start.{name}.import_cpu_ms"] = {
            "value": round(statistics.median(cpu for _, cpu in samples), 1),
            "unit": "ms",
        }
    return results


def layer_size() -> dict[str, dict[str, Any]]:
    layer = BUILD / "RunwatchLayer"
    total = sum(p.stat().st_size for p in layer.rglob("*") if p.is_file())
    return {"build.layer_mb": {"value": round(total / 1_000_000, 1), "unit": "MB"}}


if __name__ == "__main__":
    print(json.dumps(layer_size()))
