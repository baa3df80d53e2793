"""Multi-node parallel jobs (Metaflow's `@parallel`): which task an event of such a job is about.

Metaflow runs a `@parallel` step (and `@torchrun`, `@deepspeed`, `@metaflow_ray`, built on it) as one
multi-node Batch job. Node 0 runs the control task, whose id (`control-...`) is the job's
`metaflow.task_id` parameter; node N >= 1 runs the worker task `<that id without "control-">-node-<N>`
with split index N. Batch emits events for the job itself, whose status, times, reason and exit code are
its main node's, and for each node, addressed `<jobId>#<N>` and carrying `nodeDetails`.

The job's events and its main node's events are both observations of the control task, recorded under the
job's id so that either order joins into the same attempt; every other node's events are its worker's,
with the node's own reason and exit code. A job retry starts every node again, so a worker's attempt is
the job's retry count, like the control task's.
"""

from __future__ import annotations

from dataclasses import dataclass

from runwatch.events.models import BatchJobDetail, JobContainer

CONTROL_PREFIX = "control-"


@dataclass(frozen=True, slots=True)
class NodeTask:
    """The task one job or node event observes, the job id its attempts record, and its split index."""

    task_id: str
    job_id: str
    split_index: int | None = None  # None: not part of a multi-node job


def node_index(detail: BatchJobDetail) -> int | None:
    """N of a node event (`nodeDetails.nodeIndex`, else the `#<N>` of its job id); None for a whole job."""
    if detail.nodeDetails is not None and detail.nodeDetails.nodeIndex is not None:
        return detail.nodeDetails.nodeIndex
    _, hash_sign, index = detail.jobId.rpartition("#")
    return int(index) if hash_sign and index.isdigit() else None


def _is_main_node(detail: BatchJobDetail, index: int) -> bool:
    if detail.nodeDetails is not None and detail.nodeDetails.isMainNode is not None:
        return detail.nodeDetails.isMainNode
    return index == 0


def task_of_job(detail: BatchJobDetail, task_id: str) -> NodeTask:
    """The task a local run's job event is about; `task_id` is the job's `metaflow.task_id`."""
    index = node_index(detail)
    if index is None:
        return NodeTask(task_id, detail.jobId, 0 if detail.nodeProperties is not None else None)
    if _is_main_node(detail, index):
        return NodeTask(task_id, detail.jobId.split("#", 1)[0], 0)
    worker = f"{task_id.removeprefix(CONTROL_PREFIX)}-node-{index}"
    return NodeTask(worker, detail.jobId, index)


def _covers(target_nodes: str | None, index: int) -> bool:
    """Whether a node range (`0:0`, `1:`, `:3`, `2`) includes node `index`."""
    if not target_nodes:
        return False
    low, colon, high = target_nodes.partition(":")
    first = int(low) if low.isdigit() else 0
    last = int(high) if high.isdigit() else (None if colon else first)
    return first <= index and (last is None or index <= last)


def job_container(detail: BatchJobDetail) -> JobContainer:
    """Where the command line and environment are read: a multi-node job has no container of its own,
    its main node's range has one."""
    if detail.container.command or detail.nodeProperties is None:
        return detail.container
    main = detail.nodeProperties.mainNode or 0
    for node_range in detail.nodeProperties.nodeRangeProperties:
        if node_range.container is not None and _covers(node_range.targetNodes, main):
            return node_range.container
    return detail.container
