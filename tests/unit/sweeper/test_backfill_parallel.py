"""Backfill of a `@parallel` job: ListJobs lists the job, not its nodes, so the nodes are described too."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from runwatch.services.backfill import Backfill, other_node_ids
from runwatch.services.ingest import Ingestor
from runwatch_dev.local.synth import RunSpec
from runwatch_dev.local.synth_parallel import ParallelSpec, simulate_parallel_run
from tests.fakes.memory_store import MemoryStore
from tests.unit.ingest.scenarios import tasks_of


class FakeBatch:
    """What DescribeJobs would answer: the latest detail of every job and node of the run."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.details = {e["detail"]["jobId"]: e["detail"] for e in events}
        self.asked: list[str] = []

    def job_queues(self) -> list[str]:
        return ["queue"]

    def job_ids(self, queue: str, since_ms: int) -> Iterator[str]:
        return (job_id for job_id in self.details if "#" not in job_id)

    def describe_jobs(self, job_ids: Sequence[str]) -> list[dict[str, Any]]:
        self.asked += job_ids
        return [self.details[job_id] for job_id in job_ids if job_id in self.details]


class NoRegistry:
    def record_state_machine(self, arn: str, flow: str | None, source: str) -> None:
        return None


def test_backfill_describes_the_nodes_of_a_parallel_job() -> None:
    run = RunSpec("TorchFlow", "1795000000000999", max_retries=0, start_ms=1_795_000_000_000)
    batch = FakeBatch(simulate_parallel_run(ParallelSpec(run, nodes=3, outcomes={2: ["oom"]})))
    store = MemoryStore()

    Backfill(Ingestor(store), NoRegistry(), jobs=batch).run(since_ms=0, now_ms=1_796_000_000_000)

    train = {k[1]: t for k, t in tasks_of(store, "TorchFlow", "1795000000000999").items() if k[0] == "train"}
    assert {task_id: t.status for task_id, t in train.items()} == {
        "control-2": "failed",
        "2-node-1": "succeeded",
        "2-node-2": "failed",
    }
    assert not [job_id for job_id in batch.asked if job_id.endswith("#0")]


def test_only_multi_node_jobs_have_other_nodes() -> None:
    assert other_node_ids({"jobId": "j"}) == []
    assert other_node_ids({"jobId": "j", "nodeProperties": {"numNodes": 3, "mainNode": 0}}) == ["j#1", "j#2"]
