"""A run's state: facts joined from task states and Step Functions executions, and the status derived.

Run status rules (ingest issue):
- Step Functions: the newest execution fact decides, ordered by (redrive count, terminal, time), never by
  arrival; until one is known the run is inferred like a local run.
- Local runtime (no run-level event): succeeded once `end` succeeds, failed at the first final task failure
  of its own, aborted when tasks were only killed by Metaflow, unknown once the sweeper finds it abandoned.
The root cause is the earliest own failure after the last redrive; killed siblings never count.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from runwatch.domain.merge import earliest, first_set, latest
from runwatch.domain.task_state import Failure, TaskKey, TaskState
from runwatch.domain.usage import UsageTotals
from runwatch.domain.vocab import RUN_STATUS_OF_EXECUTION, TERMINAL_RUN_STATUSES

# Enough candidates to find the first failure after a redrive; more would only grow the item.
MAX_FAILURE_CANDIDATES = 10
END_STEP = "end"


@dataclass(frozen=True, slots=True)
class ExecutionFact:
    """One Step Functions execution status, with what orders it against the others."""

    redrive_count: int
    terminal: bool
    at: int
    status: str
    error: str | None = None
    cause: str | None = None

    def order(self) -> tuple[int, bool, int, str]:
        return (self.redrive_count, self.terminal, self.at, self.status)


@dataclass(frozen=True, slots=True)
class RunKey:
    """A run's identity: Metaflow's (flow, run id) in the account and region its events come from.

    Run ids of two metadata services collide (`TrainFlow/42` in dev and prod), so the account and region are
    part of the key (docs/design.md §2); they are keywords so a call site says which is which.
    """

    flow: str
    run_id: str
    account: str = field(kw_only=True)
    region: str = field(kw_only=True)


def run_key_of(task: TaskKey) -> RunKey:
    """The key of the run a task belongs to."""
    return RunKey(task.flow, task.run_id, account=task.account, region=task.region)


@dataclass(frozen=True, slots=True)
class RunState:
    key: RunKey
    orchestrator: str
    user: str | None = None
    owner: str | None = None
    production_token: str | None = None
    project: str | None = None
    branch: str | None = None
    tags: tuple[str, ...] = ()
    state_machine: str | None = None
    execution_arn: str | None = None
    first_seen_at: int | None = None
    execution: ExecutionFact | None = None
    execution_stopped_at: int | None = None
    redrive_at: int | None = None
    end_succeeded_at: int | None = None
    failures: tuple[Failure, ...] = ()
    killed_at: int | None = None
    abandoned_at: int | None = None
    # Joined like the rest, but a change of it alone is not worth a write (see `material`).
    activity_at: int | None = None
    # The sum of its step summaries' compute when the run was last written (for listings; not a fact joined
    # from events: ingest reads it before each write of the run and writes it along, and a join keeps the
    # stored one).
    usage: UsageTotals | None = None

    # -- derived -------------------------------------------------------------------------------------
    @property
    def account(self) -> str:
        return self.key.account

    @property
    def region(self) -> str:
        return self.key.region

    @property
    def status(self) -> str:
        if self.execution is not None:
            return RUN_STATUS_OF_EXECUTION.get(self.execution.status, "unknown")
        if self.end_succeeded_at is not None:
            return "succeeded"
        if self.failures:
            return "failed"
        if self.killed_at is not None:
            return "aborted"
        if self.abandoned_at is not None and (self.activity_at or 0) <= self.abandoned_at:
            return "unknown"
        return "running"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_RUN_STATUSES

    @property
    def failure(self) -> Failure | None:
        """The root cause, or None when the run has none (running, succeeded, aborted by a user)."""
        status = self.status
        if status in ("running", "succeeded"):
            return None
        since = self.redrive_at or 0
        for candidate in self.failures:
            if candidate.at >= since:
                return candidate
        if status in ("failed", "timed_out") and self.execution is not None:
            return Failure(
                at=self.execution.at,
                step="",
                task_id="",
                attempt=0,
                failure_class="timeout" if status == "timed_out" else "unknown",
                status_reason=_execution_reason(self.execution),
                exit_code=None,
            )
        return None

    @property
    def started_at(self) -> int | None:
        return self.first_seen_at

    @property
    def finished_at(self) -> int | None:
        status = self.status
        if status in ("running", "unknown"):
            return None
        if self.execution is not None:
            return self.execution_stopped_at or self.execution.at
        if status == "succeeded":
            return self.end_succeeded_at
        if status == "failed":
            failure = self.failure
            return failure.at if failure else None
        return self.killed_at

    def material(self) -> RunState:
        """The state without fields whose change alone does not need to be persisted.

        Activity counts only through the status it decides: news after an abandonment revives the run, so
        the abandonment is material while it makes the run unknown and immaterial once it no longer does.
        """
        return replace(
            self,
            activity_at=None,
            abandoned_at=self.abandoned_at if self.status == "unknown" else None,
            usage=None,
        )


def _execution_reason(execution: ExecutionFact) -> str | None:
    parts = [p for p in (execution.error, execution.cause) if p]
    return ": ".join(parts) if parts else None


def _merge_execution(a: ExecutionFact | None, b: ExecutionFact | None) -> ExecutionFact | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b, key=lambda e: (e.order(), e.error or "", e.cause or ""))


def _join_failures(a: tuple[Failure, ...], b: tuple[Failure, ...]) -> list[Failure]:
    """Both sides' failures, once each: a failure whose exception line became known later replaces the
    same failure without it (the larger exception line wins a tie, so any order joins alike)."""
    joined: dict[Failure, Failure] = {}
    for failure in (*a, *b):
        same = replace(failure, exception=None)
        kept = joined.get(same)
        if kept is None or (failure.exception or "") > (kept.exception or ""):
            joined[same] = failure
    return list(joined.values())


def merge_run(a: RunState, b: RunState) -> RunState:
    """Join two states of the same run."""
    if a == b:
        return a
    failures = sorted(_join_failures(a.failures, b.failures), key=Failure.sort_key)
    return replace(
        a,
        orchestrator=max(a.orchestrator, b.orchestrator),
        user=first_set(a.user, b.user),
        owner=first_set(a.owner, b.owner),
        production_token=first_set(a.production_token, b.production_token),
        project=first_set(a.project, b.project),
        branch=first_set(a.branch, b.branch),
        tags=tuple(sorted(set(a.tags) | set(b.tags))),
        state_machine=first_set(a.state_machine, b.state_machine),
        execution_arn=first_set(a.execution_arn, b.execution_arn),
        first_seen_at=earliest(a.first_seen_at, b.first_seen_at),
        execution=_merge_execution(a.execution, b.execution),
        execution_stopped_at=latest(a.execution_stopped_at, b.execution_stopped_at),
        redrive_at=latest(a.redrive_at, b.redrive_at),
        end_succeeded_at=latest(a.end_succeeded_at, b.end_succeeded_at),
        failures=tuple(failures[:MAX_FAILURE_CANDIDATES]),
        killed_at=earliest(a.killed_at, b.killed_at),
        abandoned_at=latest(a.abandoned_at, b.abandoned_at),
        activity_at=latest(a.activity_at, b.activity_at),
        usage=a.usage or b.usage,
    )


def run_observation_of_task(task: TaskState, run: RunState) -> RunState:
    """What a task's (merged) state tells about its run; `run` carries the identity from the same job."""
    failure = task.final_failure
    succeeded_end = task.key.step == END_STEP and task.status == "succeeded"
    current = task.current
    return replace(
        run,
        end_succeeded_at=(current.stopped_at or task.last_event_at) if succeeded_end and current else None,
        failures=(failure,) if failure else (),
        killed_at=task.killed_at,
        activity_at=task.last_event_at,
    )
