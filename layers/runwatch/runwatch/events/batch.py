"""Batch job detail -> a task observation and its run's identity (metaflow-events.md §5.1).

Identity comes from `parameters` (and, on Step Functions, the job environment), never from the job name.
Step Functions retries happen inside one job (same job id, `attempts[]` grows); local retries are new jobs
that carry the same task id and the next `metaflow.retry_count`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from runwatch.domain.identity import (
    arn_partition,
    execution_arn,
    parse_state_machine_name,
    read_command,
    sfn_run_id,
)
from runwatch.domain.run_state import RunKey, RunState
from runwatch.domain.task_state import AttemptState, TaskKey, TaskState
from runwatch.domain.vocab import ORCHESTRATOR_BATCH, ORCHESTRATOR_SFN
from runwatch.events.models import BatchJobDetail, JobContainer
from runwatch.events.multinode import NodeTask, job_container, task_of_job

DEFAULT_LOG_GROUP = "/aws/batch/job"
_IN_FLIGHT = frozenset({"SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING"})


@dataclass(frozen=True, slots=True)
class JobObservation:
    """One Batch job event, as what it says about a task and about the task's run."""

    task: TaskState
    run: RunState
    state_machine_arn: str | None = None
    queue_blocked: bool = False


class NotMetaflow(Exception):
    """The job was not submitted by Metaflow: it is counted and ignored, never stored as a flow."""


def is_metaflow_job(detail: BatchJobDetail) -> bool:
    params = detail.parameters
    return bool(params.get("metaflow.flow_name")) and bool(params.get("metaflow.step_name"))


@dataclass(frozen=True, slots=True)
class Resources:
    vcpu: float | None = None
    memory_mib: int | None = None
    gpu: int | None = None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value >= 0 and value == value and value != float("inf") else None


def resources_of(container: JobContainer) -> Resources:
    """VCPU, MEMORY (MiB) and GPU from `resourceRequirements`, else the older `vcpus` and `memory`."""
    asked = {r.type.upper(): n for r in container.resourceRequirements if (n := _number(r.value)) is not None}
    vcpu = asked.get("VCPU", container.vcpus)
    memory = asked.get("MEMORY", container.memory)
    gpu = asked.get("GPU")
    return Resources(
        vcpu=float(vcpu) if vcpu is not None else None,
        memory_mib=int(memory) if memory is not None else None,
        gpu=int(gpu) if gpu is not None else None,
    )


def _attempts(
    detail: BatchJobDetail, current_attempt: int, job_id: str, resources: Resources
) -> tuple[AttemptState, ...]:
    """Every attempt the job shows; each ran in the job's container definition (`resources`).

    While a job is in flight its status belongs to the next attempt, and `attempts[]` lists the earlier ones,
    which failed (Batch-managed retries). Once it is terminal, the last entry of `attempts[]` is the current
    attempt and the job-level reason, container reason and exit code belong to it.
    """
    terminal = detail.status not in _IN_FLIGHT
    shown = detail.attempts
    first_number = current_attempt - len(shown) + (1 if terminal else 0)
    found: list[AttemptState] = []
    for index, attempt in enumerate(shown):
        is_current = terminal and index == len(shown) - 1
        exit_code = attempt.container.exitCode
        if exit_code is None and is_current:
            exit_code = detail.container.exitCode
        found.append(
            AttemptState(
                attempt=first_number + index,
                batch_status=detail.status if is_current else "FAILED",
                job_id=job_id,
                # A retry goes back to RUNNABLE when the attempt before it stops.
                created_at=detail.createdAt if index == 0 else shown[index - 1].stoppedAt,
                started_at=attempt.startedAt,
                stopped_at=attempt.stoppedAt,
                status_reason=(detail.statusReason if is_current else None) or attempt.statusReason,
                container_reason=attempt.container.reason
                or (detail.container.reason if is_current else None),
                exit_code=exit_code,
                log_stream=attempt.container.logStreamName,
                vcpu=resources.vcpu,
                memory_mib=resources.memory_mib,
                gpu=resources.gpu,
            )
        )
    if terminal and shown:
        return tuple(found)
    # In flight, or terminal before any attempt started (cancelled, failed to start): job-level fields.
    found.append(
        AttemptState(
            attempt=current_attempt,
            batch_status=detail.status,
            job_id=job_id,
            created_at=shown[-1].stoppedAt if shown else detail.createdAt,
            started_at=detail.startedAt if detail.status in ("STARTING", "RUNNING") else None,
            stopped_at=detail.stoppedAt if terminal else None,
            status_reason=detail.statusReason if terminal else None,
            container_reason=detail.container.reason if terminal else None,
            exit_code=detail.container.exitCode if terminal else None,
            log_stream=detail.container.logStreamName,
            vcpu=resources.vcpu,
            memory_mib=resources.memory_mib,
            gpu=resources.gpu,
        )
    )
    return tuple(found)


