"""DescribeJobs / DescribeExecution answers wrapped as the events they stand for, parsed like real ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runwatch.events.batch import observe_job
from runwatch.events.described import batch_job_event, event_time, execution_event
from runwatch.events.envelope import parse_event
from runwatch.events.models import BatchJobStateChangeEvent, StepFunctionsExecutionStatusChangeEvent

EVENTS = Path(__file__).resolve().parents[3] / "events"


def _sample(path: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / path).read_text())
    return event


def test_a_job_detail_becomes_the_state_change_event_of_its_state() -> None:
    live = _sample("sfn_run/04_train_split1_SUCCEEDED_attempt1.json")

    event = batch_job_event(live["detail"], now_ms=0)

    assert (event["source"], event["detail-type"], event["account"], event["region"]) == (
        "aws.batch",
        "Batch Job State Change",
        live["account"],
        live["region"],
    )
    assert event["time"] == event_time(live["detail"]["stoppedAt"])
    parsed = parse_event(event)
    assert isinstance(parsed, BatchJobStateChangeEvent)
    real = parse_event(live)
    assert isinstance(real, BatchJobStateChangeEvent)
    # Same observation as the live event, whose time was within a second of the stop
    ours = observe_job(parsed.detail, account=parsed.account, region=parsed.region, event_time=parsed.time)
    theirs = observe_job(real.detail, account=real.account, region=real.region, event_time=parsed.time)
    assert ours == theirs


def test_the_event_time_is_the_latest_thing_the_job_shows() -> None:
    detail = _sample("local_run/01_start_RUNNABLE.json")["detail"]
    assert batch_job_event(detail, now_ms=0)["time"] == event_time(detail["createdAt"])
    retried = {
        **detail,
        "attempts": [{"startedAt": detail["createdAt"] + 5, "stoppedAt": detail["createdAt"] + 9}],
    }
    assert batch_job_event(retried, now_ms=0)["time"] == event_time(detail["createdAt"] + 9)
    bare = {k: v for k, v in detail.items() if k != "createdAt"}
    assert batch_job_event(bare, now_ms=1_795_000_000_123)["time"] == "2026-11-18T11:06:40.123Z"


def test_an_execution_answer_gets_epoch_milliseconds_and_no_input() -> None:
    live = _sample("sfn_run/06_execution_SUCCEEDED.json")["detail"]
    answer = {
        **live,
        "startDate": datetime.fromtimestamp(live["startDate"] / 1000, tz=UTC),
        "stopDate": datetime.fromtimestamp(live["stopDate"] / 1000, tz=UTC),
        "input": "x" * 200_000,
        "ResponseMetadata": {"HTTPStatusCode": 200},
    }

    event = execution_event(answer, now_ms=0)

    detail = event["detail"]
    assert (detail["startDate"], detail["stopDate"]) == (live["startDate"], live["stopDate"])
    assert "input" not in detail and "ResponseMetadata" not in detail
    assert event["time"] == event_time(live["stopDate"])
    assert event["account"] == "123456789012"
    parsed = parse_event(event)
    assert isinstance(parsed, StepFunctionsExecutionStatusChangeEvent)
    assert (parsed.detail.status, parsed.detail.output) == ("SUCCEEDED", live["output"])


def test_a_running_execution_is_timed_by_its_start_or_redrive() -> None:
    live = _sample("sfn_run/01_execution_RUNNING.json")["detail"]
    assert execution_event({**live, "stopDate": None}, now_ms=0)["time"] == event_time(live["startDate"])
    redriven = {**live, "redriveDate": live["startDate"] + 60_000, "redriveCount": 1}
    assert execution_event(redriven, now_ms=0)["time"] == event_time(live["startDate"] + 60_000)
