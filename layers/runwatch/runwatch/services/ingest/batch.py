"""The Batch path: a job state change (or a blocked queue) -> its task and its run joined into the table.

A job's event is one observation of its task and one of the task's run. A job of a Step Functions run also
proves that its state machine is Metaflow's (the execution path records that and applies what waited for it);
a `Batch Job Queue Blocked` event records its reason on every task pending on the same queue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from runwatch.domain.task_state import TaskState
from runwatch.events.batch import JobObservation, NotMetaflow, observe_job
from runwatch.events.envelope import RejectedEvent
from runwatch.events.models import BATCH_JOB_QUEUE_BLOCKED, BatchJobDetail, BatchJobStateChangeEvent
from runwatch.services.ingest.joins import Joins
from runwatch.services.ingest.reporting import APPLIED, DUPLICATE, IGNORED, Counters

# (state machine arn, flow, execution arn): a job of that execution ran that flow.
Identify = Callable[[str, str, str], None]


class QueueIndex(Protocol):
    """runwatch.store.repository.StatusRepository."""

    def pending_tasks_on_queue(self, queue_arn: str, limit: int = 100) -> list[TaskState]: ...


def observe_metaflow_job(
    detail: BatchJobDetail,
    account: str,
    region: str,
    time: datetime,
    blocked: bool,
    state_machine_prefix: str | None,
) -> JobObservation:
    """A Metaflow job's observation; raises NotMetaflow for others, RejectedEvent when incomplete."""
    try:
        return observe_job(
            detail,
            account=account,
            region=region,
            event_time=time,
            queue_blocked=blocked,
            state_machine_prefix=state_machine_prefix,
        )
    except ValueError as exc:
        raise RejectedEvent(f"incomplete Metaflow job {detail.jobId}: {exc}") from None


class BatchPath:
    def __init__(
        self,
        joins: Joins,
        queues: QueueIndex,
        counters: Counters,
        identify: Identify,
        state_machine_prefix: str | None = None,
    ) -> None:
        self.joins = joins
        self.queues = queues
        self.counters = counters
        self.identify = identify
        self.state_machine_prefix = state_machine_prefix

    def observe(self, event: BatchJobStateChangeEvent) -> JobObservation | None:
        """What a job's event says, read once per event: the batch reads ahead its task and run with it, then
        applies it. None for a job Metaflow did not submit; raises RejectedEvent when it is incomplete."""
        blocked = event.detail_type == BATCH_JOB_QUEUE_BLOCKED
        try:
            return observe_metaflow_job(
                event.detail, event.account, event.region, event.time, blocked, self.state_machine_prefix
            )
        except NotMetaflow:
            return None

    def apply_observed(self, observation: JobObservation | None) -> str:
        if observation is None:
            self.counters.add("foreign_jobs")
            return IGNORED
        return self.apply_job(observation)

    def apply_job(self, observation: JobObservation) -> str:
        task, task_changed = self.joins.task(observation.task)
        run_changed = self.joins.run_of_task(task, observation.run)
        if observation.state_machine_arn and observation.run.execution_arn:
            self.identify(observation.state_machine_arn, task.key.flow, observation.run.execution_arn)
        if observation.queue_blocked:
            self._mark_queue_blocked(observation.task)
        return APPLIED if task_changed or run_changed else DUPLICATE

    def _mark_queue_blocked(self, blocked: TaskState) -> None:
        """Record the blocked reason against every task pending on the same queue."""
        if not blocked.job_queue:
            return
        for task in self.queues.pending_tasks_on_queue(blocked.job_queue):
            if task.key != blocked.key:
                self.joins.task(
                    TaskState(
                        key=task.key,
                        orchestrator=task.orchestrator,
                        blocked_reason=blocked.blocked_reason,
                        blocked_at=blocked.blocked_at,
                    )
                )
