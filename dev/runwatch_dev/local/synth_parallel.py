"""Synthetic `@parallel` runs: the events AWS Batch emits for a multi-node parallel job and its nodes.

Built to the Batch documentation for multi-node parallel jobs: the job's own events carry `nodeProperties`
(its status, times, reason and exit code are the main node's; it has no container of its own, the node
ranges do); each node's events carry `nodeDetails` and the job id `<jobId>#<N>`. Metaflow's command lines
(batch_client.py): node 0 runs the control task `control-<id>` with `--split-index 0`, node N >= 1 runs
`<id>-node-$AWS_BATCH_JOB_NODE_INDEX` with `--split-index $AWS_BATCH_JOB_NODE_INDEX`. A job retry (the
local runtime submits a new job with the next retry count) starts every node again; a failing worker does
not by itself retry the job, but Metaflow's control task then fails, which fails the job.
"""

from __future__ import annotations

import copy
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from runwatch_dev.local.synth import OUTCOMES, EventFactory, RunSpec, _attempt_record, _TaskSim

NODE_INDEX = "$AWS_BATCH_JOB_NODE_INDEX"


@dataclass
class ParallelSpec:
    """A run whose `train` step is `@parallel` over `nodes` nodes.

    `outcomes[n]` lists how node n ends in each job attempt (missing: "ok"); node 0 is the control task.
    """

    run: RunSpec
    nodes: int = 3
    outcomes: dict[int, list[str]] = field(default_factory=dict)
    step: str = "train"
    control_task_id: str = "control-2"


def _worker_script(script: str, control_task_id: str) -> str:
    worker = control_task_id.removeprefix("control-") + f"-node-{NODE_INDEX}"
    return script.replace(f"--task-id {control_task_id}", f"--task-id {worker}").replace(
        "--split-index 0", f"--split-index {NODE_INDEX}"
    )


def as_parent(event: dict[str, Any], nodes: int, control_task_id: str) -> dict[str, Any]:
    """A job event of the whole multi-node job: the container moves into the node ranges."""
    event = copy.deepcopy(event)
    detail = event["detail"]
    container = detail.pop("container")
    worker = copy.deepcopy(container)
    worker["command"][-1] = _worker_script(worker["command"][-1], control_task_id)
    main_only = {k: v for k, v in container.items() if k in ("exitCode", "reason", "logStreamName")}
    command_free = {k: v for k, v in container.items() if k not in ("exitCode", "reason", "logStreamName")}
    worker = {k: v for k, v in worker.items() if k not in ("exitCode", "reason", "logStreamName")}
    if main_only:
        detail["container"] = main_only
    detail["nodeProperties"] = {
        "numNodes": nodes,
        "mainNode": 0,
        "nodeRangeProperties": [
            {"targetNodes": "0:0", "container": command_free},
            {"targetNodes": f"1:{nodes - 1}", "container": worker},
        ],
    }
    return event


def as_node(event: dict[str, Any], index: int, control_task_id: str) -> dict[str, Any]:
    """A job event turned into the event of node `index` (`<jobId>#<index>`, `nodeDetails`)."""
    event = copy.deepcopy(event)
    detail = event["detail"]
    detail["jobId"] = f"{detail['jobId']}#{index}"
    detail["jobArn"] = f"{detail['jobArn']}#{index}"
    event["resources"] = [detail["jobArn"]]
    detail["nodeDetails"] = {"nodeIndex": index, "isMainNode": index == 0}
    if index:
        command = detail["container"]["command"]
        command[-1] = _worker_script(command[-1], control_task_id)
    return event


