"""Synthetic Metaflow runs as the EventBridge events AWS would emit for them.

The shapes follow the real payloads in `events/` (parameters, environment and command line exactly as
Metaflow writes them, trimmed of what runwatch does not read). Used by the local demo, the benchmark and the
property tests, so each of them exercises the same parsing as production events.
"""

from __future__ import annotations

import random
import shlex
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
QUEUE = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/metaflow-queue"
JOB_DEFINITION = (
    f"arn:aws:batch:{REGION}:{ACCOUNT}:job-definition/"
    "metaflow_b9c471329d1901620b402dc7c848ef88c9452b4979e9fdc507909f48:1"
)
LOG_PREFIX = "metaflow_b9c471329d1901620b402dc7c848ef88c9452b4979e9fdc507909f48/default/"

# How an attempt ends: (Batch status, statusReason, container reason, exit code).
OUTCOMES: dict[str, tuple[str, str | None, str | None, int | None]] = {
    "ok": ("SUCCEEDED", "Essential container in task exited", None, 0),
    "user_code": ("FAILED", "Essential container in task exited", None, 1),
    "oom": (
        "FAILED",
        "Essential container in task exited",
        "OutOfMemoryError: Container killed due to memory usage",
        137,
    ),
    "spot": ("FAILED", "Host EC2 (instance i-08784105ffff56b4f) terminated.", None, None),
    "timeout": ("FAILED", "Job attempt duration exceeded timeout", None, 137),
    "image_pull": (
        "FAILED",
        "Task failed to start",
        "CannotPullContainerError: pull access denied for repository",
        None,
    ),
    "killed": ("FAILED", "Metaflow initiated job termination.", None, 143),
}


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class RunSpec:
    """One run to simulate. `outcomes[step][i]` lists how each attempt of the i-th task of `step` ends."""

    flow: str
    run_id: str
    orchestrator: str = "batch"  # or "step-functions"
    user: str = "alice"
    tags: tuple[str, ...] = ()
    state_machine: str | None = None
    fanout: int = 3
    max_retries: int = 2
    outcomes: dict[str, dict[int, list[str]]] = field(default_factory=dict)
    start_ms: int = 0
    execution_outcome: str | None = None  # SFN: SUCCEEDED/FAILED/TIMED_OUT/ABORTED, None = derived


@dataclass
class _Clock:
    now: int

    def tick(self, rng: random.Random, low: int, high: int) -> int:
        self.now += rng.randint(low, high)
        return self.now


