"""Cold start of each function, from `sam build` output: median of fresh interpreters.

`import_ms` is the import of the handler module (what Lambda's INIT phase runs), with the function folder
and the layer as the whole sys.path, as in AWS, and no bytecode written (`-B`): Lambda's /opt and /var/task
are read-only, so a module the build does not ship compiled is compiled again at every cold start. `first_event_ms` is that import plus the first event the
handler is given (a sample from events/, against DynamoDB Local): Lambda gives INIT a full CPU burst and
the first invocation not, so work moved from the import to the first call makes no cold start faster, and
this total shows it. Besides the wall times, the CPU time this process spent on each (`import_cpu_ms`,
`first_event_cpu_ms`, which leaves out DynamoDB Local's own time): on a shared machine the wall time grows
with the load, the CPU time much less.
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / ".aws-sam" / "build"
EVENTS = ROOT / "events"
# Each function's logical id in the build, and the first event it is given: a batch of one local run's
# Batch events (its run id made new for each interpreter, so each one writes the run rather than finding it
# written), the run listing, a run.failed stream record and a scheduled sweep.
LOCAL_RUN_ID = "1795719352434625"
_NEW_RUN_IDS = itertools.count(int(time.time() * 1_000_000))  # as Metaflow's local ones: microseconds
FUNCTIONS = {
    "ingest": ("IngestFunction", EVENTS / "ingest" / "sqs_local_run.json"),
    "api": ("ApiFunction", EVENTS / "api" / "get_runs.json"),
    "notifier": ("NotifierFunction", EVENTS / "notifier" / "stream_run_failed.json"),
    "sweeper": ("SweeperFunction", EVENTS / "sweeper" / "scheduled.json"),
}
SAMPLES = 5

# Times the import, then the first event; a handler's failure (an exception, a batch item failure, a
# 5xx) fails the bench rather than timing an error path.
_PROBE = """
import json, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
started, cpu = time.perf_counter(), time.process_time()
import app
imported, imported_cpu = time.perf_counter(), time.process_time()

class Context:
    function_name = "runwatch-cold-start"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:runwatch-cold-start"
    aws_request_id = "cold-start"
    log_group_name = log_stream_name = "cold-start"

    def get_remaining_time_in_millis(self):
        return 60_000

event = json.loads(sys.argv[3])
before_event, before_event_cpu = time.perf_counter(), time.process_time()
answer = app.handler(event, Context())
done, done_cpu = time.perf_counter(), time.process_time()
if not isinstance(answer, dict) or answer.get("batchItemFailures") or int(answer.get("statusCode", 200)) >= 500:
    raise SystemExit(f"the first event failed: {str(answer)[:500]}")
print(
    (imported - started) * 1000,
    (imported_cpu - cpu) * 1000,
    (done - before_event + imported - started) * 1000,
    (done_cpu - before_event_cpu + imported_cpu - cpu) * 1000,
)
"""


def _cold_start_ms(function_dir: Path, event: str, env: dict[str, str]) -> tuple[float, ...]:
    """(import wall, import CPU, import + first event wall, and CPU) milliseconds in a fresh interpreter."""
    layer = BUILD / "RunwatchLayer" / "python"
    result = subprocess.run(
        [sys.executable, "-I", "-B", "-c", _PROBE, str(function_dir), str(layer), event],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{function_dir.name}: {result.stderr.strip()[-2000:]}")
    return tuple(float(value) for value in result.stdout.strip().splitlines()[-1].split())


# The floor under every function's import: botocore's session and config, which PynamoDB imports (with urllib3,
# logging, ssl and http.client under them), timed from the layer the same way.
_FLOOR_PROBE = """
import sys, time
sys.path[:0] = [sys.argv[1]]
started, cpu = time.perf_counter(), time.process_time()
import botocore.config, botocore.session
print((time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000)
"""


def _floor_ms(env: dict[str, str]) -> tuple[float, ...]:
    """(wall, CPU) milliseconds of importing botocore from the built layer in a fresh interpreter."""
    layer = BUILD / "RunwatchLayer" / "python"
    result = subprocess.run(
        [sys.executable, "-I", "-B", "-c", _FLOOR_PROBE, str(layer)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return tuple(float(value) for value in result.stdout.split())


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
    for name, (logical_id, event) in FUNCTIONS.items():
        samples = [
            _cold_start_ms(
                BUILD / logical_id, event.read_text().replace(LOCAL_RUN_ID, str(next(_NEW_RUN_IDS))), env
            )
            for _ in range(SAMPLES)
        ]
        for index, metric in enumerate(
            ("import_ms", "import_cpu_ms", "first_event_ms", "first_event_cpu_ms")
        ):
            results[f"cold_start.{name}.{metric}"] = {
                "value": round(statistics.median(sample[index] for sample in samples), 1),
                "unit": "ms",
            }
    floor = [_floor_ms(env) for _ in range(SAMPLES)]
    for index, metric in enumerate(("import_ms", "import_cpu_ms")):
        results[f"cold_start.botocore_floor.{metric}"] = {
            "value": round(statistics.median(sample[index] for sample in floor), 1),
            "unit": "ms",
        }
    return results


def layer_size() -> dict[str, dict[str, Any]]:
    layer = BUILD / "RunwatchLayer"
    total = sum(p.stat().st_size for p in layer.rglob("*") if p.is_file())
    return {"build.layer_mb": {"value": round(total / 1_000_000, 1), "unit": "MB"}}


if __name__ == "__main__":
    print(json.dumps(layer_size()))
