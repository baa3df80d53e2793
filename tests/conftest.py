"""Test-wide setup: a sealed dummy AWS environment, DynamoDB Local for the session, a fresh table per test.

Fixtures
    dynamodb_local  (session)  the running DynamoDBLocal (in memory, -sharedDb); ``.endpoint``
    ddb_client      (session)  boto3 DynamoDB client bound to that endpoint
    table_name      (function) a new, uniquely named table built from template.yaml's StatusTable; also sets
                               TABLE_NAME and AWS_ENDPOINT_URL_DYNAMODB for the test

Tests under tests/integration are marked ``integration`` (and tests/build ``build``) automatically.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# -- dummy AWS environment --------------------------------------------------------------------------------
# Set at import time, before any test module imports boto3, so no client can ever pick up real
# credentials, a profile or an endpoint from the developer's machine; tests only reach 127.0.0.1.
for _var in (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "TABLE_NAME",
):
    os.environ.pop(_var, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        # moto's in-process mock fails on DynamoDB Streams calls with botocore 1.44 otherwise.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }
)
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "runwatch")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Runwatch")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

from runwatch_dev.local.dynamodb_local import DynamoDBLocal  # noqa: E402 - after the environment is sealed
from runwatch_dev.local.table_from_template import create_table  # noqa: E402

TESTS = Path(__file__).resolve().parent
_AUTO_MARKERS = {TESTS / "integration": "integration", TESTS / "build": "build"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for folder, marker in _AUTO_MARKERS.items():
            if folder in item.path.parents:
                item.add_marker(getattr(pytest.mark, marker))


# -- DynamoDB Local ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[DynamoDBLocal]:
    """One in-memory DynamoDB Local for the whole session (started on first use, stopped at the end).

    Tests that stop or restart DynamoDB should start their own ``DynamoDBLocal(db_path=tmp_path)``; if
    one stops this instance anyway, ``table_name`` starts it again on the same port."""
    with DynamoDBLocal() as ddb:
        yield ddb


@pytest.fixture(scope="session")
def ddb_client(dynamodb_local: DynamoDBLocal) -> Any:
    """boto3 DynamoDB client bound to the session's DynamoDB Local."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_local.endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        # Fail fast rather than retry for a minute when a test has stopped DynamoDB on purpose.
        config=Config(connect_timeout=2, read_timeout=30, retries={"mode": "standard", "max_attempts": 3}),
    )


@pytest.fixture
def table_name(
    dynamodb_local: DynamoDBLocal, ddb_client: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh table shaped like template.yaml's StatusTable; dropped after the test."""
    if not dynamodb_local.running:
        dynamodb_local.start()
    name = f"runwatch-test-{uuid.uuid4().hex[:12]}"
    create_table(ddb_client, name)
    monkeypatch.setenv("TABLE_NAME", name)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local.endpoint)
    yield name
    # In-memory tables cost memory for the rest of the session; a test may also have stopped DynamoDB.
    with contextlib.suppress(Exception):
        ddb_client.delete_table(TableName=name)
