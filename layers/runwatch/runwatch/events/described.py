"""DescribeJobs / DescribeExecution answers -> the EventBridge events they stand for.

Reconciliation and backfill are just more event sources: what AWS answers is wrapped into the envelope the
live event would have had and goes through the same ingest rules. The event time is the time of the latest
thing the answer shows (a stop, a start, the creation), never the time of asking, so an answer that tells
nothing new joins as a duplicate and writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from runwatch.events.models import BATCH_JOB_STATE_CHANGE, SFN_EXECUTION_STATUS_CHANGE

# Execution fields the live event carries. `input` is left out: ingest never reads it and it can be 256 KB.
_EXECUTION_FIELDS = (
    "executionArn",
    "stateMachineArn",
    "name",
    "status",
    "startDate",
    "stopDate",
    "output",
    "outputDetails",
    "error",
    "cause",
    "redriveCount",
    "redriveDate",
    "redriveStatus",
    "stateMachineVersionArn",
    "stateMachineAliasArn",
)


def epoch_ms(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


def _jsonable(value: Any) -> Any:
    """boto3 answers with datetimes where EventBridge events carry epoch milliseconds."""
    if isinstance(value, datetime):
        return epoch_ms(value)
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def event_time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _arn_parts(arn: str) -> tuple[str, str]:
    """(region, account) of an ARN."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        raise ValueError(f"not an ARN: {arn!r}")
    return parts[3], parts[4]


def _latest_time(job: Mapping[str, Any]) -> int | None:
    times = [job.get("createdAt"), job.get("startedAt"), job.get("stoppedAt")]
    for attempt in job.get("attempts") or ():
        times += [attempt.get("startedAt"), attempt.get("stoppedAt")]
    known = [t for t in times if isinstance(t, int)]
    return max(known) if known else None


def batch_job_event(job: Mapping[str, Any], now_ms: int) -> dict[str, Any]:
    """A DescribeJobs JobDetail as the `Batch Job State Change` event of its current state."""
    detail = _jsonable(job)
    arn = detail.get("jobArn") or detail.get("jobQueue") or ""
    region, account = _arn_parts(arn)
    attempts = detail.get("attempts") or []
    return {
        "version": "0",
        "id": f"described-{detail.get('jobId')}-{detail.get('status')}-{len(attempts)}",
        "detail-type": BATCH_JOB_STATE_CHANGE,
        "source": "aws.batch",
        "account": account,
        "time": event_time(_latest_time(detail) or now_ms),
        "region": region,
        "resources": [detail["jobArn"]] if detail.get("jobArn") else [],
        "detail": detail,
    }


def execution_event(execution: Mapping[str, Any], now_ms: int) -> dict[str, Any]:
    """A DescribeExecution answer as the `Step Functions Execution Status Change` event of its status."""
    detail = {k: _jsonable(execution[k]) for k in _EXECUTION_FIELDS if execution.get(k) is not None}
    region, account = _arn_parts(detail["executionArn"])
    at = detail.get("stopDate") or detail.get("redriveDate") or detail.get("startDate") or now_ms
    return {
        "version": "0",
        "id": f"described-{detail.get('name')}-{detail.get('status')}-{detail.get('redriveCount') or 0}",
        "detail-type": SFN_EXECUTION_STATUS_CHANGE,
        "source": "aws.states",
        "account": account,
        "time": event_time(at),
        "region": region,
        "resources": [detail["executionArn"]],
        "detail": detail,
    }
