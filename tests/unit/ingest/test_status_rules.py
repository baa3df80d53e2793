"""Run, task and attempt status rules, scenario by scenario (the ingest issue's list)."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from runwatch.domain.task_state import AttemptState, TaskKey, TaskState
from runwatch_dev.local.synth import EventFactory, RunSpec, simulate_run
from tests.unit.ingest.scenarios import queue_blocked_events, replay, run_of, tasks_of

T0 = 1_795_000_000_000
SM = "demo.prod.TrainFlow"


def local(outcomes: dict[str, dict[int, list[str]]] | None = None, **kw: Any) -> RunSpec:
    return RunSpec(
        "TrainFlow", "1795000000000001", outcomes=outcomes or {}, start_ms=T0, tags=("team:ml",), **kw
    )


def sfn(outcomes: dict[str, dict[int, list[str]]] | None = None, **kw: Any) -> RunSpec:
    return RunSpec(
        "TrainFlow",
        "sfn-6b1c",
        orchestrator="step-functions",
        state_machine=SM,
        outcomes=outcomes or {},
        start_ms=T0,
        **kw,
    )


@pytest.mark.parametrize(
    ("attempts", "max_attempts", "expected"),
    [
        ([("RUNNABLE", None)], 3, "pending"),
        ([("STARTING", None)], 3, "starting"),
        ([("RUNNING", None)], 3, "running"),
        ([("SUCCEEDED", None)], 3, "succeeded"),
        ([("FAILED", "Essential container in task exited")], 3, "retrying"),
        ([("FAILED", "Essential container in task exited")], 1, "failed"),
        ([("FAILED", "x"), ("FAILED", "x"), ("FAILED", "x")], 3, "failed"),
        ([("FAILED", "x"), ("RUNNABLE", None)], 3, "pending"),
        ([("FAILED", "Metaflow initiated job termination.")], 3, "killed"),
        ([], 3, "pending"),
    ],
)
def test_task_status(attempts: list[tuple[str, str | None]], max_attempts: int, expected: str) -> None:
    task = TaskState(
        key=TaskKey("F", "1", "s", "1", account="123456789012", region="us-east-1"),
        orchestrator="batch",
        attempts=tuple(
            AttemptState(n, status, status_reason=reason, exit_code=1)
            for n, (status, reason) in enumerate(attempts)
        ),
        max_attempts=max_attempts,
    )
    assert task.status == expected


def test_local_success() -> None:
    spec = local()
    store = replay(simulate_run(spec))
    run = run_of(store, spec.flow, spec.run_id)
    assert (run.status, run.failure, run.user, run.tags, run.orchestrator) == (
        "succeeded",
        None,
        "alice",
        ("team:ml",),
        "batch",
    )
    assert run.finished_at is not None and run.started_at is not None and run.finished_at > run.started_at
    assert {t.status for t in tasks_of(store, spec.flow, spec.run_id).values()} == {"succeeded"}


def test_local_retry_after_spot_reclaim_records_the_failed_attempt() -> None:
    spec = local({"train": {1: ["spot", "ok"]}})
    store = replay(simulate_run(spec))
    assert run_of(store, spec.flow, spec.run_id).status == "succeeded"
    task = tasks_of(store, spec.flow, spec.run_id)[("train", "3")]
    assert [(a.attempt, a.status, a.failure_class) for a in task.attempts] == [
        (0, "failed", "spot_reclaim"),
        (1, "succeeded", None),
    ]
    assert task.attempts[0].job_id != task.attempts[1].job_id  # local retries are new Batch jobs


def test_local_final_failure_names_the_root_cause_not_killed_siblings() -> None:
    spec = local({"train": {0: ["oom"]}}, fanout=8, max_retries=0)
    store = replay(simulate_run(spec))
    run = run_of(store, spec.flow, spec.run_id)
    assert run.status == "failed"
    assert run.failure is not None
    assert (run.failure.step, run.failure.task_id, run.failure.attempt, run.failure.failure_class) == (
        "train",
        "2",
        0,
        "oom",
    )
    assert run.failure.exit_code == 137
    statuses = sorted(
        t.status for (step, _), t in tasks_of(store, spec.flow, spec.run_id).items() if step == "train"
    )
    assert statuses[0] == "failed" and "killed" in statuses


def test_local_run_killed_by_user_is_aborted_without_failure() -> None:
    spec = local(fanout=2)
    factory = EventFactory()
    events = [e for e in simulate_run(spec) if e["detail"]["parameters"]["metaflow.step_name"] in ("start",)]
    kill_at = T0 + 500_000
    for task_id, split in (("2", 0), ("3", 1)):
        events.append(
            factory.batch_job(
                spec,
                "train",
                task_id,
                job_id=f"job-{task_id}",
                status="FAILED",
                retry_count=0,
                at_ms=kill_at,
                created_ms=kill_at - 100_000,
                started_ms=kill_at - 50_000,
                stopped_ms=kill_at,
                outcome="killed",
                split_index=split,
            )
        )
    store = replay(events)
    run = run_of(store, spec.flow, spec.run_id)
    assert (run.status, run.failure, run.finished_at) == ("aborted", None, kill_at)
    assert {t.status for (s, _), t in tasks_of(store, spec.flow, spec.run_id).items() if s == "train"} == {
        "killed"
    }


def test_sfn_success_with_batch_managed_retry() -> None:
    spec = sfn({"train": {2: ["oom", "ok"]}})
    store = replay(simulate_run(spec))
    run = run_of(store, spec.flow, spec.run_id)
    assert (run.status, run.user, run.owner, run.project, run.branch) == (
        "succeeded",
        None,
        "alice",
        "demo",
        "prod",
    )
    task = next(t for t in tasks_of(store, spec.flow, spec.run_id).values() if t.split_index == 2)
    assert [(a.attempt, a.status, a.failure_class) for a in task.attempts] == [
        (0, "failed", "oom"),
        (1, "succeeded", None),
    ]
    assert len({a.job_id for a in task.attempts}) == 1  # Batch retries inside one job


def test_sfn_failure_without_batch_failed_event_comes_from_the_execution_cause() -> None:
    events = [copy.deepcopy(e) for e in simulate_run(sfn({"train": {0: ["user_code"] * 3}}))]
    failed_job = next(e for e in events if e["source"] == "aws.batch" and e["detail"]["status"] == "FAILED")
    events.remove(failed_job)
    execution = events[-1]
    job = failed_job["detail"]
    cause = {k[:1].upper() + k[1:]: v for k, v in job.items()}
    cause["Parameters"] = job["parameters"]
    cause["Attempts"] = [
        {
            "Container": {k[:1].upper() + k[1:]: v for k, v in a["container"].items()},
            "StartedAt": a["startedAt"],
            "StoppedAt": a["stoppedAt"],
            "StatusReason": a["statusReason"],
        }
        for a in job["attempts"]
    ]
    cause["Container"] = {
        "Command": job["container"]["command"],
        "Environment": [{"Name": x["name"], "Value": x["value"]} for x in job["container"]["environment"]],
        "ExitCode": 1,
    }
    import json

    execution["detail"]["cause"] = json.dumps(cause)
    store = replay(events)
    run = run_of(store, "TrainFlow", "sfn-6b1c")
    assert run.status == "failed"
    assert run.failure is not None and (
        run.failure.step,
        run.failure.failure_class,
        run.failure.exit_code,
    ) == ("train", "user_code", 1)


def test_sfn_timed_out_run_has_a_timeout_root_cause() -> None:
    spec = sfn(execution_outcome="TIMED_OUT")
    store = replay(simulate_run(spec))
    run = run_of(store, spec.flow, spec.run_id)
    assert run.status == "timed_out"
    assert run.failure is not None and run.failure.failure_class == "timeout"


def test_sfn_aborted_by_user_has_no_root_cause() -> None:
    spec = sfn(execution_outcome="ABORTED")
    store = replay(simulate_run(spec))
    run = run_of(store, spec.flow, spec.run_id)
    assert (run.status, run.failure) == ("aborted", None)


def test_redrive_clears_the_failure_but_keeps_the_failed_task() -> None:
    spec = sfn({"train": {0: ["user_code"] * 3}}, fanout=2)
    first = simulate_run(spec)
    factory = EventFactory()
    failed_stop = first[-1]["detail"]["stopDate"]
    redrive = failed_stop + 3_600_000
    later = [
        factory.execution(spec, "RUNNING", at_ms=redrive, start_ms=T0, redrive_count=1, redrive_ms=redrive),
        factory.batch_job(
            spec,
            "train",
            "x",
            job_id="redriven-job",
            status="SUCCEEDED",
            retry_count=0,
            at_ms=redrive + 90_000,
            created_ms=redrive + 1_000,
            started_ms=redrive + 10_000,
            stopped_ms=redrive + 90_000,
            outcome="ok",
            split_index=0,
        ),
        factory.execution(
            spec,
            "SUCCEEDED",
            at_ms=redrive + 100_000,
            start_ms=T0,
            stop_ms=redrive + 100_000,
            redrive_count=1,
            redrive_ms=redrive,
        ),
    ]
    store = replay(first)
    assert run_of(store, spec.flow, spec.run_id).status == "failed"
    replay(later[:1], store)
    assert (run_of(store, spec.flow, spec.run_id).status, run_of(store, spec.flow, spec.run_id).failure) == (
        "running",
        None,
    )
    replay(later[1:], store)
    run = run_of(store, spec.flow, spec.run_id)
    assert (run.status, run.failure, run.finished_at) == ("succeeded", None, redrive + 100_000)
    statuses = sorted(
        t.status for (s, _), t in tasks_of(store, spec.flow, spec.run_id).items() if s == "train"
    )
    assert "failed" in statuses and statuses.count("succeeded") >= 2


def test_redriven_run_failing_again_reports_the_new_failure() -> None:
    spec = sfn({"train": {0: ["user_code"] * 3}}, fanout=1)
    first = simulate_run(spec)
    factory = EventFactory()
    redrive = first[-1]["detail"]["stopDate"] + 60_000
    store = replay(
        [
            *first,
            factory.execution(
                spec, "RUNNING", at_ms=redrive, start_ms=T0, redrive_count=1, redrive_ms=redrive
            ),
            factory.batch_job(
                dataclasses.replace(spec, max_retries=0),
                "train",
                "x",
                job_id="again",
                status="FAILED",
                retry_count=0,
                at_ms=redrive + 50000,
                created_ms=redrive + 1000,
                started_ms=redrive + 10000,
                stopped_ms=redrive + 50000,
                outcome="oom",
                split_index=0,
            ),
            factory.execution(
                spec,
                "FAILED",
                at_ms=redrive + 60000,
                start_ms=T0,
                stop_ms=redrive + 60000,
                redrive_count=1,
                redrive_ms=redrive,
                error="States.TaskFailed",
            ),
        ]
    )
    failure = run_of(store, spec.flow, spec.run_id).failure
    assert failure is not None and (failure.task_id, failure.failure_class) == ("again", "oom")


def test_batch_event_before_execution_event_creates_the_run() -> None:
    events = simulate_run(sfn())
    batch_first = [e for e in events if e["source"] == "aws.batch"][:1]
    store = replay(batch_first)
    run = run_of(store, "TrainFlow", "sfn-6b1c")
    assert (run.status, run.orchestrator, run.execution) == ("running", "step-functions", None)


def test_unidentified_execution_is_kept_and_applied_once_identified() -> None:
    events = simulate_run(sfn(execution_outcome="SUCCEEDED"))
    executions = [e for e in events if e["source"] == "aws.states"]
    store = replay(executions)
    assert store.runs == {} and store.flows == {}  # never a flow from a guess
    assert sum(len(v) for v in store.parked.values()) == 2
    replay([e for e in events if e["source"] == "aws.batch"][:1], store)
    assert run_of(store, "TrainFlow", "sfn-6b1c").status == "succeeded"
    assert all(not v for v in store.parked.values())


def test_foreign_events_are_ignored_and_never_stored() -> None:
    from pathlib import Path

    events_dir = Path(__file__).resolve().parents[3] / "events" / "foreign"
    store = MemoryStoreProbe()
    from runwatch.services.ingest import Ingestor

    ingestor = Ingestor(store, counters=store)
    outcomes = [ingestor.ingest(p.read_text()) for p in sorted(events_dir.glob("*.json"))]
    assert outcomes == ["ignored", "parked"]
    assert store.runs == {} and store.tasks == {} and store.counted["foreign_jobs"] == 1


def test_queue_blocked_reason_is_recorded_on_pending_tasks_of_that_queue() -> None:
    spec = local(fanout=2)
    reason = (
        "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job resource requirement (vCPU/memory/GPU) is higher"
        " than that can be met by the CE(s) attached to the job queue."
    )
    store = replay(queue_blocked_events(spec, reason, T0))
    tasks = tasks_of(store, spec.flow, spec.run_id)
    assert tasks[("train", "2")].blocked_reason == reason
    assert tasks[("train", "3")].blocked_reason == reason
    assert tasks[("train", "2")].status == "pending"


from tests.fakes.memory_store import MemoryStore  # noqa: E402


class MemoryStoreProbe(MemoryStore):
    """The in-memory store that also counts metrics."""

    def __init__(self) -> None:
        super().__init__()
        self.counted: dict[str, int] = {}

    def add(self, name: str, value: int = 1) -> None:
        self.counted[name] = self.counted.get(name, 0) + value
