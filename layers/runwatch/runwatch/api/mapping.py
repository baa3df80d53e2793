"""Domain and service read models -> the API's response schemas: the one place that knows both shapes.

Times leave as ISO 8601 text (domain/times.py). Usage is computed as of the request (running attempts count
to the current minute; a finished run's to its end) and priced with the API's configured prices (`prices`). Status and failure class strings are the domain's; the
schemas declare the same vocabularies as Literals (a unit test keeps them equal), so they pass unchanged.
"""

from __future__ import annotations

import time

from runwatch.api import schemas
from runwatch.domain.run_state import RunState
from runwatch.domain.step_summary import RELATIVE_ERROR, StepSummary
from runwatch.domain.task_state import Failure, TaskState
from runwatch.domain.times import iso
from runwatch.domain.usage import MIB_PER_GIB, Prices, UsageHours, UsageTotals, task_usage, total
from runwatch.services.attempt_logs import AttemptLogTail
from runwatch.services.queries import FlowLastRun, Listing, RunWithSteps, StepDetail


def failure_of(failure: Failure | None) -> schemas.Failure | None:
    if failure is None:
        return None
    # An execution-level failure has no task (empty step): the API says null, not "".
    has_task = bool(failure.step)
    return schemas.Failure.model_validate(
        {
            "step": failure.step or None,
            "task_id": failure.task_id or None,
            "attempt": failure.attempt if has_task else None,
            "failure_class": failure.failure_class,
            "status_reason": failure.status_reason,
            "exit_code": failure.exit_code,
            "exception": failure.exception,
        }
    )


NO_PRICES = Prices()


USAGE_CLOCK_MS = 60_000


def _now_ms() -> int:
    """Now, to the minute: running attempts' usage moves once a minute, so a polled answer keeps its ETag
    (and gets 304) while nothing else changed."""
    return int(time.time() * 1000) // USAGE_CLOCK_MS * USAGE_CLOCK_MS


def usage_of(hours: UsageHours, prices: Prices) -> schemas.Usage:
    return schemas.Usage.model_validate(_usage_fields(hours, prices))


def _usage_fields(hours: UsageHours, prices: Prices) -> dict[str, object]:
    cost = hours.cost(prices)
    return {
        "vcpu_hours": round(hours.vcpu_hours, 6),
        "memory_gib_hours": round(hours.memory_gib_hours, 6),
        "gpu_hours": round(hours.gpu_hours, 6),
        "wasted_vcpu_hours": round(hours.wasted_vcpu_hours, 6),
        "estimated_cost_usd": None if cost is None else round(cost, 6),
    }


def run_usage(run: RunState, totals: UsageTotals | None, prices: Prices) -> schemas.Usage:
    """A run's usage: attempts still running count to now, or to the run's end once it has one."""
    return usage_of((totals or UsageTotals()).at(run.finished_at or _now_ms()), prices)


def _summary_fields(run: RunState, prices: Prices = NO_PRICES) -> dict[str, object]:
    return {
        "flow": run.key.flow,
        "run_id": run.key.run_id,
        "status": run.status,
        "orchestrator": run.orchestrator,
        "user": run.user,
        "owner": run.owner,
        "project": run.project,
        "branch": run.branch,
        "tags": list(run.tags),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "failure": failure_of(run.failure),
        "region": run.region,
        "account": run.account,
        "execution_arn": run.execution_arn,
        "state_machine": run.state_machine,
        "usage": run_usage(run, run.usage, prices),
    }


def run_summary(run: RunState, prices: Prices = NO_PRICES) -> schemas.RunSummary:
    return schemas.RunSummary.model_validate(_summary_fields(run, prices))


def task_of(state: TaskState, prices: Prices = NO_PRICES, now_ms: int | None = None) -> schemas.Task:
    """A task; its running attempts count up to `now_ms` (default: now)."""
    return schemas.Task.model_validate(_task_fields(state, prices, now_ms or _now_ms()))


