"""Every file under events/ through the function `sam build` built for it, with the variables `make sam-env`
writes for `sam local invoke --env-vars` (pointed at this test's DynamoDB Local): what a Docker user runs,
short of the container."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runwatch_dev.local.dynamodb_local import DynamoDBLocal
from runwatch_dev.local.table_from_template import load_template
from runwatch_dev.sam_env import env_vars
from tests.build.built import invoke_built

EVENTS = Path(__file__).resolve().parents[2] / "events"
FUNCTIONS = {
    "ingest": "IngestFunction",
    "api": "ApiFunction",
    "notifier": "NotifierFunction",
    "sweeper": "SweeperFunction",
}
CASES = [
    pytest.param(FUNCTIONS[path.parent.name], path, id=f"{path.parent.name}/{path.name}")
    for folder in FUNCTIONS
    for path in sorted((EVENTS / folder).glob("*.json"))
]


def test_every_function_has_sample_events() -> None:
    assert {function for function, *_ in (case.values for case in CASES)} == set(FUNCTIONS.values())


@pytest.mark.parametrize(("function", "path"), CASES)
def test_the_built_function_accepts_the_sample_event(
    function: str, path: Path, table_name: str, dynamodb_local: DynamoDBLocal
) -> None:
    env = env_vars(load_template(), dynamodb_local.endpoint, table_name)[function]
    if function == "IngestFunction":
        # In a container this is the template's queue; nothing listens at this one (see the ingest build test).
        env["REJECTED_QUEUE_URL"] = "http://127.0.0.1:9/123456789012/runwatch-ingest-dlq"

    response = invoke_built(function, json.loads(path.read_text()), env)

    _assert_accepted(function, path.name, response)


def _assert_accepted(function: str, name: str, response: Any) -> None:
    if function == "ApiFunction":
        assert response["statusCode"] < 500, response
    elif function == "SweeperFunction":
        assert isinstance(response, dict) and all(isinstance(value, int) for value in response.values())
    elif name == "sqs_malformed.json":
        # Rejected records stay on the queue when the dead-letter queue cannot be reached.
        assert response["batchItemFailures"], response
    else:
        assert response == {"batchItemFailures": []}, response
