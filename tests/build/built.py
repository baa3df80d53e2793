"""Call a handler from `sam build` output in a fresh interpreter, the way Lambda would, without Docker.

The function's folder and the layer's `python/` folder are the only code on sys.path, so a module missing
from the build (or a dependency missing from the layer) fails here as it would in AWS.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tests.fresh_interpreter import run_python

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / ".aws-sam" / "build"
LAYER = BUILD / "RunwatchLayer" / "python"
# Nothing runs on port 9 (discard): an AWS call the test did not plan for fails at once, locally.
NOWHERE = "http://127.0.0.1:9"

_RUNNER = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
module = __import__(sys.argv[3])
event = json.loads(sys.stdin.read())
class Context:
    function_name = "runwatch-test"; memory_limit_in_mb = 256; aws_request_id = "req-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:runwatch-test"
    def get_remaining_time_in_millis(self): return 120000
print("RESULT=" + json.dumps(getattr(module, sys.argv[4])(event, Context())))
"""


def built_function_dir(logical_id: str) -> Path:
    path = BUILD / logical_id
    if not (path / "app.py").exists() or not LAYER.exists():
        raise AssertionError(f"{path} is missing: run `make build` (sam build) first")
    return path


def invoke_built(
    logical_id: str, event: dict[str, Any], env: dict[str, str], handler: str = "app.handler"
) -> Any:
    module, function = handler.rsplit(".", 1)
    full_env = {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_ENDPOINT_URL": NOWHERE,
        "POWERTOOLS_SERVICE_NAME": "runwatch",
        "POWERTOOLS_METRICS_NAMESPACE": "Runwatch",
        "POWERTOOLS_TRACE_DISABLED": "true",
        **env,
    }
    output = run_python(
        _RUNNER,
        str(built_function_dir(logical_id)),
        str(LAYER),
        module,
        function,
        env=full_env,
        stdin=json.dumps(event),
    )
    lines = [line for line in output.splitlines() if line.startswith("RESULT=")]
    if not lines:
        raise AssertionError(f"handler returned no result:\n{output[-3000:]}")
    return json.loads(lines[-1].removeprefix("RESULT="))
