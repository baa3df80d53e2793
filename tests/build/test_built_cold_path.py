"""Ingest, the sweeper and the notifier never load pydantic, at import or at their first event, from `sam
build` output.

pydantic (its import and building its models) was about a fifth of these functions' cold start; their
settings, events and routing rules are plain dataclasses now. The first event counts as much as the import (Lambda gives
INIT a full CPU burst, the first invocation not), so a lazy import that only moved the cost there fails too.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from runwatch_dev.local.dynamodb_local import DynamoDBLocal
from tests.build.built import LAYER, NOWHERE, built_function_dir, invoke_built
from tests.build.moto_server import client, moto_server
from tests.build.stuck_job import stuck_job_event
from tests.fakes.receiver import Receiver
from tests.fresh_interpreter import last_line, run_python
from tests.integration.ingest.sqs import sqs_event

EVENTS = Path(__file__).resolve().parents[2] / "events"
UNWANTED = ("pydantic", "pydantic_core")

_PROBE = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
unwanted = sys.argv[3].split(",")
import app
at_import = [name for name in unwanted if name in sys.modules]

class Context:
    function_name = "runwatch-test"; memory_limit_in_mb = 256; aws_request_id = "req-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:runwatch-test"
    def get_remaining_time_in_millis(self): return 120000

for path in sys.argv[4:]:
    answer = app.handler(json.load(open(path)), Context())
    assert not answer.get("batchItemFailures"), answer
print(json.dumps({"import": at_import, "events": [name for name in unwanted if name in sys.modules]}))
"""

INGEST_EVENTS = [
    # A local run, a Step Functions run whose execution waits for its first job (parked, then applied) and
    # a failed one (its failed job read from the execution's cause), a multi-node job, and a foreign job.
    EVENTS / "ingest" / name
    for name in (
        "sqs_local_run.json",
        "sqs_sfn_run.json",
        "sqs_sfn_failed_run.json",
        "sqs_parallel_run.json",
        "sqs_foreign.json",
    )
]


def _env(table_name: str, ddb: DynamoDBLocal, aws_endpoint: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_ENDPOINT_URL_DYNAMODB": ddb.endpoint,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "TABLE_NAME": table_name,
        "REJECTED_QUEUE_URL": f"{aws_endpoint}/123456789012/runwatch-ingest-dlq",
        "RECONCILE": "on",
    }


def _loaded(logical_id: str, env: dict[str, str], events: list[Path]) -> Any:
    """Which of UNWANTED the built function had loaded after its import, and after its events."""
    paths = (str(built_function_dir(logical_id)), str(LAYER))
    output = run_python(_PROBE, *paths, ",".join(UNWANTED), *map(str, events), env=env)
    return json.loads(last_line(output))


def test_ingest_never_loads_pydantic(table_name: str, dynamodb_local: DynamoDBLocal) -> None:
    env = _env(table_name, dynamodb_local, NOWHERE)
    assert _loaded("IngestFunction", env, INGEST_EVENTS) == {"import": [], "events": []}


def test_the_sweeper_never_loads_pydantic(table_name: str, dynamodb_local: DynamoDBLocal) -> None:
    """Its first tick finds a stuck task, alerts it and asks Batch (moto) about it: reconciling reads
    DescribeJobs' answer as an event."""
    stuck = stuck_job_event("ColdSweepFlow", "1795000000000088", "job-cold-1")
    with moto_server() as aws_endpoint:
        env = _env(table_name, dynamodb_local, aws_endpoint)
        assert invoke_built("IngestFunction", sqs_event([stuck]), env) == {"batchItemFailures": []}
        loaded = _loaded("SweeperFunction", env, [EVENTS / "sweeper" / "scheduled.json"])

    assert loaded == {"import": [], "events": []}


def test_the_notifier_never_loads_pydantic(table_name: str, dynamodb_local: DynamoDBLocal) -> None:
    """Its first event reads routing rules from SSM (moto) and sends a run's failure to the webhook they pick."""
    rules = {"rules": [{"match": {"flow": "Scoring*", "types": "run.failed"}, "channels": ["webhook"]}]}
    with moto_server() as aws_endpoint, Receiver() as receiver:
        parameter = f"/runwatch/rules-{uuid.uuid4()}"
        client("ssm", aws_endpoint).put_parameter(Name=parameter, Value=json.dumps(rules), Type="String")
        secret = client("secretsmanager", aws_endpoint).create_secret(
            Name=f"runwatch/webhook-{uuid.uuid4()}",
            SecretString=json.dumps({"url": receiver.url("/hook"), "secret": "cold-key"}),
        )
        env = {
            **_env(table_name, dynamodb_local, aws_endpoint),
            "NOTIFY_RULES_PARAMETER": parameter,
            "WEBHOOK_SECRET_ARN": secret["ARN"],
            "NOTIFY_MAX_AGE_MINUTES": str(10 * 365 * 24 * 60),  # the sample records are dated November 2026
        }
        loaded = _loaded("NotifierFunction", env, [EVENTS / "notifier" / "stream_run_failed.json"])

    assert loaded == {"import": [], "events": []}
    (request,) = receiver.requests
    assert request.json()["type"] == "run.failed"
