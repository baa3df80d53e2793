"""Who carries the sweeper's `active_keys` entry: runs only, from every write (only the sweeper takes an ended
run out); tasks never (the sweeper finds them from the step summaries)."""

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


@pytest.mark.parametrize("state", [RUNNING, SUCCEEDED])
def test_every_write_of_a_run_puts_it_in_the_sweepers_view_finished_or_not(state: RunState) -> None:
    assert run_to_item(state, None, T0, 90).active_pk == ACTIVE_RUN


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
