"""Conversion between domain states and table items, including the derived, indexed attributes.

Readers and writers of the store convert here (run_queries.py also decodes task items from raw data, faster),
so nothing outside runwatch.store handles a PynamoDB item.
"""

from __future__ import annotations

from dataclasses import fields

from runwatch.domain.markers import Marker
from runwatch.domain.run_state import ExecutionFact, RunKey, RunState
from runwatch.domain.task_state import AttemptState, Failure, TaskKey, TaskState
from runwatch.domain.times import iso
from runwatch.domain.usage import UsageTotals
from runwatch.store.keys import (
    ACTIVE_RUN,
    INDEXED_TASK_STATUSES,
    RECENT_RUNS,
    RUN_SK,
    flow_pk,
    marker_of_pk,
    project_only_pk,
    project_pk,
    queue_pk,
    run_id_pk,
    run_pk,
    started_sk,
    status_pk,
    step_status_pk,
    step_tasks_pk,
    task_order_sk,
    task_sk,
    user_pk,
)
from runwatch.store.models import (
    AttemptAttribute,
    ExecutionAttribute,
    FailureAttribute,
    MarkerItem,
    RunItem,
    TaskItem,
    UsageAttribute,
)

DAY_SECONDS = 86_400


def _failure_attr(failure: Failure) -> FailureAttribute:
    return FailureAttribute(
        at=failure.at,
        step=failure.step,
        task_id=failure.task_id,
        attempt=failure.attempt,
        failure_class=failure.failure_class,
        status_reason=failure.status_reason,
        exit_code=failure.exit_code,
        exception=failure.exception,
    )


def _failure(attr: FailureAttribute) -> Failure:
    return Failure(
        at=int(attr.at),
        step=attr.step,
        task_id=attr.task_id,
        attempt=int(attr.attempt),
        failure_class=attr.failure_class,
        status_reason=attr.status_reason,
        exit_code=_int(attr.exit_code),
        exception=attr.exception,
    )


def usage_attr(usage: UsageTotals | None) -> UsageAttribute | None:
    if usage is None:
        return None
    return UsageAttribute(**{f.name: getattr(usage, f.name) for f in fields(UsageTotals)})


def usage_of_attr(attr: UsageAttribute | None) -> UsageTotals | None:
    if attr is None:
        return None
    return UsageTotals(**{f.name: int(getattr(attr, f.name) or 0) for f in fields(UsageTotals)})


def _int(value: float | int | None) -> int | None:
    return None if value is None else int(value)


def expiry(now_ms: int, retention_days: int) -> int:
    """The TTL attribute (epoch seconds) of an item kept `retention_days` from `now_ms`."""
    return now_ms // 1000 + retention_days * DAY_SECONDS


def run_to_item(state: RunState, version: int | None, now_ms: int, retention_days: int) -> RunItem:
    """The run's item. Every write of it carries `active_pk` (the sweeper's `active_keys` index), finished or
    not: only the sweeper takes a run out, once it has ended and its step summaries count no unfinished task, so
    a run that failed while events of its tasks were lost stays in the sweeper's view (store/active.py,
    docs/design.md §3)."""
    key = state.key
    pk = run_pk(key.account, key.region, key.flow, key.run_id)
    status = state.status
    started = iso(state.started_at) or iso(now_ms) or ""
    item = RunItem(
        pk,
        RUN_SK,
        status=status,
        flow=key.flow,
        run_id=key.run_id,
        orchestrator=state.orchestrator,
        user=state.user,
        owner=state.owner,
        production_token=state.production_token,
        project=state.project,
        branch=state.branch,
        tags=list(state.tags),
        region=key.region,
        account=key.account,
        state_machine=state.state_machine,
        execution_arn=state.execution_arn,
        first_seen_at=state.first_seen_at,
        execution=ExecutionAttribute(
            redrive_count=state.execution.redrive_count,
            terminal=state.execution.terminal,
            at=state.execution.at,
            status=state.execution.status,
            error=state.execution.error,
            cause=state.execution.cause,
        )
        if state.execution
        else None,
        execution_stopped_at=state.execution_stopped_at,
        redrive_at=state.redrive_at,
        end_succeeded_at=state.end_succeeded_at,
        failures=[_failure_attr(f) for f in state.failures],
        killed_at=state.killed_at,
        abandoned_at=state.abandoned_at,
        activity_at=state.activity_at,
        usage=usage_attr(state.usage),
        started_at=iso(state.started_at),
        finished_at=iso(state.finished_at),
        failure=_failure_attr(state.failure) if state.failure else None,
        flow_pk=flow_pk(key.flow),
        recent_pk=RECENT_RUNS,
        status_pk=status_pk(status),
        started_sk=started_sk(started, key.run_id),
        run_id_pk=run_id_pk(key.run_id),
        user_pk=user_pk(state.user) if state.user else None,
        project_pk=project_pk(state.project, state.branch) if state.project and state.branch else None,
        project_only_pk=project_only_pk(state.project) if state.project else None,
        expires_at=expiry(now_ms, retention_days),
    )
    item.active_pk = ACTIVE_RUN
    if version is not None:
        item.version = version
    return item


