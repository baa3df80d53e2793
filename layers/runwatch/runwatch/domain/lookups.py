"""Finding a run or task from what a person has at hand: a Batch job id, an execution, a pathspec, a run id.

An alarm or the AWS console names a Batch job or a Step Functions execution, a Metaflow client names a
pathspec (`Flow/run_id` or `Flow/run_id/step/task_id`): these rules say which task each job id of a task
stands for, and what kind of lookup a search text asks for, without touching the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runwatch.domain.task_state import TaskKey, TaskState

SFN_RUN_PREFIX = "sfn-"
_EXECUTION_ARN = re.compile(r"^arn:[^:]+:states:([^:]+):(\d{12}):execution:[^:]+:(.+)$")
_BATCH_JOB_ARN = re.compile(r"^arn:[^:]+:batch:[^:]+:\d{12}:job/(.+)$")
MAX_SEARCH_CHARS = 2048


@dataclass(frozen=True, slots=True)
class JobAttempt:
    """The task attempt a Batch job ran (for a Step Functions retry inside one job: its latest attempt)."""

    task: TaskKey
    attempt: int


@dataclass(frozen=True, slots=True)
class JobLookup:
    """A job id's lookup to record: the task attempt the job ran."""

    job_id: str
    task: TaskKey
    attempt: int


def job_attempts(state: TaskState | None) -> dict[str, int]:
    """Each job id among the task's attempts -> the latest attempt it ran."""
    found: dict[str, int] = {}
    for attempt in state.attempts if state is not None else ():
        if attempt.job_id:
            found[attempt.job_id] = max(found.get(attempt.job_id, attempt.attempt), attempt.attempt)
    return found


def new_job_attempts(before: TaskState | None, after: TaskState) -> list[tuple[str, int]]:
    """(job id, attempt) pairs a join made known: a job new to the task, or a later attempt of one."""
    old = job_attempts(before)
    return [(job, n) for job, n in sorted(job_attempts(after).items()) if old.get(job) != n]


@dataclass(frozen=True, slots=True)
class ExecutionRef:
    """A Step Functions execution as given: its ARN (account, region and name) or its name alone."""

    name: str
    arn: str | None = None
    account: str | None = None
    region: str | None = None

    @property
    def run_id(self) -> str:
        """Metaflow's run id of the execution: `sfn-<execution name>`."""
        return f"{SFN_RUN_PREFIX}{self.name}"


def execution_ref(text: str) -> ExecutionRef:
    """An execution ARN or name; raises ValueError for text that is neither."""
    text = text.strip()
    match = _EXECUTION_ARN.match(text)
    if match:
        return ExecutionRef(match.group(3), text, match.group(2), match.group(1))
    if not text or ":" in text or "/" in text or len(text) > 256:
        raise ValueError("not an execution ARN or name")
    return ExecutionRef(text)


@dataclass(frozen=True, slots=True)
class SearchTerm:
    """What a search text asks for.

    `pathspec`: flow and run id, with step and task id for a task. `execution`: an execution ARN. `job`: a
    Batch job ARN. `word`: anything else, tried as a Batch job id, a run id and an execution name.
    """

    kind: str  # "pathspec", "execution", "job" or "word"
    text: str
    flow: str | None = None
    run_id: str | None = None
    step: str | None = None
    task_id: str | None = None
    execution: ExecutionRef | None = None


def parse_search(text: str) -> SearchTerm:
    """The lookup a search text asks for; raises ValueError when it is empty or too long."""
    text = text.strip()
    if not text or len(text) > MAX_SEARCH_CHARS:
        raise ValueError("empty" if not text else "too long")
    if _EXECUTION_ARN.match(text):
        return SearchTerm("execution", text, execution=execution_ref(text))
    job = _BATCH_JOB_ARN.match(text)
    if job:
        return SearchTerm("job", job.group(1))
    parts = text.strip("/").split("/")
    if len(parts) in (2, 3, 4) and all(parts):
        step = parts[2] if len(parts) > 2 else None
        task_id = parts[3] if len(parts) > 3 else None
        return SearchTerm("pathspec", text, flow=parts[0], run_id=parts[1], step=step, task_id=task_id)
    return SearchTerm("word", text)
