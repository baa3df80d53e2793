"""The built api function, invoked with the API Gateway events in events/api (what `sam local invoke` uses).

Proves the handler imports from the build output alone, reaches DynamoDB through the configured endpoint,
and that the dashboard page ships inside the layer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runwatch.services.ingest import Ingestor
from runwatch.settings import TableSettings
from runwatch.wiring import bind_table
from runwatch_dev.local.dynamodb_local import DynamoDBLocal
from tests.build.built import invoke_built

EVENTS = Path(__file__).resolve().parents[2] / "events"


def _event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / "api" / f"{name}.json").read_text())


def test_built_api_answers_the_sample_requests(table_name: str, dynamodb_local: DynamoDBLocal) -> None:
    ingestor = Ingestor(
        bind_table(TableSettings(table_name=table_name, dynamodb_endpoint=dynamodb_local.endpoint))
    )
    for path in sorted((EVENTS / "local_run").glob("*.json")):
        ingestor.ingest(path.read_text())
    env = {"TABLE_NAME": table_name, "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_local.endpoint}

    def invoke(name: str) -> tuple[int, dict[str, list[str]], str]:
        response = invoke_built("ApiFunction", _event(name), env)
        return response["statusCode"], response["multiValueHeaders"], response["body"]

    status, headers, body = invoke("get_run")
    assert status == 200 and headers["ETag"]
    run = json.loads(body)
    assert (run["flow"], run["run_id"], run["status"]) == ("FanoutFlow", "1795719352434625", "succeeded")
    assert [s["step"] for s in run["steps"]] == ["start", "train", "join", "end"]

    status, _, body = invoke("get_runs")
    assert status == 200 and [r["run_id"] for r in json.loads(body)["runs"]] == ["1795719352434625"]
    assert invoke("get_health")[0] == 200
    assert invoke("get_flow_runs")[0] == 200
    assert invoke("get_runs_failed")[2] == '{"runs":[],"next_token":null}'

    status, _, body = invoke("get_step_tasks")
    page = json.loads(body)
    assert (
        status == 200 and [t["task_id"] for t in page["tasks"]] == ["2", "3"] and page["next_token"] is None
    )
    status, _, body = invoke("get_task")
    assert status == 200 and [a["status"] for a in json.loads(body)["attempts"]] == ["failed", "succeeded"]
    assert invoke("get_step_tasks_failed")[2] == '{"tasks":[],"next_token":null}'
    status, _, body = invoke("get_step_tasks_bad_status")
    assert status == 400 and json.loads(body)["parameter"] == "status"

    status, _, body = invoke("get_run_unknown")
    assert (status, json.loads(body)) == (404, {"message": "run 42 of flow FanoutFlow not found"})
    status, _, body = invoke("get_runs_bad_limit")
    assert status == 400 and json.loads(body)["parameter"] == "limit"

    status, headers, body = invoke("get_dashboard")
    assert status == 200 and headers["Content-Type"] == ["text/html; charset=utf-8"]
    assert "<html" in body.lower()


def test_built_api_reads_an_attempts_log_from_cloudwatch(
    table_name: str, dynamodb_local: DynamoDBLocal
) -> None:
    """The sample log request against a CloudWatch Logs stand-in (moto's server on 127.0.0.1)."""
    import boto3
    from moto.server import ThreadedMotoServer

    ingestor = Ingestor(
        bind_table(TableSettings(table_name=table_name, dynamodb_endpoint=dynamodb_local.endpoint))
    )
    events = sorted((EVENTS / "local_run").glob("*.json"))
    for path in events:
        ingestor.ingest(path.read_text())
    failed = json.loads((EVENTS / "local_run" / "04_train_task3_attempt0_FAILED.json").read_text())
    stream = failed["detail"]["container"]["logStreamName"]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        logs = boto3.client(
            "logs",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        logs.create_log_group(logGroupName="/aws/batch/job")
        logs.create_log_stream(logGroupName="/aws/batch/job", logStreamName=stream)
        lines = [
            "Training shard 3",
            "Traceback (most recent call last):",
            '  File "f.py", line 3, in t',
            "KeyError: 'label'",
        ]
        logs.put_log_events(
            logGroupName="/aws/batch/job",
            logStreamName=stream,
            logEvents=[{"timestamp": 1795719400000 + n, "message": line} for n, line in enumerate(lines)],
        )
        env = {
            "TABLE_NAME": table_name,
            "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_local.endpoint,
            "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": endpoint,
        }
        response = invoke_built("ApiFunction", _event("get_attempt_log"), env)
    finally:
        server.stop()

    assert response["statusCode"] == 200, response["body"]
    body = json.loads(response["body"])
    assert (body["log_group"], body["log_stream"]) == ("/aws/batch/job", stream)
    assert [line["message"] for line in body["lines"]] == lines
    assert body["exception"] == "KeyError: 'label'" and body["next_token"] is None
