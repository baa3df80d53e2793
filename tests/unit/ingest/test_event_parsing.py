"""Every sample event parses; a malformed one is rejected with a reason naming each wrong field by location.

The reason is what a person reads in the dead-letter queue, so it says where (`detail.attempts.0.startedAt`),
which rule, and what was seen; a parked execution event is written back as JSON that parses to the same event.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from runwatch.events.envelope import RejectedEvent, parse_event
from runwatch.events.models import (
    BatchJobDetail,
    BatchJobStateChangeEvent,
    StepFunctionsExecutionStatusChangeEvent,
)
from runwatch.json_fields import InvalidFields, read_object

EVENTS = Path(__file__).resolve().parents[3] / "events"
SAMPLES = sorted(
    p
    for folder in ("local_run", "sfn_run", "sfn_failed_run", "parallel_run")
    for p in (EVENTS / folder).glob("*.json")
)


def _batch_event() -> dict[str, Any]:
    event: dict[str, Any] = json.loads(next((EVENTS / "local_run").glob("*.json")).read_text())
    return event


def _execution_event() -> dict[str, Any]:
    for path in sorted((EVENTS / "sfn_failed_run").glob("*.json")):
        event: dict[str, Any] = json.loads(path.read_text())
        if event["source"] == "aws.states" and event["detail"].get("cause"):
            return event
    raise AssertionError("no failed execution sample")


def _reason(event: object) -> str:
    with pytest.raises(RejectedEvent) as rejected:
        parse_event(json.dumps(event))
    return rejected.value.reason


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_sample_event_parses(path: Path) -> None:
    event = parse_event(path.read_text())
    assert event.id == json.loads(path.read_text())["id"]
    assert event.time.tzinfo is not None


def test_a_batch_event_is_read_into_its_fields() -> None:
    raw = _batch_event()

    event = parse_event(raw)

    assert isinstance(event, BatchJobStateChangeEvent)
    assert (event.account, event.region, event.detail_type) == (
        raw["account"],
        raw["region"],
        raw["detail-type"],
    )
    assert event.time == datetime.fromisoformat(raw["time"].replace("Z", "+00:00"))
    assert event.time.tzinfo == UTC
    assert (event.detail.jobId, event.detail.status) == (raw["detail"]["jobId"], raw["detail"]["status"])
    assert event.detail.parameters == raw["detail"]["parameters"]
    assert event.detail.container.command == raw["detail"]["container"]["command"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.pop("jobId"), "detail.jobId: Field required"),
        (lambda d: d.update(jobId=""), "detail.jobId: String should have at least 1 character"),
        (
            lambda d: d.update(createdAt="yesterday"),
            "detail.createdAt: Input should be a valid integer, got 'yesterday'",
        ),
        (lambda d: d.update(status="DONE"), "detail.status: Input should be 'SUBMITTED', 'PENDING', "),
        (
            lambda d: d.update(attempts=[{"startedAt": 1.5}]),
            "detail.attempts.0.startedAt: Input should be a valid integer",
        ),
        (
            lambda d: d.update(parameters={"metaflow.retry_count": 1}),
            "detail.parameters.metaflow.retry_count: Input should be a valid string",
        ),
        (lambda d: d.update(container=[]), "detail.container: Input should be an object, got []"),
        (
            lambda d: d["container"].update(environment=[{"name": "A", "value": "1"}, {"value": 2}]),
            "detail.container.environment.1.name: Field required; detail.container.environment.1.value: Input",
        ),
        (
            lambda d: d.update(nodeDetails={"nodeIndex": -1}),
            "detail.nodeDetails.nodeIndex: Input should be greater than or equal to 0",
        ),
    ],
)
def test_a_wrong_job_field_is_named_with_its_rule(change: Any, expected: str) -> None:
    event = _batch_event()
    change(event["detail"])

    reason = _reason(event)

    assert reason.startswith(f"invalid {event['detail-type']} event: ")
    assert expected in reason


def test_every_problem_is_found_and_the_reason_shows_three() -> None:
    event = _batch_event()
    for name in ("jobName", "jobId", "jobQueue", "status"):
        del event["detail"][name]
    event["time"] = "someday"

    reason = _reason(event)

    assert reason.endswith("(+2 more)")
    assert reason.count("Field required") + reason.count("valid datetime") == 3


def test_a_missing_or_broken_detail_is_one_problem() -> None:
    missing, not_object = _batch_event(), _batch_event()
    del missing["detail"]
    not_object["detail"] = "job"

    assert _reason(missing).endswith(": detail: Field required")
    assert _reason(not_object).endswith(": detail: Input should be an object, got 'job'")


def test_an_execution_arn_is_checked() -> None:
    event = _execution_event()
    event["detail"]["executionArn"] = "not-an-arn"

    assert "detail.executionArn: String should match pattern" in _reason(event)


def test_a_parked_execution_event_reads_back_the_same() -> None:
    parsed = parse_event(_execution_event())
    assert isinstance(parsed, StepFunctionsExecutionStatusChangeEvent)

    assert parse_event(parsed.to_json()) == parsed


def test_a_job_detail_alone_raises_every_problem_it_has() -> None:
    detail = copy.deepcopy(_batch_event()["detail"])
    detail["stoppedAt"], detail["tags"] = "later", {"team": None}

    with pytest.raises(InvalidFields) as invalid:
        read_object(detail, BatchJobDetail.read)

    assert [".".join(map(str, where)) for where, _ in invalid.value.problems] == ["stoppedAt", "tags.team"]
