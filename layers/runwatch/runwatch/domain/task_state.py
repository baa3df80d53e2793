"""A task's state: its attempts, merged from Batch observations, and the task status derived from them.

An observation is a partial TaskState built from one event; `merge_task` joins it into the stored state.
Attempt fields are joined by (Batch state rank, value), so a later state never loses to an earlier one, and
failure details are only taken from terminal observations (a RUNNABLE job's status reason is a queue
problem, not why the attempt failed).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from runwatch.domain.failures import classify_failure, is_own_failure
from runwatch.domain.merge import earliest, first_set, latest
from runwatch.domain.vocab import ATTEMPT_STATUS_OF_BATCH, BATCH_RANK, TERMINAL_RANK, TERMINAL_TASK_STATUSES


@dataclass(frozen=True, slots=True)
class AttemptState:
    attempt: int
    batch_status: str
    job_id: str | None = None
    created_at: int | None = None
    started_at: int | None = None
    stopped_at: int | None = None
    status_reason: str | None = None
    container_reason: str | None = None
    exit_code: int | None = None
    log_stream: str | None = None
    # The final exception line of the attempt's log (bounded), once read; None until then or when unknown.
    exception: str | None = None
    # What the attempt's container (a multi-node job: its node's) asked for; None when the event did not say.
    vcpu: float | None = None
    memory_mib: int | None = None
    gpu: int | None = None

    @property
    def rank(self) -> int:
        return BATCH_RANK[self.batch_status]

    @property
    def status(self) -> str:
        return ATTEMPT_STATUS_OF_BATCH[self.batch_status]

    @property
    def failure_class(self) -> str | None:
        if self.status != "failed":
            return None
        return classify_failure(self.status_reason, self.container_reason, self.exit_code)


def _pick(a: AttemptState, b: AttemptState, name: str, terminal_only: bool = False) -> object:
    """The value of `name` from the highest-ranked side that has one (ties: the larger value)."""
    candidates = [
        (side.rank, value)
        for side in (a, b)
        if (value := getattr(side, name)) is not None and (not terminal_only or side.rank == TERMINAL_RANK)
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c[0], str(c[1])))[1]


def merge_attempt(a: AttemptState, b: AttemptState) -> AttemptState:
    if a == b:
        return a
    status = max((a.rank, a.batch_status), (b.rank, b.batch_status))[1]
    return AttemptState(
        attempt=a.attempt,
        batch_status=status,
        job_id=first_set(a.job_id, b.job_id),
        created_at=earliest(a.created_at, b.created_at),
        started_at=earliest(a.started_at, b.started_at),
        stopped_at=latest(a.stopped_at, b.stopped_at),
        status_reason=_pick(a, b, "status_reason", terminal_only=True),  # type: ignore[arg-type]
        container_reason=_pick(a, b, "container_reason", terminal_only=True),  # type: ignore[arg-type]
        exit_code=_pick(a, b, "exit_code", terminal_only=True),  # type: ignore[arg-type]
        log_stream=_pick(a, b, "log_stream"),  # type: ignore[arg-type]
        exception=first_set(a.exception, b.exception),
        vcpu=first_set(a.vcpu, b.vcpu),
        memory_mib=first_set(a.memory_mib, b.memory_mib),
        gpu=first_set(a.gpu, b.gpu),
    )


@dataclass(frozen=True, slots=True)
class TaskKey:
    """A task in its run: the run's identity (see run_state.RunKey) plus step and task id."""

    flow: str
    run_id: str
    step: str
    task_id: str
    account: str = field(kw_only=True)
    region: str = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class Failure:
    """A task's final failure: what a run reports as its root cause."""

    at: int
    step: str
    task_id: str
    attempt: int
    failure_class: str
    status_reason: str | None
    exit_code: int | None
    exception: str | None = None

    def sort_key(self) -> tuple[int, str, str, int]:
        return (self.at, self.step, self.task_id, self.attempt)


@dataclass(frozen=True, slots=True)
class TaskState:
    key: TaskKey
    orchestrator: str
    attempts: tuple[AttemptState, ...] = ()
    max_attempts: int | None = None
    split_index: int | None = None
    job_queue: str | None = None
    blocked_reason: str | None = None
    blocked_at: int | None = None
    last_event_at: int | None = None
    log_group: str | None = field(default=None)

    # -- derived -------------------------------------------------------------------------------------
    @property
    def current(self) -> AttemptState | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def status(self) -> str:
        current = self.current
        if current is None:
            return "pending"
        if current.status != "failed":
            return current.status
        if current.failure_class == "killed":
            return "killed"
        if current.attempt + 1 >= (self.max_attempts or 1):
            return "failed"
        return "retrying"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_TASK_STATUSES

    @property
    def pending_since(self) -> int | None:
        current = self.current
        return current.created_at if current is not None and current.status == "pending" else None

    @property
    def final_failure(self) -> Failure | None:
        """The failure that ends this task, when it failed for a reason of its own."""
        current = self.current
        if self.status != "failed" or current is None:
            return None
        failure_class = current.failure_class or "unknown"
        if not is_own_failure(failure_class):
            return None
        return Failure(
            at=current.stopped_at or self.last_event_at or 0,
            step=self.key.step,
            task_id=self.key.task_id,
            attempt=current.attempt,
            failure_class=failure_class,
            status_reason=current.container_reason or current.status_reason,
            exit_code=current.exit_code,
            exception=current.exception,
        )

    @property
    def killed_at(self) -> int | None:
        current = self.current
        if self.status != "killed" or current is None:
            return None
        return current.stopped_at or self.last_event_at


def merge_task(a: TaskState, b: TaskState) -> TaskState:
    """Join two states of the same task."""
    if a == b:
        return a
    attempts = {x.attempt: x for x in a.attempts}
    for attempt in b.attempts:
        mine = attempts.get(attempt.attempt)
        attempts[attempt.attempt] = attempt if mine is None else merge_attempt(mine, attempt)
    blocked = max(((a.blocked_at or 0, a.blocked_reason or ""), (b.blocked_at or 0, b.blocked_reason or "")))
    return replace(
        a,
        attempts=tuple(attempts[n] for n in sorted(attempts)),
        max_attempts=first_set(a.max_attempts, b.max_attempts),
        split_index=first_set(a.split_index, b.split_index),
        job_queue=first_set(a.job_queue, b.job_queue),
        blocked_reason=blocked[1] or None,
        blocked_at=blocked[0] or None,
        last_event_at=latest(a.last_event_at, b.last_event_at),
        log_group=first_set(a.log_group, b.log_group),
        orchestrator=max(a.orchestrator, b.orchestrator),
    )