class _ParallelJob:
    """One attempt of the multi-node job: its events, when it ended, and whether it failed."""

    def __init__(self, spec: ParallelSpec, factory: EventFactory, rng: random.Random, attempt: int) -> None:
        self.spec, self.factory, self.rng, self.attempt = spec, factory, rng, attempt
        self.job_id = str(uuid.UUID(int=rng.getrandbits(128)))
        self.events: list[tuple[int, dict[str, Any]]] = []

    def _outcome(self, node: int) -> str:
        plan = self.spec.outcomes.get(node, [])
        return plan[self.attempt] if self.attempt < len(plan) else "ok"

    def _job(self, status: str, at: int, created: int, **extra: Any) -> dict[str, Any]:
        return self.factory.batch_job(
            self.spec.run,
            self.spec.step,
            self.spec.control_task_id,
            job_id=self.job_id,
            status=status,
            retry_count=self.attempt,
            at_ms=at,
            created_ms=created,
            split_index=0,
            **extra,
        )

    def _emit(self, at: int, event: dict[str, Any]) -> None:
        self.events.append((at, event))

    def _end(self, outcome: str, started: int, stopped: int, created: int, node_job: str) -> dict[str, Any]:
        record = _attempt_record(node_job, started, stopped, outcome)
        return self._job(
            OUTCOMES[outcome][0],
            stopped,
            created,
            started_ms=started,
            stopped_ms=stopped,
            history=[record],
            outcome=outcome,
        )

    def play(self, created: int) -> tuple[int, bool]:
        spec, rng = self.spec, self.rng
        nodes, control = spec.nodes, spec.control_task_id
        main_start = created + rng.randint(5_000, 60_000)
        self._emit(created + 500, as_parent(self._job("RUNNABLE", created + 500, created), nodes, control))
        for status, at in (("STARTING", main_start - 1_000), ("RUNNING", main_start)):
            extra = {"started_ms": main_start} if status == "RUNNING" else {}
            job = self._job(status, at, created, **extra)
            self._emit(at, as_node(job, 0, control))
            self._emit(at, as_parent(job, nodes, control))
        worker_ends = []
        for index in range(1, nodes):
            started = main_start + rng.randint(1_000, 20_000)
            stopped = started + rng.randint(10_000, 120_000)
            outcome = self._outcome(index)
            node_job = f"{self.job_id}#{index}"
            self._emit(
                started - 1_000, as_node(self._job("STARTING", started - 1_000, created), index, control)
            )
            running = self._job("RUNNING", started, created, started_ms=started)
            self._emit(started, as_node(running, index, control))
            self._emit(
                stopped, as_node(self._end(outcome, started, stopped, created, node_job), index, control)
            )
            worker_ends.append((stopped, OUTCOMES[outcome][0] == "FAILED"))
        main_outcome = self._outcome(0)
        if main_outcome == "ok" and any(failed for _, failed in worker_ends):
            main_outcome = "user_code"  # the control task fails when a worker does
        main_stop = max([main_start + rng.randint(10_000, 120_000), *(t for t, _ in worker_ends)]) + 2_000
        end = self._end(main_outcome, main_start, main_stop, created, self.job_id)
        self._emit(main_stop, as_node(end, 0, control))
        self._emit(main_stop, as_parent(end, nodes, control))
        return main_stop, OUTCOMES[main_outcome][0] == "FAILED"


def simulate_parallel_run(
    spec: ParallelSpec, rng: random.Random | None = None, factory: EventFactory | None = None
) -> list[dict[str, Any]]:
    """All events of a local run start -> train (@parallel) -> join -> end, in time order."""
    run = spec.run
    rng = rng or random.Random(run.run_id)
    factory = factory or EventFactory()
    events: list[tuple[int, dict[str, Any]]] = []
    start = _TaskSim(run, factory, rng, "start", "1", None).play(["ok"], run.start_ms)
    events.extend(start.events)
    now, failed = start.end, True
    for attempt in range(run.max_retries + 1):
        job = _ParallelJob(spec, factory, rng, attempt)
        now, failed = job.play(now + rng.randint(1_000, 3_000))
        events.extend(job.events)
        if not failed:
            break
    if not failed:
        for step, task_id in (("join", "3"), ("end", "4")):
            task = _TaskSim(run, factory, rng, step, task_id, None).play(["ok"], now + 2_000)
            events.extend(task.events)
            now = task.end
    events.sort(key=lambda pair: pair[0])
    return [event for _, event in events]