def run_from_item(item: RunItem) -> RunState:
    execution = item.execution
    return RunState(
        key=RunKey(item.flow, item.run_id, account=item.account, region=item.region),
        orchestrator=item.orchestrator,
        user=item.user,
        owner=item.owner,
        production_token=item.production_token,
        project=item.project,
        branch=item.branch,
        tags=tuple(item.tags or ()),
        state_machine=item.state_machine,
        execution_arn=item.execution_arn,
        first_seen_at=_int(item.first_seen_at),
        execution=ExecutionFact(
            redrive_count=int(execution.redrive_count),
            terminal=bool(execution.terminal),
            at=int(execution.at),
            status=execution.status,
            error=execution.error,
            cause=execution.cause,
        )
        if execution
        else None,
        execution_stopped_at=_int(item.execution_stopped_at),
        redrive_at=_int(item.redrive_at),
        end_succeeded_at=_int(item.end_succeeded_at),
        failures=tuple(_failure(f) for f in item.failures or ()),
        killed_at=_int(item.killed_at),
        abandoned_at=_int(item.abandoned_at),
        activity_at=_int(item.activity_at),
        usage=usage_of_attr(item.usage),
    )


def task_to_item(state: TaskState, version: int | None, now_ms: int, retention_days: int) -> TaskItem:
    key = state.key
    pk, sk = run_pk(key.account, key.region, key.flow, key.run_id), task_sk(key.step, key.task_id)
    status = state.status
    item = TaskItem(
        pk,
        sk,
        status=status,
        flow=key.flow,
        run_id=key.run_id,
        account=key.account,
        region=key.region,
        step=key.step,
        task_id=key.task_id,
        orchestrator=state.orchestrator,
        attempts=[
            AttemptAttribute(
                attempt=a.attempt,
                batch_status=a.batch_status,
                job_id=a.job_id,
                created_at=a.created_at,
                started_at=a.started_at,
                stopped_at=a.stopped_at,
                status_reason=a.status_reason,
                container_reason=a.container_reason,
                exit_code=a.exit_code,
                log_stream=a.log_stream,
                exception=a.exception,
                vcpu=a.vcpu,
                memory_mib=a.memory_mib,
                gpu=a.gpu,
            )
            for a in state.attempts
        ],
        max_attempts=state.max_attempts,
        split_index=state.split_index,
        job_queue=state.job_queue,
        blocked_reason=state.blocked_reason,
        blocked_at=state.blocked_at,
        last_event_at=state.last_event_at,
        log_group=state.log_group,
        has_failed_attempt=any(a.status == "failed" for a in state.attempts) or None,
        step_pk=step_tasks_pk(key.account, key.region, key.flow, key.run_id, key.step),
        task_order_sk=task_order_sk(state.split_index, key.task_id),
        expires_at=expiry(now_ms, retention_days),
    )
    if status in INDEXED_TASK_STATUSES:
        item.step_status_pk = step_status_pk(key.account, key.region, key.flow, key.run_id, key.step, status)
    # No `active_pk`: the sweeper finds a run's unfinished tasks from its step summaries (store/active.py).
    if status == "pending" and state.job_queue:
        item.queue_pk = queue_pk(state.job_queue)
    if version is not None:
        item.version = version
    return item


def task_from_item(item: TaskItem) -> TaskState:
    return TaskState(
        key=TaskKey(
            item.flow, item.run_id, item.step, item.task_id, account=item.account, region=item.region
        ),
        orchestrator=item.orchestrator,
        attempts=tuple(
            AttemptState(
                attempt=int(a.attempt),
                batch_status=a.batch_status,
                job_id=a.job_id,
                created_at=_int(a.created_at),
                started_at=_int(a.started_at),
                stopped_at=_int(a.stopped_at),
                status_reason=a.status_reason,
                container_reason=a.container_reason,
                exit_code=_int(a.exit_code),
                log_stream=a.log_stream,
                exception=a.exception,
                vcpu=a.vcpu,
                memory_mib=_int(a.memory_mib),
                gpu=_int(a.gpu),
            )
            for a in item.attempts or ()
        ),
        max_attempts=_int(item.max_attempts),
        split_index=_int(item.split_index),
        job_queue=item.job_queue,
        blocked_reason=item.blocked_reason,
        blocked_at=_int(item.blocked_at),
        last_event_at=_int(item.last_event_at),
        log_group=item.log_group,
    )


def marker_from_item(item: MarkerItem) -> Marker:
    kind, subject = marker_of_pk(item.pk)
    return Marker(kind, subject, item.sk, int(item.created_at), item.detail)