class EventFactory:
    def __init__(self, account: str = ACCOUNT, region: str = REGION) -> None:
        self.account = account
        self.region = region

    def _envelope(
        self, detail_type: str, source: str, at_ms: int, resources: list[str], detail: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": source,
            "account": self.account,
            "time": _iso(at_ms),
            "region": self.region,
            "resources": resources,
            "detail": detail,
        }

    def batch_job(
        self,
        run: RunSpec,
        step: str,
        task_id: str,
        *,
        job_id: str,
        status: str,
        retry_count: int,
        at_ms: int,
        created_ms: int,
        started_ms: int | None = None,
        stopped_ms: int | None = None,
        history: list[dict[str, Any]] | None = None,
        outcome: str | None = None,
        split_index: int | None = None,
        status_reason: str | None = None,
        detail_type: str = "Batch Job State Change",
    ) -> dict[str, Any]:
        """One Batch Job State Change event of a Metaflow task."""
        sfn = run.orchestrator == "step-functions"
        env = [
            {"name": "AWS_DEFAULT_REGION", "value": self.region},
            {"name": "METAFLOW_USER", "value": "SFN" if sfn else run.user},
        ]
        if sfn:
            name = run.run_id.removeprefix("sfn-")
            params = {
                "metaflow.user": "SFN",
                "metaflow.owner": run.user,
                "metaflow.flow_name": run.flow,
                "metaflow.step_name": step,
                "metaflow.version": "2.19.39",
                "step_name": step,
                "metaflow.run_id": name,
            }
            env += [
                {"name": "METAFLOW_RUN_ID", "value": name},
                {"name": "SFN_STATE_MACHINE", "value": run.state_machine or run.flow},
                {"name": "METAFLOW_OWNER", "value": run.user},
            ]
            if split_index is not None:
                env.append({"name": "METAFLOW_SPLIT_INDEX", "value": str(split_index)})
            pathspec = f"{run.flow}/sfn-$METAFLOW_RUN_ID/{step}/$AWS_BATCH_JOB_ID"
            step_args = f"step {step} --run-id sfn-$METAFLOW_RUN_ID --task-id ${{AWS_BATCH_JOB_ID}} --retry-count $((AWS_BATCH_JOB_ATTEMPT-1))"
        else:
            params = {
                "metaflow.flow_name": run.flow,
                "metaflow.step_name": step,
                "metaflow.run_id": run.run_id,
                "metaflow.task_id": task_id,
                "metaflow.retry_count": str(retry_count),
                "metaflow.user": run.user,
                "metaflow.version": "2.19.39",
            }
            env.append({"name": "METAFLOW_RUN_ID", "value": run.run_id})
            pathspec = f"{run.flow}/{run.run_id}/{step}/{task_id}"
            step_args = f"step {step} --run-id {run.run_id} --task-id {task_id} --retry-count {retry_count}"
        split = f" --split-index {split_index}" if split_index is not None and not sfn else ""
        tags = "".join(f" --tag {shlex.quote(t)}" for t in run.tags)
        script = (
            f"true && mkdir -p $PWD/.logs && export PYTHONUNBUFFERED=x MF_PATHSPEC={pathspec} MF_DATASTORE=s3 "
            f"&& (python -u flow.py --quiet --datastore s3 --metadata local {step_args}"
            f" --max-user-code-retries {run.max_retries}{split}{tags} --namespace user:{run.user})"
        )
        detail: dict[str, Any] = {
            "jobArn": f"arn:aws:batch:{self.region}:{self.account}:job/{job_id}",
            "jobName": f"{'SFN' if sfn else run.user}-{run.flow}-{'' if sfn else run.run_id}-{step}-{'' if sfn else task_id}-{'' if sfn else retry_count}",
            "jobId": job_id,
            "jobQueue": QUEUE,
            "status": status,
            "attempts": list(history or []),
            "createdAt": created_ms,
            "dependsOn": [],
            "jobDefinition": JOB_DEFINITION,
            "parameters": params,
            "container": {
                "image": "python:3.11",
                "command": ["bash", "-c", script],
                "environment": env,
                "resourceRequirements": [{"value": "1", "type": "VCPU"}, {"value": "4096", "type": "MEMORY"}],
            },
            "timeout": {"attemptDurationSeconds": 432000},
            "tags": {"resourceArn": f"arn:aws:batch:{self.region}:{self.account}:job/{job_id}"},
            "propagateTags": True,
            "platformCapabilities": ["EC2"],
        }
        if sfn:
            detail["retryStrategy"] = {"attempts": run.max_retries + 1, "evaluateOnExit": []}
        if started_ms is not None:
            detail["startedAt"] = started_ms
        if status_reason:
            detail["statusReason"] = status_reason
        if outcome is not None and status in ("SUCCEEDED", "FAILED"):
            _, reason, container_reason, exit_code = OUTCOMES[outcome]
            detail["statusReason"] = reason
            detail["stoppedAt"] = stopped_ms
            if container_reason:
                detail["container"]["reason"] = container_reason
            if exit_code is not None:
                detail["container"]["exitCode"] = exit_code
            detail["container"]["logStreamName"] = LOG_PREFIX + job_id.replace("-", "")[:32]
        return self._envelope(detail_type, "aws.batch", at_ms, [detail["jobArn"]], detail)

    def execution(
        self,
        run: RunSpec,
        status: str,
        *,
        at_ms: int,
        start_ms: int,
        stop_ms: int | None = None,
        error: str | None = None,
        cause: str | None = None,
        redrive_count: int = 0,
        redrive_ms: int | None = None,
    ) -> dict[str, Any]:
        machine = run.state_machine or run.flow
        name = run.run_id.removeprefix("sfn-")
        arn = f"arn:aws:states:{self.region}:{self.account}:execution:{machine}:{name}"
        detail: dict[str, Any] = {
            "executionArn": arn,
            "stateMachineArn": f"arn:aws:states:{self.region}:{self.account}:stateMachine:{machine}",
            "name": name,
            "status": status,
            "startDate": start_ms,
            "stopDate": stop_ms,
            "input": '{"Parameters": "{}"}',
            "inputDetails": {"included": True},
            "output": None,
            "outputDetails": None,
            "redriveCount": redrive_count,
        }
        if redrive_ms is not None:
            detail["redriveDate"] = redrive_ms
        if error:
            detail["error"] = error
            detail["cause"] = cause
        return self._envelope("Step Functions Execution Status Change", "aws.states", at_ms, [arn], detail)


