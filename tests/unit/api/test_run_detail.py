"""Run detail assembly: step status aggregation, step and task order (domain), and the mapping to the API."""

from __future__ import annotations

import itertools

import pytest

from runwatch.api import schemas
from runwatch.api.mapping import failure_of, step_of
from runwatch.domain import vocab
from runwatch.domain.step_summary import recount
from runwatch.domain.steps import STEP_STATUSES, build_steps, natural_key, step_status
from runwatch.domain.task_state import AttemptState, Failure, TaskKey, TaskState
from runwatch.services.queries import StepDetail

T0 = 1_795_000_000_000


def _task(
    step: str,
    task_id: str,
    *batch_statuses: str,
    created: int | None = T0,
    split: int | None = None,
    max_attempts: int = 3,
    reason: str | None = None,
) -> TaskState:
    attempts = tuple(
        AttemptState(
            attempt=n, batch_status=s, job_id=f"job-{task_id}-{n}", created_at=created, status_reason=reason
        )
        for n, s in enumerate(batch_statuses)
    )
    return TaskState(
        key=TaskKey("F", "1", step, task_id, account="123456789012", region="us-east-1"),
        orchestrator="batch",
        attempts=attempts,
        max_attempts=max_attempts,
        split_index=split,
        job_queue="arn:aws:batch:us-east-1:123456789012:job-queue/q",
        log_group="/aws/batch/job",
    )


# -- step status -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["succeeded"], "succeeded"),
        (["succeeded", "succeeded"], "succeeded"),
        (["succeeded", "failed", "running"], "failed"),
        (["killed", "failed"], "failed"),
        (["succeeded", "running"], "running"),
        (["pending", "starting"], "running"),
        (["succeeded", "pending"], "pending"),
        (["retrying", "succeeded"], "pending"),
        (["killed", "pending"], "pending"),
        (["killed", "succeeded"], "killed"),
        (["killed"], "killed"),
    ],
)
def test_step_status(statuses: list[str], expected: str) -> None:
    assert step_status(statuses) == expected


def test_step_status_is_defined_for_every_mix_of_task_statuses() -> None:
    allowed = set(schemas.StepStatus.__args__)
    for size in range(1, 4):
        for mix in itertools.combinations_with_replacement(vocab.TASK_STATUSES, size):
            status = step_status(mix)
            assert status in allowed
            # A failure is never hidden, and a step with unfinished tasks never reads as done.
            assert (status == "failed") == ("failed" in mix)
            if "failed" not in mix and set(mix) - vocab.TERMINAL_TASK_STATUSES:
                assert status in ("running", "pending")


# -- order -------------------------------------------------------------------------------------------------
def test_tasks_sort_by_split_index_then_natural_task_id() -> None:
    items = [
        _task("train", "10", "SUCCEEDED"),
        _task("train", "9", "SUCCEEDED"),
        _task("train", "b", "SUCCEEDED"),
        _task("train", "a", "SUCCEEDED"),
        _task("train", "7", "SUCCEEDED", split=1),
        _task("train", "8", "SUCCEEDED", split=0),
    ]
    (step,) = build_steps(items)
    assert [t.key.task_id for t in step.tasks] == ["8", "7", "9", "10", "a", "b"]


def test_natural_key_orders_numbers_numerically() -> None:
    assert sorted(["100", "20", "3", "x", "0"], key=natural_key) == ["0", "3", "20", "100", "x"]


def test_steps_sort_by_first_creation_then_name() -> None:
    items = [
        _task("end", "5", "SUCCEEDED", created=T0 + 300),
        _task("join", "4", "SUCCEEDED", created=T0 + 200),
        _task("train", "2", "SUCCEEDED", created=T0 + 150),
        _task("train", "3", "SUCCEEDED", created=T0 + 100),
        _task("start", "1", "SUCCEEDED", created=T0),
        _task("b_side", "6", "SUCCEEDED", created=T0 + 100),
        _task("unseen", "7", created=None),  # no attempt created yet: last
    ]
    assert [s.name for s in build_steps(items)] == ["start", "b_side", "train", "join", "end", "unseen"]


# -- mapping -----------------------------------------------------------------------------------------------
def test_step_counts_and_attempt_fields() -> None:
    items = [
        _task("train", "2", "FAILED", "RUNNING", reason="Host EC2 (instance i-1) terminated.", split=0),
        _task("train", "3", "SUCCEEDED", split=1),
        _task("train", "4", "FAILED", max_attempts=1, split=2, reason="Metaflow initiated job termination."),
    ]
    (built,) = build_steps(items)
    summary = recount("train", items)
    step = step_of(StepDetail(summary, step_status(summary.task_counts), list(built.tasks), None))
    assert step.status == "running"
    assert step.task_counts == {"running": 1, "succeeded": 1, "killed": 1}
    assert (step.attempts, step.retries, step.durations, step.tasks_next_token) == (4, 1, None, None)
    first = step.tasks[0]
    assert (first.status, first.split_index, first.blocked_reason) == ("running", 0, None)
    assert first.attempts[0].model_dump() == {
        "attempt": 0,
        "status": "failed",
        "job_id": "job-2-0",
        "job_queue": "arn:aws:batch:us-east-1:123456789012:job-queue/q",
        "failure_class": "spot_reclaim",
        "status_reason": "Host EC2 (instance i-1) terminated.",
        "container_reason": None,
        "exit_code": None,
        "created_at": "2026-11-18T11:06:40.000Z",
        "started_at": None,
        "stopped_at": None,
        "log_stream": None,
        "log_group": "/aws/batch/job",
        "exception": None,
        "vcpu": None,
        "memory_gib": None,
        "gpu": None,
    }
    assert first.attempts[1].failure_class is None


def test_failure_without_a_task_reads_as_nulls() -> None:
    failure = failure_of(
        Failure(
            at=T0,
            step="",
            task_id="",
            attempt=0,
            failure_class="timeout",
            status_reason="States.Timeout",
            exit_code=None,
        )
    )
    assert failure is not None
    assert failure.model_dump() == {
        "step": None,
        "task_id": None,
        "attempt": None,
        "failure_class": "timeout",
        "status_reason": "States.Timeout",
        "exit_code": None,
        "exception": None,
    }
    assert failure_of(None) is None


# -- vocabularies ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("literal", "values"),
    [
        (schemas.RunStatus, vocab.RUN_STATUSES),
        (schemas.TaskStatus, vocab.TASK_STATUSES),
        (schemas.AttemptStatus, vocab.ATTEMPT_STATUSES),
        (schemas.FailureClass, vocab.FAILURE_CLASSES),
        (schemas.StepStatus, STEP_STATUSES),
    ],
)
def test_schema_vocabularies_match_the_domain(literal: object, values: tuple[str, ...]) -> None:
    assert literal.__args__ == values  # type: ignore[attr-defined]
