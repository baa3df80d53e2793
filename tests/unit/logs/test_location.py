"""Where a Batch job's output is in CloudWatch Logs, from the job detail Batch and Step Functions give."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runwatch.logs.location import DEFAULT_LOG_GROUP, LogLocation, log_location

EVENTS = Path(__file__).resolve().parents[3] / "events"


def failed_job() -> dict[str, Any]:
    detail: dict[str, Any] = json.loads((EVENTS / "sfn_failed_run" / "02_score_job_FAILED.json").read_text())[
        "detail"
    ]
    return detail


def test_a_real_failed_job_logs_to_the_default_group() -> None:
    job = failed_job()
    assert log_location(job) == LogLocation(DEFAULT_LOG_GROUP, job["container"]["logStreamName"])


def test_each_attempt_has_its_own_stream() -> None:
    job = failed_job()
    first = log_location(job, attempt=0)
    last = log_location(job, attempt=-1)
    assert first is not None and last is not None
    assert first.stream == job["attempts"][0]["container"]["logStreamName"]
    assert last.stream == job["attempts"][1]["container"]["logStreamName"]
    assert first.stream != last.stream
    assert log_location(job, attempt=2) is None


def test_the_awslogs_options_name_the_group_and_region() -> None:
    job = failed_job()
    job["container"]["logConfiguration"] = {
        "logDriver": "awslogs",
        "options": {"awslogs-group": "/metaflow/tasks", "awslogs-region": "eu-west-1"},
        "secretOptions": [],
    }
    location = log_location(job)
    assert location == LogLocation("/metaflow/tasks", job["container"]["logStreamName"], "eu-west-1")


def test_awslogs_without_a_group_option_uses_the_default_group() -> None:
    job = failed_job()
    job["container"]["logConfiguration"] = {"logDriver": "awslogs", "options": {}}
    location = log_location(job)
    assert location is not None and location.group == DEFAULT_LOG_GROUP


def test_another_log_driver_means_no_cloudwatch_stream() -> None:
    job = failed_job()
    job["container"]["logConfiguration"] = {"logDriver": "splunk", "options": {"splunk-url": "https://x"}}
    assert log_location(job) is None


def test_a_job_that_never_started_has_no_stream() -> None:
    assert log_location({"jobId": "j", "status": "RUNNABLE", "container": {"image": "python:3.11"}}) is None
    assert log_location({}) is None


def test_the_latest_attempts_stream_when_the_job_has_none_of_its_own() -> None:
    job = {
        "attempts": [
            {"container": {"logStreamName": "a/default/1"}},
            {"container": {"logStreamName": "a/default/2"}},
        ]
    }
    assert log_location(job) == LogLocation(DEFAULT_LOG_GROUP, "a/default/2")


def test_a_step_functions_cause_in_pascal_case() -> None:
    cause = {
        "Container": {
            "LogStreamName": "metaflow_b9c4/default/90d4",
            "LogConfiguration": {"LogDriver": "awslogs", "Options": {"awslogs-group": "/metaflow/sfn"}},
        },
        "Attempts": [{"Container": {"LogStreamName": "metaflow_b9c4/default/1111"}}],
    }
    assert log_location(cause) == LogLocation("/metaflow/sfn", "metaflow_b9c4/default/90d4")
    assert log_location(cause, attempt=0) == LogLocation("/metaflow/sfn", "metaflow_b9c4/default/1111")


def test_a_multi_node_node_job_takes_the_group_from_its_node_range() -> None:
    node_job = {
        "jobId": "abc#0",
        "nodeDetails": {"nodeIndex": 0, "isMainNode": True},
        "nodeProperties": {
            "mainNode": 0,
            "numNodes": 2,
            "nodeRangeProperties": [
                {
                    "targetNodes": "0:1",
                    "container": {
                        "logConfiguration": {
                            "logDriver": "awslogs",
                            "options": {"awslogs-group": "/mf/parallel"},
                        }
                    },
                }
            ],
        },
        "container": {"logStreamName": "mf/default/node0"},
    }
    assert log_location(node_job) == LogLocation("/mf/parallel", "mf/default/node0")
