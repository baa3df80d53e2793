"""`make sam-env`: the `--env-vars` file parses and names only variables template.yaml's functions declare."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runwatch_dev.local.table_from_template import load_template
from runwatch_dev.sam_env import declared_variables, env_vars, main


def test_the_file_names_only_declared_variables_of_every_function(tmp_path: Path) -> None:
    out = tmp_path / "env.json"

    assert main(["--dynamodb-port", "8123", "--out", str(out)]) == 0

    document = json.loads(out.read_text())
    declared = declared_variables(load_template())
    assert (
        set(document)
        == set(declared)
        == {
            "IngestFunction",
            "ApiFunction",
            "NotifierFunction",
            "SweeperFunction",
        }
    )
    for function, variables in document.items():
        assert set(variables) <= declared[function], function
        assert variables["TABLE_NAME"] == "runwatch-local"
        assert variables["AWS_ENDPOINT_URL_DYNAMODB"] == "http://127.0.0.1:8123", function


def test_docker_desktop_reaches_the_host_by_name(tmp_path: Path) -> None:
    out = tmp_path / "env.json"
    main(["--network", "desktop", "--out", str(out)])
    endpoints = {v["AWS_ENDPOINT_URL_DYNAMODB"] for v in json.loads(out.read_text()).values()}
    assert endpoints == {"http://host.docker.internal:8000"}


def test_the_sweeper_never_reconciles_made_up_local_job_ids() -> None:
    assert env_vars(load_template(), "http://127.0.0.1:8000")["SweeperFunction"]["RECONCILE"] == "off"


def test_a_variable_a_function_does_not_declare_is_left_out() -> None:
    template = {
        "Resources": {
            "OnlyTable": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"Environment": {"Variables": {"TABLE_NAME": "x"}}},
            },
            "NotAFunction": {"Type": "AWS::SQS::Queue"},
        }
    }
    assert env_vars(template, "http://127.0.0.1:1", "t") == {"OnlyTable": {"TABLE_NAME": "t"}}


@pytest.mark.parametrize("port", ["0", "70000"])
def test_a_port_out_of_range_is_refused(port: str, tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["--dynamodb-port", port, "--out", str(tmp_path / "env.json")])
