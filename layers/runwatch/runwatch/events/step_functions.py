"""Step Functions execution detail -> an execution observation (metaflow-events.md §5.2).

An execution names no flow: the flow comes from the state machine (a registry fed by Batch events or
DescribeStateMachine) or from Metaflow's own markers in the event (`output` on success, the failed job in
`cause` on States.TaskFailed). Without one of those the event waits until its run is identified.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from runwatch.domain.identity import parse_state_machine_name, sfn_run_id
from runwatch.domain.run_state import ExecutionFact, RunKey, RunState
from runwatch.domain.vocab import ORCHESTRATOR_SFN
from runwatch.events.models import BatchJobDetail, ExecutionDetail
from runwatch.json_fields import InvalidFields, read_object

_CAUSE_SUMMARY_LIMIT = 500


@dataclass(frozen=True, slots=True)
class ExecutionObservation:
    execution_arn: str
    state_machine_arn: str
    state_machine: str
    run_id: str
    fact: ExecutionFact
    started_at: int | None
    stopped_at: int | None
    redrive_at: int | None
    region: str
    account: str
    flow_hint: str | None
    failed_job: BatchJobDetail | None

    def run_state(self, flow: str, state_machine_prefix: str | None = None) -> RunState:
        names = parse_state_machine_name(self.state_machine, flow, state_machine_prefix)
        return RunState(
            key=RunKey(flow, self.run_id, account=self.account, region=self.region),
            orchestrator=ORCHESTRATOR_SFN,
            project=names.project,
            branch=names.branch,
            state_machine=self.state_machine,
            execution_arn=self.execution_arn,
            first_seen_at=self.started_at,
            execution=self.fact,
            execution_stopped_at=self.stopped_at,
            redrive_at=self.redrive_at,
            activity_at=self.fact.at,
        )


def _camel(value: Any) -> Any:
    """Step Functions' `cause` is the job description with PascalCase keys; the event detail is camelCase."""
    if isinstance(value, dict):
        return {(k[:1].lower() + k[1:]): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def _json_object(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _failed_job(cause: dict[str, Any] | None) -> BatchJobDetail | None:
    if not cause or "JobId" not in cause:
        return None
    job = _camel(cause)
    # Parameter names are Metaflow's own and must keep their case.
    job["parameters"] = cause.get("Parameters") or {}
    job["tags"] = cause.get("Tags") or {}
    try:
        return read_object(job, BatchJobDetail.read)
    except InvalidFields:
        return None


def _cause_summary(error: str | None, cause: dict[str, Any] | None, raw: str | None) -> str | None:
    if cause and "JobId" in cause:
        step = (cause.get("Parameters") or {}).get("metaflow.step_name")
        reason = cause.get("StatusReason")
        return (
            f"Batch job {cause['JobId']} ({step}) failed: {reason}" if step else f"Batch job failed: {reason}"
        )
    if raw:
        return raw[:_CAUSE_SUMMARY_LIMIT]
    return None


def observe_execution(
    detail: ExecutionDetail, *, account: str, region: str, event_time: datetime
) -> ExecutionObservation:
    terminal = detail.status not in ("RUNNING",)
    event_ms = int(event_time.timestamp() * 1000)
    at = detail.stopDate or event_ms if terminal else detail.redriveDate or detail.startDate or event_ms
    cause = _json_object(detail.cause)
    output = _json_object(detail.output)
    flow_hint = None
    for source in (output, cause):
        params = (source or {}).get("Parameters")
        if isinstance(params, dict) and isinstance(params.get("metaflow.flow_name"), str):
            flow_hint = params["metaflow.flow_name"]
            break
    return ExecutionObservation(
        execution_arn=detail.executionArn,
        state_machine_arn=detail.stateMachineArn,
        state_machine=detail.stateMachineArn.split(":")[-1],
        run_id=sfn_run_id(detail.name),
        fact=ExecutionFact(
            redrive_count=detail.redriveCount or 0,
            terminal=terminal,
            at=at,
            status=detail.status,
            error=detail.error,
            cause=_cause_summary(detail.error, cause, detail.cause),
        ),
        started_at=detail.startDate,
        stopped_at=detail.stopDate if terminal else None,
        redrive_at=detail.redriveDate,
        region=region,
        account=account,
        flow_hint=flow_hint,
        failed_job=_failed_job(cause),
    )