def _task_fields(state: TaskState, prices: Prices, now_ms: int) -> dict[str, object]:
    return {
        "task_id": state.key.task_id,
        "status": state.status,
        "split_index": state.split_index,
        "blocked_reason": state.blocked_reason,
        "attempts": [
            {
                "attempt": a.attempt,
                "status": a.status,
                "job_id": a.job_id,
                "job_queue": state.job_queue,
                "failure_class": a.failure_class,
                "status_reason": a.status_reason,
                "container_reason": a.container_reason,
                "exit_code": a.exit_code,
                "created_at": iso(a.created_at),
                "started_at": iso(a.started_at),
                "stopped_at": iso(a.stopped_at),
                "log_stream": a.log_stream,
                "log_group": state.log_group,
                "exception": a.exception,
                "vcpu": a.vcpu,
                "memory_gib": None if a.memory_mib is None else round(a.memory_mib / MIB_PER_GIB, 4),
                "gpu": a.gpu,
            }
            for a in state.attempts
        ],
        "usage": _usage_fields(task_usage(state).at(now_ms), prices),
    }


def durations_of(summary: StepSummary) -> schemas.Durations | None:
    finished = sum(summary.buckets.values())
    quantiles = [summary.duration_quantile(q) for q in (0.0, 0.5, 0.95, 1.0)]
    if not finished or None in quantiles:
        return None
    low, p50, p95, high = (q or 0 for q in quantiles)
    return schemas.Durations(
        min_ms=low,
        p50_ms=p50,
        p95_ms=p95,
        max_ms=high,
        finished=finished,
        relative_error=round(RELATIVE_ERROR, 4),
    )


def step_of(step: StepDetail, prices: Prices = NO_PRICES, now_ms: int | None = None) -> schemas.Step:
    return schemas.Step.model_validate(_step_fields(step, prices, now_ms or _now_ms()))


def _step_fields(step: StepDetail, prices: Prices, now_ms: int) -> dict[str, object]:
    summary = step.summary
    return {
        "step": summary.step,
        "status": step.status,
        "task_counts": summary.task_counts,
        "first_started_at": iso(summary.bounds.earliest_start),
        "last_stopped_at": iso(summary.bounds.latest_stop),
        "attempts": summary.attempts,
        "retries": summary.retries,
        "durations": durations_of(summary),
        "usage": _usage_fields(summary.usage.at(now_ms), prices),
        "tasks": [_task_fields(task, prices, now_ms) for task in step.tasks],
        "tasks_next_token": step.tasks_next_token,
    }


def task_page(listing: Listing[TaskState], prices: Prices = NO_PRICES) -> schemas.TaskPage:
    return schemas.TaskPage(tasks=[task_of(t, prices) for t in listing.items], next_token=listing.next_token)


def run_page(listing: Listing[RunState], prices: Prices = NO_PRICES) -> schemas.RunPage:
    runs = [run_summary(run, prices) for run in listing.items]
    return schemas.RunPage(runs=runs, next_token=listing.next_token)


def flow_page(listing: Listing[FlowLastRun], prices: Prices = NO_PRICES) -> schemas.FlowPage:
    entries = [
        schemas.FlowEntry(flow=e.flow, last_run=run_summary(e.last_run, prices) if e.last_run else None)
        for e in listing.items
    ]
    return schemas.FlowPage(flows=entries, next_token=listing.next_token)


def run_detail(detail: RunWithSteps, prices: Prices = NO_PRICES) -> schemas.RunDetail:
    """The run with its steps; its usage is the sum of its step summaries (all steps, live).

    Steps, tasks and attempts are built as plain fields and validated once, with the run: a model built
    for each of a detail's hundreds of parts cost a third more than validating the whole answer at once."""
    run = detail.run
    now = run.finished_at or _now_ms()
    steps = [_step_fields(step, prices, now) for step in detail.steps]
    live = total(step.summary.usage for step in detail.steps)
    fields = {**_summary_fields(run, prices), "usage": run_usage(run, live, prices), "steps": steps}
    return schemas.RunDetail.model_validate(fields)


def attempt_log(tail: AttemptLogTail) -> schemas.AttemptLog:
    return schemas.AttemptLog(
        log_group=tail.log_group,
        log_stream=tail.log_stream,
        lines=[schemas.LogLine(ts=iso(line.ts_ms), message=line.message) for line in tail.lines],
        exception=tail.exception,
        next_token=tail.next_token,
    )