def _attempt_record(job_id: str, started: int, stopped: int, outcome: str) -> dict[str, Any]:
    _, reason, container_reason, exit_code = OUTCOMES[outcome]
    container: dict[str, Any] = {
        "logStreamName": LOG_PREFIX + job_id.replace("-", "")[:32],
        "networkInterfaces": [],
    }
    if exit_code is not None:
        container["exitCode"] = exit_code
    if container_reason:
        container["reason"] = container_reason
    return {"container": container, "startedAt": started, "stoppedAt": stopped, "statusReason": reason}


def simulate_run(
    spec: RunSpec, rng: random.Random | None = None, factory: EventFactory | None = None
) -> list[dict[str, Any]]:
    """All events of one run (start -> foreach over `fanout` tasks -> join -> end), in time order.

    A final task failure stops the run. On the local runtime Metaflow then kills the step's other tasks
    ("Metaflow initiated job termination."); later steps never start.
    """
    rng = rng or random.Random(spec.run_id)
    factory = factory or EventFactory()
    clock = _Clock(spec.start_ms)
    sfn = spec.orchestrator == "step-functions"
    events: list[tuple[int, dict[str, Any]]] = []
    if sfn:
        events.append((clock.now, factory.execution(spec, "RUNNING", at_ms=clock.now, start_ms=clock.now)))
    next_task = 1
    failed_at: int | None = None
    for step, width in (("start", 1), ("train", spec.fanout), ("join", 1), ("end", 1)):
        step_start = clock.tick(rng, 2_000, 8_000)
        tasks = []
        for index in range(width):
            task = _TaskSim(spec, factory, rng, step, str(next_task), index if step == "train" else None)
            next_task += 1
            plan = spec.outcomes.get(step, {}).get(index, ["ok"])
            tasks.append(task.play(plan, step_start))
        failures = [t.end for t in tasks if t.failed]
        if failures:
            failed_at = min(failures)
            for task in tasks:
                if not sfn and not task.failed and task.end > failed_at:
                    task.kill(failed_at + rng.randint(1_000, 3_000))
        for task in tasks:
            events.extend(task.events)
        clock.now = max(t.end for t in tasks)
        if failures:
            break
    if sfn:
        status = spec.execution_outcome or ("FAILED" if failed_at is not None else "SUCCEEDED")
        stop = clock.tick(rng, 500, 2_000)
        error = {"FAILED": "States.TaskFailed", "TIMED_OUT": "States.Timeout"}.get(status)
        events.append(
            (
                stop,
                factory.execution(
                    spec, status, at_ms=stop, start_ms=spec.start_ms, stop_ms=stop, error=error
                ),
            )
        )
    events.sort(key=lambda pair: pair[0])
    return [event for _, event in events]


