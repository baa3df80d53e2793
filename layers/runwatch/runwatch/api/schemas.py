"""Response models of the status API: the OpenAPI contract. Field names and types here are the API.

Times are ISO 8601 UTC strings (`2026-11-26T19:32:05.123Z`); absent facts are null, never omitted.
The status vocabularies mirror runwatch.domain.vocab (a unit test keeps them equal).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

RunStatus = Literal["running", "succeeded", "failed", "timed_out", "aborted", "unknown"]
TaskStatus = Literal["pending", "starting", "running", "retrying", "succeeded", "failed", "killed"]
AttemptStatus = Literal["pending", "starting", "running", "succeeded", "failed"]
StepStatus = Literal["failed", "running", "pending", "killed", "succeeded"]
FailureClass = Literal[
    "spot_reclaim", "oom", "timeout", "image_pull", "agent", "user_code", "killed", "unknown"
]

Timestamp = Annotated[
    str | None,
    Field(json_schema_extra={"format": "date-time"}, description="ISO 8601 UTC, or null when unknown"),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Usage(_Model):
    """Compute used: each attempt's vCPUs, memory and GPUs (from its Batch job) x its running time (started ->
    stopped, or -> now while running; a finished run's running attempts count to its end)."""

    vcpu_hours: float
    memory_gib_hours: float
    gpu_hours: float
    wasted_vcpu_hours: float = Field(description="vCPU-hours of attempts that failed or were killed")
    estimated_cost_usd: float | None = Field(
        description="at the configured PRICE_VCPU_HOUR, PRICE_GIB_HOUR and PRICE_GPU_HOUR (an unset one counts "
        "as 0); null when none is configured"
    )


class Failure(_Model):
    """A run's root cause: the earliest final task failure of its own (killed siblings never count).

    A run that failed without any failed task (e.g. a Step Functions execution that failed or timed out
    outside a Batch job) has null step, task_id and attempt, and the execution's error as status_reason.
    """

    step: str | None
    task_id: str | None
    attempt: int | None
    failure_class: FailureClass
    status_reason: str | None
    exit_code: int | None
    exception: str | None = Field(
        default=None,
        description="the final exception line of the task's log (at most 500 characters), once read",
    )


class RunSummary(_Model):
    flow: str
    run_id: str
    status: RunStatus
    orchestrator: str = Field(description='"batch" (local runtime on Batch) or "step-functions"')
    user: str | None
    owner: str | None = Field(
        default=None, description="who deployed the Step Functions flow (metaflow.owner); null for local runs"
    )
    project: str | None
    branch: str | None
    tags: list[str]
    started_at: Timestamp
    finished_at: Timestamp
    failure: Failure | None
    account: str = Field(description="the AWS account the run's events come from; part of its identity")
    region: str = Field(description="the AWS region the run's events come from; part of its identity")
    execution_arn: str | None
    state_machine: str | None
    usage: Usage = Field(
        description="in the run detail: the sum of its steps, live; in listings: as written at the run's last "
        "change (its status, a failure), with attempts running then counted up to now (exact once finished)"
    )


class Attempt(_Model):
    attempt: int
    status: AttemptStatus
    job_id: str | None
    job_queue: str | None
    failure_class: FailureClass | None
    status_reason: str | None
    container_reason: str | None
    exit_code: int | None
    created_at: Timestamp
    started_at: Timestamp
    stopped_at: Timestamp
    log_stream: str | None
    log_group: str | None
    exception: str | None = Field(
        default=None,
        description="a failed attempt's final exception line from its log (at most 500 characters), once read",
    )
    vcpu: float | None = Field(default=None, description="vCPUs its container (or node) asked for")
    memory_gib: float | None = Field(default=None, description="memory its container asked for, GiB")
    gpu: int | None = Field(default=None, description="GPUs its container asked for")


class Task(_Model):
    task_id: str
    status: TaskStatus
    split_index: int | None
    blocked_reason: str | None = Field(
        description="why Batch cannot place the job (job queue blocked), if known"
    )
    attempts: list[Attempt]
    usage: Usage = Field(description="the sum of its attempts")


class Durations(_Model):
    """Read from logarithmic buckets with exact counts: each value within `relative_error` of the truth."""

    min_ms: int
    p50_ms: int
    p95_ms: int
    max_ms: int
    finished: int = Field(description="number of finished tasks the spread is of")
    relative_error: float = Field(description="bound on |reported - true| / true for each value")


