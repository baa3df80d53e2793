"""Who carries the sweeper's `active_keys` entry: runs only, while not finished or while their steps count
unfinished tasks; tasks never (the sweeper finds them from the step summaries)."""

from __future__ import annotations

import pytest

from runwatch.domain.run_state import RunKey, RunState
from runwatch.domain.step_summary import StepSummary
from runwatch.domain.task_state import AttemptState, TaskKey, TaskState
from runwatch.store.keys import ACTIVE_RUN
from runwatch.store.records import run_to_item, task_to_item

T0 = 1_795_000_000_000
RUN = RunKey("TrainFlow", "17", account="123456789012", region="us-east-1")
RUNNING = RunState(RUN, "batch", first_seen_at=T0)
SUCCEEDED = RunState(RUN, "batch", first_seen_at=T0, end_succeeded_at=T0 + 60_000)


@pytest.mark.parametrize(
    ("state", "unfinished", "active"),
    [
        (RUNNING, 0, ACTIVE_RUN),
        (RUNNING, 3, ACTIVE_RUN),
        (SUCCEEDED, 0, None),
        (SUCCEEDED, 1, ACTIVE_RUN),  # ended while a task's end was not known yet
    ],
)
def test_a_run_is_active_while_unfinished_or_while_its_steps_count_unfinished_tasks(
    state: RunState, unfinished: int, active: str | None
) -> None:
    assert run_to_item(state, None, T0, 90, unfinished_tasks=unfinished).active_pk == active


@pytest.mark.parametrize("batch_status", ["SUBMITTED", "STARTING", "RUNNING", "SUCCEEDED"])
def test_a_task_carries_no_active_entry_in_any_status(batch_status: str) -> None:
    task = TaskState(
        TaskKey("TrainFlow", "17", "train", "3", account="123456789012", region="us-east-1"),
        "batch",
        attempts=(AttemptState(attempt=0, batch_status=batch_status, job_id="job-3", created_at=T0),),
    )
    assert task_to_item(task, None, T0, 90).active_pk is None


def test_a_steps_unfinished_counts_are_its_pending_starting_running_and_retrying_tasks() -> None:
    counters = {"status:pending": 2, "status:running": 1, "status:succeeded": 5, "status:failed": 1}
    assert StepSummary("train", counters).unfinished_counts == {"pending": 2, "running": 1}
    assert StepSummary("start", {"status:succeeded": 1}).unfinished_counts == {}
