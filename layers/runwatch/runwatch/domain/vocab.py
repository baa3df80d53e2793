"""The status vocabularies of runs, tasks and attempts, and how Batch states rank."""

from __future__ import annotations

from typing import Final

# Batch job states in the order a job moves through them; both terminal states share the top rank so that
# neither can overwrite the other and a terminal state is never followed by an earlier one.
BATCH_RANK: Final[dict[str, int]] = {
    "SUBMITTED": 0,
    "PENDING": 1,
    "RUNNABLE": 2,
    "STARTING": 3,
    "RUNNING": 4,
    "SUCCEEDED": 5,
    "FAILED": 5,
}
TERMINAL_RANK: Final = 5

ATTEMPT_STATUS_OF_BATCH: Final[dict[str, str]] = {
    "SUBMITTED": "pending",
    "PENDING": "pending",
    "RUNNABLE": "pending",
    "STARTING": "starting",
    "RUNNING": "running",
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
}

RUN_STATUSES: Final = ("running", "succeeded", "failed", "timed_out", "aborted", "unknown")
TERMINAL_RUN_STATUSES: Final = frozenset({"succeeded", "failed", "timed_out", "aborted"})
TASK_STATUSES: Final = ("pending", "starting", "running", "retrying", "succeeded", "failed", "killed")
TERMINAL_TASK_STATUSES: Final = frozenset({"succeeded", "failed", "killed"})
ATTEMPT_STATUSES: Final = ("pending", "starting", "running", "succeeded", "failed")
FAILURE_CLASSES: Final = (
    "spot_reclaim",
    "oom",
    "timeout",
    "image_pull",
    "agent",
    "user_code",
    "killed",
    "unknown",
)

# Step Functions execution status -> run status. PENDING_REDRIVE only comes from DescribeExecution: the
# execution failed and waits for a redrive, so it reads as failed until a redrive makes it run again.
RUN_STATUS_OF_EXECUTION: Final[dict[str, str]] = {
    "RUNNING": "running",
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "TIMED_OUT": "timed_out",
    "ABORTED": "aborted",
    "PENDING_REDRIVE": "failed",
}

ORCHESTRATOR_BATCH: Final = "batch"
ORCHESTRATOR_SFN: Final = "step-functions"
