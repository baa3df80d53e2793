"""The Lambda functions' botocore session: clients of the services runwatch uses, made without listing
every service botocore knows, from one session shared with the table's client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import DataNotFoundError, UnknownServiceError

from runwatch import wiring
from runwatch.aws.session import SessionClients
from runwatch.settings import TableSettings
from runwatch.store import models

SERVICES = ("dynamodb", "sqs", "stepfunctions", "batch", "sns", "ssm", "secretsmanager", "logs", "sts")


@pytest.fixture(autouse=True)
def _no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.delenv("AWS_DATA_PATH", raising=False)


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_runwatch_uses_gets_its_client(service: str) -> None:
    client = SessionClients()(service, region_name="eu-west-1")

    assert client.meta.service_model.service_name == service
    assert client.meta.region_name == "eu-west-1"


def test_an_unknown_service_is_an_error_when_its_client_is_made() -> None:
    client = SessionClients()("no-such-service")

    with pytest.raises((UnknownServiceError, DataNotFoundError)):
        client.meta  # noqa: B018 - the first use makes the client


def test_models_on_aws_data_path_are_found_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS_DATA_PATH's folders are searched before botocore's own, as by botocore's loader."""
    session = SessionClients().session()
    sqs = session.get_component("data_loader").load_service_model("sqs", "service-2")
    version = sqs["metadata"]["apiVersion"]
    sqs["metadata"]["serviceFullName"] = "Queues from the data path"
    folder = tmp_path / "sqs" / version
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text(json.dumps(sqs))
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))

    client = SessionClients()("sqs")

    assert client.meta.service_model.metadata["serviceFullName"] == "Queues from the data path"


def test_the_table_client_comes_from_the_functions_session() -> None:
    clients = SessionClients()
    settings = TableSettings.from_env(
        {"TABLE_NAME": "runwatch-unit", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9"}
    )

    wiring.bind_table(settings, client=clients)

    assert models.TableItem._get_connection().connection.session is clients.session()
