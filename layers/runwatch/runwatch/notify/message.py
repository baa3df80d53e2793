"""What a notification says, independent of the channel: composed from the run, its tasks or an alert.

Channels only format a `Notification`; everything they show (root cause, attempt history, how many other
tasks failed, links) is decided here once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from runwatch.domain.alerts import RUN_LATE, TASK_STUCK, Alert
from runwatch.domain.identity import arn_partition
from runwatch.domain.notification_policy import (
    RUN_ABORTED,
    RUN_FAILED,
    RUN_SUCCEEDED,
    RUN_TIMED_OUT,
    SEVERITY,
    TASK_RETRYING,
    Subject,
)
from runwatch.domain.run_state import RunKey, RunState
from runwatch.domain.task_state import AttemptState, Failure, TaskState
from runwatch.domain.usage import Prices, UsageHours, UsageTotals, task_usage, total
from runwatch.logs.traceback import MAX_EXCEPTION_CHARS, FailureExcerpt
from runwatch.notify.links import LinkBuilder

_FAILED_TASK_STATUSES = frozenset({"failed", "killed"})


@dataclass(frozen=True, slots=True)
class AttemptReport:
    attempt: int
    status: str
    failure_class: str | None = None
    reason: str | None = None
    exit_code: int | None = None
    started_at: int | None = None
    stopped_at: int | None = None


@dataclass(frozen=True, slots=True)
class TaskReport:
    step: str
    task_id: str
    status: str
    attempts: tuple[AttemptReport, ...] = ()


@dataclass(frozen=True, slots=True)
class FailureReport:
    step: str
    task_id: str
    attempt: int
    failure_class: str
    reason: str | None
    exit_code: int | None
    # The final exception line of the task's log, and the traceback's last lines (only when asked for).
    exception: str | None = None
    log_lines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Notification:
    """One message about one transition. `key` names the transition within the run (idempotency)."""

    key: str
    type: str
    flow: str
    run_id: str
    status: str
    orchestrator: str
    occurred_at: int
    account: str = ""  # the run's account and region: with flow and run_id, the run's identity
    region: str = ""
    user: str | None = None
    project: str | None = None
    branch: str | None = None
    tags: tuple[str, ...] = ()
    started_at: int | None = None
    finished_at: int | None = None
    failure: FailureReport | None = None
    task: TaskReport | None = None
    # Failed or killed tasks of the run when the notification was composed, the root cause included.
    failed_tasks: int = 0
    message: str | None = None
    hint: str | None = None
    links: tuple[tuple[str, str], ...] = field(default=())
    # Compute the run used (its tasks' attempts; running ones to now), and its price when prices are set.
    usage: UsageHours | None = None
    estimated_cost_usd: float | None = None

    @property
    def severity(self) -> str:
        return SEVERITY.get(self.type, "info")

    @property
    def delivery_id(self) -> str:
        """Stable for this transition of this run, so a receiver can drop redeliveries."""
        run = f"{self.account}\0{self.region}\0{self.flow}\0{self.run_id}"
        return hashlib.sha256(f"{run}\0{self.key}".encode()).hexdigest()[:32]

    @property
    def duration_ms(self) -> int | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return max(0, self.finished_at - self.started_at)

    @property
    def title(self) -> str:
        run = f"{self.flow}/{self.run_id}"
        task = f"{self.task.step}/{self.task.task_id}" if self.task else "a task"
        if self.type == TASK_RETRYING:
            cause = self.failure.failure_class if self.failure else "a failure"
            return f"{run}: {task} is retrying after {cause}"
        if self.type == TASK_STUCK:
            return f"{run}: {task} is stuck"
        return f"{run} {_RUN_VERB.get(self.type, self.status)}"

    def subject(self) -> Subject:
        return Subject(
            type=self.type,
            flow=self.flow,
            project=self.project,
            branch=self.branch,
            user=self.user,
            tags=self.tags,
            failure_class=self.failure.failure_class if self.failure else None,
        )


_RUN_VERB = {
    RUN_FAILED: "failed",
    RUN_TIMED_OUT: "timed out",
    RUN_ABORTED: "was aborted",
    RUN_SUCCEEDED: "succeeded",
    RUN_LATE: "is running late",
}


def _attempt_report(attempt: AttemptState) -> AttemptReport:
    return AttemptReport(
        attempt=attempt.attempt,
        status=attempt.status,
        failure_class=attempt.failure_class,
        reason=attempt.container_reason or attempt.status_reason,
        exit_code=attempt.exit_code,
        started_at=attempt.started_at,
        stopped_at=attempt.stopped_at,
    )


def _task_report(task: TaskState) -> TaskReport:
    return TaskReport(
        step=task.key.step,
        task_id=task.key.task_id,
        status=task.status,
        attempts=tuple(_attempt_report(a) for a in task.attempts),
    )


def _failure_report(
    failure: Failure, attempt: AttemptState | None, excerpt: FailureExcerpt | None, log_lines: int
) -> FailureReport:
    from_log = excerpt.exception if excerpt else None
    exception = failure.exception or (attempt.exception if attempt else None) or from_log
    traceback = excerpt.traceback if excerpt and log_lines > 0 else ()
    return FailureReport(
        step=failure.step,
        task_id=failure.task_id,
        attempt=failure.attempt,
        failure_class=failure.failure_class,
        reason=failure.status_reason,
        exit_code=failure.exit_code,
        exception=exception[:MAX_EXCEPTION_CHARS] if exception else None,
        log_lines=traceback[-log_lines:] if traceback else (),
    )


def _attempt(task: TaskState | None, number: int | None) -> AttemptState | None:
    if task is None or not task.attempts:
        return None
    for attempt in task.attempts:
        if attempt.attempt == number:
            return attempt
    return task.attempts[-1]


def _links(
    links: LinkBuilder, run: RunState, task: TaskState | None, attempt: AttemptState | None
) -> tuple[tuple[str, str], ...]:
    partition = arn_partition(run.execution_arn)
    found = {
        "dashboard": links.run_page(run.key.flow, run.key.run_id, run.account, run.region),
        "logs": links.log_stream(
            run.region, task.log_group if task else None, attempt.log_stream if attempt else None, partition
        ),
        "batch_job": links.batch_job(run.region, attempt.job_id if attempt else None, partition),
        "execution": links.execution(run.region, run.execution_arn),
    }
    return tuple((name, url) for name, url in found.items() if url)


def _about_run(
    run: RunState,
    *,
    key: str,
    notification_type: str,
    occurred_at: int,
    failure: FailureReport | None = None,
    task: TaskReport | None = None,
    failed_tasks: int = 0,
    message: str | None = None,
    hint: str | None = None,
    links: tuple[tuple[str, str], ...] = (),
) -> Notification:
    return Notification(
        key=key,
        type=notification_type,
        flow=run.key.flow,
        run_id=run.key.run_id,
        account=run.account,
        region=run.region,
        status=run.status,
        orchestrator=run.orchestrator,
        occurred_at=occurred_at,
        user=run.user,
        project=run.project,
        branch=run.branch,
        tags=run.tags,
        started_at=run.started_at,
        finished_at=run.finished_at,
        failure=failure,
        task=task,
        failed_tasks=failed_tasks,
        message=message,
        hint=hint,
        links=links,
    )


def stand_in_run(key: RunKey, orchestrator: str = "unknown") -> RunState:
    """What is known of a run whose item is missing (an alert or a retry seen before the run was written)."""
    return RunState(key=key, orchestrator=orchestrator)


def compose_run(
    key: str,
    notification_type: str,
    run: RunState,
    tasks: Sequence[TaskState],
    links: LinkBuilder,
    now: int,
    excerpt: FailureExcerpt | None = None,
    log_lines: int = 0,
    prices: Prices | None = None,
    failed_tasks: int | None = None,
    usage: UsageTotals | None = None,
) -> Notification:
    """A run transition: the root cause, its attempt history, how many tasks failed with it, and the compute
    its tasks used (priced with `prices` when given).

    `excerpt` is what the root cause's log showed (its exception line is told whenever known); the last
    `log_lines` lines of its traceback are told only when asked for, since logs may hold data.
    `failed_tasks`, when given (from the step summaries), is the count of failed tasks; otherwise `tasks`
    are all of the run's tasks and are counted. `usage`, when given (the step summaries' sum), is the run's
    compute; otherwise `tasks` are summed.
    """
    failure = run.failure
    root = None
    if failure is not None and failure.step:
        root = next(
            (t for t in tasks if (t.key.step, t.key.task_id) == (failure.step, failure.task_id)), None
        )
    if failed_tasks is None:
        failed_tasks = sum(1 for t in tasks if t.status in _FAILED_TASK_STATUSES)
    if failure is not None and failure.step and (root is None or root.status not in _FAILED_TASK_STATUSES):
        failed_tasks += 1  # the root cause itself, when its item lags behind the run's
    attempt = _attempt(root, failure.attempt if failure else None)
    hours = (usage or total(task_usage(t) for t in tasks)).at(run.finished_at or now)
    notification = _about_run(
        run,
        key=key,
        notification_type=notification_type,
        occurred_at=run.finished_at or now,
        failure=_failure_report(failure, attempt, excerpt, log_lines) if failure else None,
        task=_task_report(root) if root else None,
        failed_tasks=failed_tasks,
        links=_links(links, run, root, attempt),
    )
    return replace(notification, usage=hours, estimated_cost_usd=hours.cost(prices or Prices()))


def compose_retry(
    key: str, run: RunState, task: TaskState, attempt_number: int, links: LinkBuilder, now: int
) -> Notification:
    """A task got another attempt after an infrastructure failure (low severity: it may well succeed)."""
    attempt = _attempt(task, attempt_number)
    assert attempt is not None
    failure_class = attempt.failure_class or "unknown"
    reason = attempt.container_reason or attempt.status_reason
    return _about_run(
        run,
        key=key,
        notification_type=TASK_RETRYING,
        occurred_at=attempt.stopped_at or task.last_event_at or now,
        failure=FailureReport(
            step=task.key.step,
            task_id=task.key.task_id,
            attempt=attempt.attempt,
            failure_class=failure_class,
            reason=reason,
            exit_code=attempt.exit_code,
        ),
        task=_task_report(task),
        message=f"attempt {attempt.attempt} failed ({failure_class}); Metaflow is retrying it",
        links=_links(links, run, task, attempt),
    )


def compose_alert(
    key: str, alert: Alert, run: RunState, task: TaskState | None, links: LinkBuilder
) -> Notification:
    """A sweeper alert, with what the table knows about its run and task."""
    attempt = _attempt(task, alert.attempt)
    return _about_run(
        run,
        key=key,
        notification_type=alert.type,
        occurred_at=alert.occurred_at,
        task=_task_report(task) if task else None,
        message=alert.message or None,
        hint=alert.hint,
        links=_links(links, run, task, attempt),
    )


def format_duration(ms: int | None) -> str | None:
    if ms is None:
        return None
    seconds = ms // 1000
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"
