"""What a notification says, composed from run, task and alert states."""

from __future__ import annotations

from dataclasses import replace

from runwatch.domain.alerts import Alert
from runwatch.domain.run_state import ExecutionFact, RunKey, RunState
from runwatch.domain.task_state import AttemptState, Failure, TaskKey, TaskState
from runwatch.notify.links import LinkBuilder
from runwatch.notify.message import compose_alert, compose_retry, compose_run, format_duration, stand_in_run

T0 = 1_795_000_000_000
LINKS = LinkBuilder("https://dash.example.com/")
ROOT = Failure(T0 + 50, "train", "7", 1, "oom", "OutOfMemoryError", 137)


def _run(**fields: object) -> RunState:
    base = RunState(
        RunKey("F", "1", account="123456789012", region="us-east-1"),
        "batch",
        user="alice",
        first_seen_at=T0,
        failures=(ROOT,),
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def _task(task_id: str, *attempts: AttemptState, max_attempts: int = 2) -> TaskState:
    return TaskState(
        TaskKey("F", "1", "train", task_id, account="123456789012", region="us-east-1"),
        "batch",
        attempts=attempts,
        max_attempts=max_attempts,
        log_group="/aws/batch/job",
    )


def _failed(n: int, reason: str = "Metaflow initiated job termination.", **more: object) -> AttemptState:
    return AttemptState(
        n, "FAILED", job_id=f"job-{n}", stopped_at=T0 + 50, status_reason=reason, log_stream=f"s/{n}", **more
    )  # type: ignore[arg-type]


def test_a_failed_run_names_its_root_cause_and_counts_the_rest() -> None:
    root = _task(
        "7",
        _failed(0, container_reason="OutOfMemoryError", exit_code=137),
        _failed(1, container_reason="OutOfMemoryError", exit_code=137),
    )
    killed = [_task(str(n), _failed(0), max_attempts=1) for n in range(8, 12)]
    fine = _task("2", AttemptState(0, "SUCCEEDED"))

    notification = compose_run(
        "run.failed#r0", "run.failed", _run(), [fine, root, *killed], LINKS, now=T0 + 99
    )

    assert notification.failure is not None and notification.failure.task_id == "7"
    assert notification.task is not None and [a.failure_class for a in notification.task.attempts] == [
        "oom",
        "oom",
    ]
    assert notification.failed_tasks == 5
    assert notification.occurred_at == T0 + 50
    links = dict(notification.links)
    assert (
        links["dashboard"]
        == "https://dash.example.com/#/flows/F/runs/1?account=123456789012&region=us-east-1"
    )
    assert links["batch_job"].endswith("#jobs/detail/job-1")
    assert links["logs"].endswith("log-events/s$252F1")


def test_the_root_cause_counts_even_when_its_task_item_lags_behind() -> None:
    notification = compose_run("k", "run.failed", _run(), [], LINKS, now=T0)

    assert notification.failed_tasks == 1 and notification.task is None
    assert notification.failure is not None and notification.failure.step == "train"


def test_an_execution_level_failure_has_no_task() -> None:
    arn = "arn:aws:states:us-east-1:1:execution:F:abc"
    run = _run(
        failures=(),
        orchestrator="step-functions",
        execution_arn=arn,
        execution=ExecutionFact(0, True, T0 + 9, "TIMED_OUT", "States.Timeout", None),
    )

    notification = compose_run("k", "run.timed_out", run, [], LINKS, now=T0)

    assert notification.failure is not None and notification.failure.failure_class == "timeout"
    assert notification.failure.step == "" and notification.failed_tasks == 0
    assert dict(notification.links)["execution"].endswith(arn)
    assert notification.title == "F/1 timed out"


def test_a_retry_names_the_attempt_that_failed() -> None:
    task = _task(
        "7", _failed(0, "Host EC2 (instance i-1) terminated."), AttemptState(1, "RUNNABLE"), max_attempts=3
    )

    notification = compose_retry("task.retrying#train#7#0", _run(failures=()), task, 0, LINKS, now=T0)

    assert notification.failure is not None
    assert (notification.failure.attempt, notification.failure.failure_class) == (0, "spot_reclaim")
    assert notification.title == "F/1: train/7 is retrying after spot_reclaim"
    assert notification.severity == "low"


def test_an_alert_about_a_run_not_in_the_table_still_reads_well() -> None:
    alert = Alert(
        "run.late", "F", "9", message="running 3x longer than usual", hint="check the queue", occurred_at=T0
    )

    notification = compose_alert(
        "run.late#duration",
        alert,
        stand_in_run(RunKey("F", "9", account="123456789012", region="us-east-1")),
        None,
        LINKS,
    )

    assert (notification.title, notification.status, notification.message) == (
        "F/9 is running late",
        "running",
        "running 3x longer than usual",
    )
    assert notification.subject().type == "run.late"


def test_durations_read_naturally() -> None:
    assert [format_duration(ms) for ms in (None, 999, 59_000, 61_000, 3_723_000, 90_061_000)] == [
        None,
        "0s",
        "59s",
        "1m 01s",
        "1h 02m",
        "1d 1h 01m",
    ]