class _TaskSim:
    """One task's jobs and their events; Step Functions retries inside one job, local retries are new jobs."""

    def __init__(
        self,
        spec: RunSpec,
        factory: EventFactory,
        rng: random.Random,
        step: str,
        task_id: str,
        split: int | None,
    ) -> None:
        self.spec, self.factory, self.rng = spec, factory, rng
        self.step, self.task_id, self.split = step, task_id, split
        self.sfn = spec.orchestrator == "step-functions"
        self.events: list[tuple[int, dict[str, Any]]] = []
        self.end = 0
        self.failed = False
        self._job: dict[str, Any] = {}

    def _emit(self, status: str, at: int, **extra: Any) -> None:
        job = dict(self._job, **extra)
        event = self.factory.batch_job(self.spec, self.step, self.task_id, status=status, at_ms=at, **job)
        self.events.append((at, event))

    def play(self, plan: list[str], created: int) -> _TaskSim:
        rng = self.rng
        attempts = plan[: self.spec.max_retries + 1]
        history: list[dict[str, Any]] = []
        job_id = str(uuid.UUID(int=rng.getrandbits(128)))
        t = created + rng.randint(100, 900)
        for attempt, outcome in enumerate(attempts):
            if not self.sfn and attempt > 0:
                job_id = str(uuid.UUID(int=rng.getrandbits(128)))
                created = t = t + rng.randint(
                    1_000, 3_000
                )  # the local runtime submits a new job after a pause
            self._job = {
                "job_id": job_id,
                "retry_count": attempt,
                "created_ms": created,
                "split_index": self.split,
            }
            prior = list(history)
            self._emit("RUNNABLE", t, history=prior)
            started = t + rng.randint(5_000, 60_000)
            self._emit("STARTING", started - 1_000, history=prior)
            self._emit("RUNNING", started, started_ms=started, history=prior)
            stopped = started + rng.randint(10_000, 120_000)
            record = _attempt_record(job_id, started, stopped, outcome)
            history = [*history, record] if self.sfn else [record]
            final_status = OUTCOMES[outcome][0]
            self.end = stopped
            if final_status == "FAILED" and self.sfn and attempt < len(attempts) - 1:
                t = stopped + 500  # Batch puts the job back to RUNNABLE: no FAILED event for this attempt
                continue
            self._emit(
                final_status,
                stopped,
                started_ms=started,
                stopped_ms=stopped,
                history=history,
                outcome=outcome,
            )
            if final_status == "SUCCEEDED":
                return self
            t = stopped
        self.failed = True
        return self

    def kill(self, at: int) -> None:
        """Replace what happens after `at` with Metaflow terminating the job."""
        self.events = [(t, e) for t, e in self.events if t < at]
        last = self.events[-1][1]["detail"] if self.events else None
        started = last.get("startedAt") if last else None
        history = [_attempt_record(self._job["job_id"], started, at, "killed")] if started else []
        self._emit("FAILED", at, started_ms=started, stopped_ms=at, history=history, outcome="killed")
        self.end = at


def bench_runs(count: int, fanout: int, seed: int = 7, start_ms: int = 1_795_000_000_000) -> list[RunSpec]:
    """A mix like a busy team's: mostly successes, some retries after spot/OOM, some final failures."""
    rng = random.Random(seed)
    specs = []
    for index in range(count):
        sfn = index % 3 == 0
        outcomes: dict[str, dict[int, list[str]]] = {}
        roll = rng.random()
        if roll < 0.15:
            outcomes["train"] = {rng.randrange(fanout): [rng.choice(["spot", "oom"]), "ok"]}
        elif roll < 0.25:
            outcomes["train"] = {rng.randrange(fanout): ["user_code"] * 3}
        elif roll < 0.28:
            outcomes["train"] = {rng.randrange(fanout): ["oom"] * 3}
        run_id = f"sfn-{uuid.UUID(int=rng.getrandbits(128))}" if sfn else str(start_ms * 1000 + index)
        specs.append(
            RunSpec(
                flow=rng.choice(["TrainFlow", "ScoringFlow", "FeatureFlow", "ReportFlow"]),
                run_id=run_id,
                orchestrator="step-functions" if sfn else "batch",
                user=rng.choice(["alice", "bob", "carol"]),
                tags=("team:ml",),
                state_machine=None,
                fanout=fanout,
                outcomes=outcomes,
                start_ms=start_ms + index * 60_000,
            )
        )
    return specs