class Step(_Model):
    step: str
    status: StepStatus = Field(
        description="failed if any task failed; else running if any task is running or starting; else pending "
        "if any is pending or retrying; else killed if any was killed; else succeeded"
    )
    task_counts: dict[str, int] = Field(description="number of tasks per task status (statuses present only)")
    first_started_at: Timestamp = Field(description="earliest start of any attempt of the step's tasks")
    last_stopped_at: Timestamp = Field(description="latest stop of any attempt of the step's tasks")
    attempts: int = Field(description="attempts of all the step's tasks")
    retries: int = Field(description="attempts beyond each task's first")
    durations: Durations | None = Field(
        description="spread of finished tasks' wall times (first start to last stop); null until one finishes"
    )
    usage: Usage = Field(description="the sum of its tasks, exact, from the step's summary")
    tasks: list[Task] = Field(description="the first tasks of the step (at most 100), in display order")
    tasks_next_token: str | None = Field(
        description="next_token for /flows/{flow}/runs/{run_id}/steps/{step}/tasks to page the rest; "
        "null when every task of the step is inline"
    )


class RunDetail(RunSummary):
    steps: list[Step] = Field(
        description="ordered by the earliest attempt creation time of their tasks (ties by name); tasks by "
        "split_index, then task id (numerically when both are digits)"
    )


class TaskPage(_Model):
    tasks: list[Task]
    next_token: str | None = Field(description="pass as next_token for the next page; null on the last page")


class RunPage(_Model):
    runs: list[RunSummary]
    next_token: str | None = Field(description="pass as next_token for the next page; null on the last page")


class FlowEntry(_Model):
    flow: str
    last_run: RunSummary | None = Field(description="the flow's newest run; null once it has expired")


class FlowPage(_Model):
    flows: list[FlowEntry]
    next_token: str | None = Field(description="pass as next_token for the next page; null on the last page")


class Health(_Model):
    status: Literal["ok"]


class LogLine(_Model):
    ts: Timestamp
    message: str


class AttemptLog(_Model):
    """The newest lines of an attempt's log (oldest first); `next_token` asks for the lines before them."""

    log_group: str
    log_stream: str
    lines: list[LogLine]
    exception: str | None = Field(
        description="the attempt's final exception line (at most 500 characters), when its log shows one"
    )
    next_token: str | None = Field(description="pass back as `next_token` for older lines; null at the start")


class ErrorBody(_Model):
    message: str
    parameter: str | None = Field(default=None, description="the request parameter at fault (400 only)")
    request_id: str | None = Field(default=None, description="quote it when reporting a 5xx")
    accounts: list[str] | None = Field(
        default=None, description="the accounts a run id was found in (409 only): ask again with `account`"
    )


class JobLocation(_Model):
    """The Metaflow task attempt a Batch job ran (a node `<job id>#<N>` of a multi-node job: its node's task)."""

    flow: str
    run_id: str
    step: str
    task_id: str
    attempt: int = Field(description="for a Step Functions retry inside the same job: its latest attempt")
    account: str
    region: str


class SearchMatch(_Model):
    kind: Literal["run", "task"]
    flow: str
    run_id: str
    account: str
    region: str
    step: str | None = Field(description="the task's step; null for a run")
    task_id: str | None = Field(description="the task's id; null for a run")
    attempt: int | None = Field(description="the attempt a Batch job id names; null otherwise")


class SearchResult(_Model):
    query: str
    matches: list[SearchMatch] = Field(description="at most 20 runs and tasks the query names")


class DurationSpread(_Model):
    p50: float | None
    p95: float | None
    max: float | None


class RecentRun(_Model):
    run_id: str
    account: str
    region: str
    status: RunStatus
    started_at: Timestamp
    duration_s: float | None


class FlowStats(_Model):
    """A flow's health over its newest finished runs (succeeded, failed, timed_out, aborted)."""

    flow: str
    runs: int = Field(description="finished runs counted (at most the `runs` asked for)")
    by_status: dict[str, int] = Field(description="runs counted per status (statuses present only)")
    success_rate: float | None = Field(description="succeeded / runs counted; null when none")
    duration_s: DurationSpread = Field(
        description="wall time (first seen to finished) of the runs counted, seconds, nearest rank"
    )
    failure_classes: dict[str, int] = Field(description="root cause classes of the failed runs counted")
    failing_steps: dict[str, int] = Field(description="steps of those root causes")
    last_success_at: Timestamp
    last_failure_at: Timestamp = Field(description="the latest finish of a failed or timed out run counted")
    usage: Usage = Field(description="compute used by the runs counted")
    recent: list[RecentRun] = Field(description="the runs counted, newest first (for a duration chart)")
