"""The EventBridge events runwatch consumes, as frozen dataclasses, and how each is read from its JSON.

Only the fields runwatch reads are declared; AWS adds fields over time and unknown ones are ignored. Each
class's `read` takes a `Fields` (json_fields.py), which names every field that is wrong; attribute names
are AWS's own (camelCase), so the code that reads an event reads like AWS's documentation of it. No
validation library: ingest and the sweeper read these, and their cold start pays for every import.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal, Self, get_args

from runwatch.json_fields import Fields

BATCH_JOB_STATE_CHANGE = "Batch Job State Change"
BATCH_JOB_QUEUE_BLOCKED = "Batch Job Queue Blocked"
SFN_EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change"

JobStatus = Literal["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"]
ExecutionStatus = Literal["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"]
_JOB_STATUSES: tuple[JobStatus, ...] = get_args(JobStatus)
_EXECUTION_STATUSES: tuple[ExecutionStatus, ...] = get_args(ExecutionStatus)
_EXECUTION_ARN = re.compile(r"^arn:[^:]+:states:[^:]*:[^:]*:execution:[^:]+:.+$")


@dataclass(frozen=True, slots=True)
class NameValue:
    name: str
    value: str | None = None


@dataclass(frozen=True, slots=True)
class AttemptContainer:
    exitCode: int | None = None
    reason: str | None = None
    logStreamName: str | None = None

    @classmethod
    def read(cls, fields: Fields) -> Self:
        return cls(
            fields.optional_whole("exitCode"),
            fields.optional_text("reason"),
            fields.optional_text("logStreamName"),
        )


@dataclass(frozen=True, slots=True)
class BatchAttempt:
    container: AttemptContainer = field(default_factory=AttemptContainer)
    startedAt: int | None = None
    stoppedAt: int | None = None
    statusReason: str | None = None

    @classmethod
    def read(cls, fields: Fields) -> Self:
        container = fields.optional_inner("container")
        return cls(
            AttemptContainer.read(container) if container else AttemptContainer(),
            fields.optional_whole("startedAt"),
            fields.optional_whole("stoppedAt"),
            fields.optional_text("statusReason"),
        )


@dataclass(frozen=True, slots=True)
class ResourceRequirement:
    type: str
    value: str

    @classmethod
    def read(cls, fields: Fields) -> Self:
        return cls(fields.text("type"), fields.text("value"))


@dataclass(frozen=True, slots=True, kw_only=True)
class JobContainer:
    command: list[str] = field(default_factory=list)
    resourceRequirements: list[ResourceRequirement] = field(default_factory=list)
    # The older way to ask for resources (vCPUs; memory in MiB), used when resourceRequirements says nothing.
    vcpus: float | None = None
    memory: int | None = None
    environment: list[NameValue] = field(default_factory=list)
    exitCode: int | None = None
    reason: str | None = None
    logStreamName: str | None = None
    logConfiguration: dict[str, object] | None = None

    @classmethod
    def read(cls, fields: Fields) -> Self:
        return cls(
            command=fields.texts("command"),
            resourceRequirements=[
                ResourceRequirement.read(r) for r in fields.inner_list("resourceRequirements")
            ],
            vcpus=fields.optional_number("vcpus"),
            memory=fields.optional_whole("memory"),
            environment=[NameValue(name, value) for name, value in fields.pairs("environment")],
            exitCode=fields.optional_whole("exitCode"),
            reason=fields.optional_text("reason"),
            logStreamName=fields.optional_text("logStreamName"),
            logConfiguration=fields.optional_mapping("logConfiguration"),
        )


@dataclass(frozen=True, slots=True)
class RetryStrategy:
    attempts: int | None = None

    @classmethod
    def read(cls, fields: Fields) -> Self:
        return cls(fields.optional_whole("attempts"))


@dataclass(frozen=True, slots=True)
class NodeDetails:
    """On the event of one node (`<jobId>#<N>`) of a multi-node parallel job."""

    nodeIndex: int | None = None
    isMainNode: bool | None = None

    @classmethod
    def read(cls, fields: Fields) -> Self:
        return cls(fields.optional_whole("nodeIndex", minimum=0), fields.optional_flag("isMainNode"))


@dataclass(frozen=True, slots=True)
class NodeRange:
    targetNodes: str | None = None
    container: JobContainer | None = None

    @classmethod
    def read(cls, fields: Fields) -> Self:
        container = fields.optional_inner("container")
        return cls(fields.optional_text("targetNodes"), JobContainer.read(container) if container else None)


@dataclass(frozen=True, slots=True)
class NodeProperties:
    """On the event of a multi-node parallel job itself (the parent of its nodes)."""

    numNodes: int | None = None
    mainNode: int | None = None
    nodeRangeProperties: list[NodeRange] = field(default_factory=list)

    @classmethod
    def read(cls, fields: Fields) -> Self:
        return cls(
            fields.optional_whole("numNodes"),
            fields.optional_whole("mainNode"),
            [NodeRange.read(r) for r in fields.inner_list("nodeRangeProperties")],
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchJobDetail:
    jobArn: str | None = None
    jobName: str
    jobId: str
    jobQueue: str
    status: JobStatus
    statusReason: str | None = None
    attempts: list[BatchAttempt] = field(default_factory=list)
    createdAt: int | None = None
    startedAt: int | None = None
    stoppedAt: int | None = None
    retryStrategy: RetryStrategy | None = None
    jobDefinition: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    container: JobContainer = field(default_factory=JobContainer)
    tags: dict[str, str] = field(default_factory=dict)
    nodeDetails: NodeDetails | None = None
    nodeProperties: NodeProperties | None = None

    @classmethod
    def read(cls, fields: Fields) -> Self:
        retry, container = fields.optional_inner("retryStrategy"), fields.optional_inner("container")
        node_details, node_properties = (
            fields.optional_inner("nodeDetails"),
            fields.optional_inner("nodeProperties"),
        )
        return cls(
            jobArn=fields.optional_text("jobArn"),
            jobName=fields.text("jobName"),
            jobId=fields.text("jobId", min_length=1),
            jobQueue=fields.text("jobQueue"),
            status=fields.choice("status", _JOB_STATUSES),
            statusReason=fields.optional_text("statusReason"),
            attempts=[BatchAttempt.read(a) for a in fields.inner_list("attempts")],
            createdAt=fields.optional_whole("createdAt"),
            startedAt=fields.optional_whole("startedAt"),
            stoppedAt=fields.optional_whole("stoppedAt"),
            retryStrategy=RetryStrategy.read(retry) if retry else None,
            jobDefinition=fields.optional_text("jobDefinition"),
            parameters=fields.text_map("parameters"),
            container=JobContainer.read(container) if container else JobContainer(),
            tags=fields.text_map("tags"),
            nodeDetails=NodeDetails.read(node_details) if node_details else None,
            nodeProperties=NodeProperties.read(node_properties) if node_properties else None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionDetail:
    executionArn: str
    stateMachineArn: str
    name: str
    status: ExecutionStatus
    startDate: int | None = None
    stopDate: int | None = None
    input: str | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    redriveCount: int | None = None
    redriveDate: int | None = None

    @classmethod
    def read(cls, fields: Fields) -> Self:
        return cls(
            executionArn=fields.text("executionArn", pattern=_EXECUTION_ARN),
            stateMachineArn=fields.text("stateMachineArn"),
            name=fields.text("name", min_length=1),
            status=fields.choice("status", _EXECUTION_STATUSES),
            startDate=fields.optional_whole("startDate"),
            stopDate=fields.optional_whole("stopDate"),
            input=fields.optional_text("input"),
            output=fields.optional_text("output"),
            error=fields.optional_text("error"),
            cause=fields.optional_text("cause"),
            redriveCount=fields.optional_whole("redriveCount"),
            redriveDate=fields.optional_whole("redriveDate"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class EventBridgeModel:
    """The EventBridge envelope: the fields every event has."""

    version: str
    id: str
    source: str
    account: str
    time: datetime
    region: str
    resources: list[str]
    detail_type: str
    replay_name: str | None = None

    @staticmethod
    def read_envelope(fields: Fields) -> dict[str, Any]:
        """The envelope's fields by attribute name, for a subclass's constructor."""
        return {
            "version": fields.text("version"),
            "id": fields.text("id"),
            "source": fields.text("source"),
            "account": fields.text("account"),
            "time": fields.time("time"),
            "region": fields.text("region"),
            "resources": fields.texts("resources", required=True),
            "detail_type": fields.text("detail-type"),
            "replay_name": fields.optional_text("replay-name"),
        }

    def envelope_json(self) -> dict[str, Any]:
        """The envelope as EventBridge sends it (its field names), which `read_envelope` reads back."""
        return {
            "version": self.version,
            "id": self.id,
            "detail-type": self.detail_type,
            "source": self.source,
            "account": self.account,
            "time": self.time.isoformat(),
            "region": self.region,
            "resources": self.resources,
            "replay-name": self.replay_name,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchJobStateChangeEvent(EventBridgeModel):
    """`Batch Job State Change` and `Batch Job Queue Blocked`."""

    detail: BatchJobDetail

    @classmethod
    def read(cls, fields: Fields) -> Self:
        return cls(**cls.read_envelope(fields), detail=BatchJobDetail.read(fields.inner("detail")))


@dataclass(frozen=True, slots=True, kw_only=True)
class StepFunctionsExecutionStatusChangeEvent(EventBridgeModel):
    detail: ExecutionDetail

    @classmethod
    def read(cls, fields: Fields) -> Self:
        return cls(**cls.read_envelope(fields), detail=ExecutionDetail.read(fields.inner("detail")))

    def to_json(self) -> str:
        """The event as JSON that parse_event reads back (a parked execution waits in the table so)."""
        return json.dumps({**self.envelope_json(), "detail": asdict(self.detail)}, separators=(",", ":"))