def _log_group(container: JobContainer) -> str:
    options = (container.logConfiguration or {}).get("options")
    if isinstance(options, dict) and isinstance(options.get("awslogs-group"), str):
        return str(options["awslogs-group"])
    return DEFAULT_LOG_GROUP


def _split_index(node: NodeTask, env_value: str | None, command_value: int | None) -> int | None:
    """A node of a multi-node job is its own split; otherwise the environment, then the command line."""
    if node.split_index is not None:
        return node.split_index
    return int(env_value) if env_value and env_value.isdigit() else command_value


def observe_job(
    detail: BatchJobDetail,
    *,
    account: str,
    region: str,
    event_time: datetime,
    queue_blocked: bool = False,
    state_machine_prefix: str | None = None,
) -> JobObservation:
    """Turn one Batch job detail into observations; raises NotMetaflow for foreign jobs.

    `state_machine_prefix` is METAFLOW_SFN_STATE_MACHINE_PREFIX, when the deployment uses one.
    """
    if not is_metaflow_job(detail):
        raise NotMetaflow(detail.jobId)
    params = detail.parameters
    container = job_container(detail)
    env = {item.name: item.value for item in container.environment if item.value is not None}
    command = read_command(container.command)
    flow = params["metaflow.flow_name"]
    step = params["metaflow.step_name"]
    event_ms = int(event_time.timestamp() * 1000)
    state_machine = env.get("SFN_STATE_MACHINE")
    on_step_functions = state_machine is not None or params.get("metaflow.user") == "SFN"

    if on_step_functions:
        name = params.get("metaflow.run_id") or env.get("METAFLOW_RUN_ID") or ""
        if not name:
            raise ValueError("Step Functions job without metaflow.run_id")
        run_id = sfn_run_id(name)
        node = NodeTask(detail.jobId, detail.jobId)
        n = len(detail.attempts)
        current_attempt = n - 1 if detail.status not in _IN_FLIGHT and n else n
        max_attempts = detail.retryStrategy.attempts if detail.retryStrategy else None
        partition = arn_partition(detail.jobArn or detail.jobQueue)
        sm_name = (
            parse_state_machine_name(state_machine, flow, state_machine_prefix) if state_machine else None
        )
        exec_arn = execution_arn(partition, region, account, state_machine, name) if state_machine else None
        run = RunState(
            key=RunKey(flow, run_id, account=account, region=region),
            orchestrator=ORCHESTRATOR_SFN,
            user=None,
            owner=params.get("metaflow.owner") or env.get("METAFLOW_OWNER"),
            production_token=params.get("metaflow.production_token") or env.get("METAFLOW_PRODUCTION_TOKEN"),
            project=sm_name.project if sm_name else None,
            branch=sm_name.branch if sm_name else None,
            state_machine=state_machine,
            execution_arn=exec_arn,
            tags=command.tags,
            first_seen_at=detail.createdAt or event_ms,
        )
        sm_arn = (
            f"arn:{partition}:states:{region}:{account}:stateMachine:{state_machine}"
            if state_machine
            else None
        )
    else:
        run_id = params.get("metaflow.run_id", "")
        task_id = params.get("metaflow.task_id", "")
        retry = params.get("metaflow.retry_count", "0")
        if not run_id or not task_id or not retry.isdigit():
            raise ValueError("Metaflow job without metaflow.run_id, metaflow.task_id or retry_count")
        node = task_of_job(detail, task_id)
        current_attempt = int(retry)
        retries = command.max_user_code_retries
        max_attempts = retries + 1 if retries is not None else None
        run = RunState(
            key=RunKey(flow, run_id, account=account, region=region),
            orchestrator=ORCHESTRATOR_BATCH,
            user=params.get("metaflow.user"),
            branch=command.branch,
            tags=command.tags,
            first_seen_at=detail.createdAt or event_ms,
        )
        sm_arn = None

    task = TaskState(
        key=TaskKey(flow, run_id, step, node.task_id, account=account, region=region),
        orchestrator=run.orchestrator,
        attempts=_attempts(detail, current_attempt, node.job_id, resources_of(container)),
        max_attempts=max_attempts,
        split_index=_split_index(node, env.get("METAFLOW_SPLIT_INDEX"), command.split_index),
        job_queue=detail.jobQueue,
        blocked_reason=detail.statusReason if queue_blocked else None,
        blocked_at=event_ms if queue_blocked else None,
        last_event_at=event_ms,
        log_group=_log_group(container),
    )
    return JobObservation(task=task, run=run, state_machine_arn=sm_arn, queue_blocked=queue_blocked)
