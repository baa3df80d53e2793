"""Every sample event yields the identity its manifest entry names (events/manifest.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runwatch.events.batch import NotMetaflow, observe_job
from runwatch.events.envelope import parse_event
from runwatch.events.models import BatchJobStateChangeEvent
from runwatch.events.step_functions import observe_execution

EVENTS = Path(__file__).resolve().parents[3] / "events"
MANIFEST = json.loads((EVENTS / "manifest.json").read_text())

# The manifest's task_status words, in the task vocabulary.
TASK_STATUS = {"pending": "pending", "running": "running", "succeeded": "succeeded", "failed": "failed"}


def _expected_task_status(text: str) -> str:
    if text.startswith("failed_attempt_will_retry"):
        return "retrying"
    return TASK_STATUS[text.split()[0]]


def _load(entry: dict[str, Any]) -> Any:
    return parse_event((EVENTS / entry["file"]).read_text())


@pytest.mark.parametrize(
    "entry",
    [e for e in MANIFEST if e["expect"]["kind"].startswith("metaflow-batch")],
    ids=lambda e: e["file"],
)
def test_batch_sample_identity(entry: dict[str, Any]) -> None:
    expect = entry["expect"]
    event = _load(entry)
    assert isinstance(event, BatchJobStateChangeEvent)
    obs = observe_job(event.detail, account=event.account, region=event.region, event_time=event.time)
    task, run = obs.task, obs.run
    assert task.key.flow == expect["flow"]
    assert task.key.run_id == expect["run_id"]
    assert task.key.step == expect["step"]
    assert task.key.task_id == expect["task_id"]
    assert task.current is not None and task.current.attempt == expect["attempt"]
    assert run.orchestrator == ("batch" if expect["kind"] == "metaflow-batch-local" else "step-functions")
    assert task.status == _expected_task_status(expect["task_status"])
    for name in ("user", "owner", "project", "branch", "production_token", "state_machine"):
        if name in expect:
            assert getattr(run, name) == expect[name], name
    if "tags" in expect:
        assert list(run.tags) == expect["tags"]
    if "split_index" in expect:
        assert task.split_index == expect["split_index"]
    if "max_user_code_retries" in expect:
        assert task.max_attempts == expect["max_user_code_retries"] + 1
    for number, previous in expect.get("previous_attempts", {}).items():
        attempt = next(a for a in task.attempts if a.attempt == int(number))
        assert attempt.status == previous["status"]
        assert attempt.exit_code == previous["exitCode"]


@pytest.mark.parametrize(
    "entry", [e for e in MANIFEST if e["expect"]["kind"] == "metaflow-sfn-execution"], ids=lambda e: e["file"]
)
def test_execution_sample_identity(entry: dict[str, Any]) -> None:
    expect = entry["expect"]
    event = _load(entry)
    assert not isinstance(event, BatchJobStateChangeEvent)
    obs = observe_execution(event.detail, account=event.account, region=event.region, event_time=event.time)
    assert obs.run_id == expect["run_id"]
    assert obs.state_machine == expect["state_machine"]
    run = obs.run_state(flow=obs.flow_hint or "FanoutFlow")
    assert run.status == expect["run_status"]
    if "project" in expect:
        assert (run.project, run.branch) == (expect["project"], expect["branch"])
    if "failed_task_id" in expect:
        assert obs.failed_job is not None
        assert obs.failed_job.jobId == expect["failed_task_id"]
        assert obs.failed_job.parameters["metaflow.step_name"] == expect["failed_step"].split()[0]
        assert obs.flow_hint == "ScoringFlow"
    if "end_task_id" in expect:
        assert obs.flow_hint == "FanoutFlow"


def test_foreign_batch_job_is_not_metaflow() -> None:
    entry = next(e for e in MANIFEST if e["expect"]["kind"] == "foreign-batch")
    event = _load(entry)
    assert isinstance(event, BatchJobStateChangeEvent)
    with pytest.raises(NotMetaflow):
        observe_job(event.detail, account=event.account, region=event.region, event_time=event.time)


def test_foreign_execution_carries_no_metaflow_marker() -> None:
    entry = next(e for e in MANIFEST if e["expect"]["kind"] == "foreign-sfn")
    event = _load(entry)
    assert not isinstance(event, BatchJobStateChangeEvent)
    obs = observe_execution(event.detail, account=event.account, region=event.region, event_time=event.time)
    assert obs.flow_hint is None and obs.failed_job is None


def test_every_manifest_entry_is_covered() -> None:
    kinds = {e["expect"]["kind"] for e in MANIFEST}
    assert kinds == {
        "metaflow-batch-local",
        "metaflow-batch-sfn",
        "metaflow-sfn-execution",
        "foreign-batch",
        "foreign-sfn",
    }
