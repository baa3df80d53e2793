"""pydantic models of the EventBridge events runwatch consumes.

Only the fields runwatch reads are declared; AWS adds fields over time and unknown ones are ignored. The
envelope is declared here rather than taken from Powertools Parser: importing its EventBridgeModel loads
every one of Parser's event models, about as long as pydantic itself at each cold start.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

BATCH_JOB_STATE_CHANGE = "Batch Job State Change"
BATCH_JOB_QUEUE_BLOCKED = "Batch Job Queue Blocked"
SFN_EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change"


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class EventBridgeModel(_Tolerant):
    """The EventBridge envelope: the fields every event has (as Powertools Parser's EventBridgeModel)."""

    version: str
    id: str
    source: str
    account: str
    time: datetime
    region: str
    resources: list[str]
    detail_type: str = Field(alias="detail-type")
    replay_name: str | None = Field(default=None, alias="replay-name")


class NameValue(_Tolerant):
    name: str
    value: str | None = None


class AttemptContainer(_Tolerant):
    exitCode: int | None = None
    reason: str | None = None
    logStreamName: str | None = None


class BatchAttempt(_Tolerant):
    container: AttemptContainer = Field(default_factory=AttemptContainer)
    startedAt: int | None = None
    stoppedAt: int | None = None
    statusReason: str | None = None


class ResourceRequirement(_Tolerant):
    type: str
    value: str


class JobContainer(_Tolerant):
    command: list[str] = Field(default_factory=list)
    resourceRequirements: list[ResourceRequirement] = Field(default_factory=list)
    # The older way to ask for resources (vCPUs; memory in MiB), used when resourceRequirements says nothing.
    vcpus: float | None = None
    memory: int | None = None
    environment: list[NameValue] = Field(default_factory=list)
    exitCode: int | None = None
    reason: str | None = None
    logStreamName: str | None = None
    logConfiguration: dict[str, object] | None = None


class RetryStrategy(_Tolerant):
    attempts: int | None = None


class NodeDetails(_Tolerant):
    """On the event of one node (`<jobId>#<N>`) of a multi-node parallel job."""

    nodeIndex: int | None = Field(default=None, ge=0)
    isMainNode: bool | None = None


class NodeRange(_Tolerant):
    targetNodes: str | None = None
    container: JobContainer | None = None


class NodeProperties(_Tolerant):
    """On the event of a multi-node parallel job itself (the parent of its nodes)."""

    numNodes: int | None = None
    mainNode: int | None = None
    nodeRangeProperties: list[NodeRange] = Field(default_factory=list)


class BatchJobDetail(_Tolerant):
    jobArn: str | None = None
    jobName: str
    jobId: str = Field(min_length=1)
    jobQueue: str
    status: Literal["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"]
    statusReason: str | None = None
    attempts: list[BatchAttempt] = Field(default_factory=list)
    createdAt: int | None = None
    startedAt: int | None = None
    stoppedAt: int | None = None
    retryStrategy: RetryStrategy | None = None
    jobDefinition: str | None = None
    parameters: dict[str, str] = Field(default_factory=dict)
    container: JobContainer = Field(default_factory=JobContainer)
    tags: dict[str, str] = Field(default_factory=dict)
    nodeDetails: NodeDetails | None = None
    nodeProperties: NodeProperties | None = None


class BatchJobStateChangeEvent(EventBridgeModel):
    source: Literal["aws.batch"]
    detail_type: Literal["Batch Job State Change", "Batch Job Queue Blocked"] = Field(alias="detail-type")
    detail: BatchJobDetail


class ExecutionDetail(_Tolerant):
    executionArn: str = Field(pattern=r"^arn:[^:]+:states:[^:]*:[^:]*:execution:[^:]+:.+$")
    stateMachineArn: str
    name: str = Field(min_length=1)
    status: Literal["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"]
    startDate: int | None = None
    stopDate: int | None = None
    input: str | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    redriveCount: int | None = None
    redriveDate: int | None = None


class StepFunctionsExecutionStatusChangeEvent(EventBridgeModel):
    source: Literal["aws.states"]
    detail_type: Literal["Step Functions Execution Status Change"] = Field(alias="detail-type")
    detail: ExecutionDetail
