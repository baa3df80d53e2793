"""Backfill: seed the table with the history AWS still remembers, through the same ingest as live events.

Executions: ListStateMachines + DescribeStateMachine (Metaflow's own test) -> ListExecutions ->
DescribeExecution. Jobs: DescribeJobQueues -> ListJobs per queue (created since, plus all in flight) ->
DescribeJobs, 100 ids a call; ListJobs lists a multi-node (`@parallel`) job but not its nodes, so each
such job's other nodes are described too (`<jobId>#<N>`). Every answer is ingested as the event it stands for, so a backfill and live
events (before, during or after it) join into the same state: replays are duplicates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from runwatch.aws.batch_jobs import DESCRIBE_JOBS_MAX, JobCatalog, chunks
from runwatch.aws.executions import ExecutionCatalog
from runwatch.events.described import batch_job_event, execution_event
from runwatch.events.envelope import RejectedEvent
from runwatch.services.sweep import EventSink

REGISTRY_SOURCE = "describe-state-machine"


def other_node_ids(job: Mapping[str, Any]) -> list[str]:
    """`<jobId>#<N>` of a multi-node job's nodes other than its main node (whose task the job itself is)."""
    properties = job.get("nodeProperties")
    if not isinstance(properties, Mapping):
        return []
    main = properties.get("mainNode") or 0
    return [
        f"{job['jobId']}#{index}" for index in range(int(properties.get("numNodes") or 0)) if index != main
    ]


class Progress(Protocol):
    def start(self, label: str, total: int | None = None) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def finish(self) -> None: ...


class NoProgress:
    def start(self, label: str, total: int | None = None) -> None:
        return None

    def advance(self, n: int = 1) -> None:
        return None

    def finish(self) -> None:
        return None


class MachineRegistry(Protocol):
    """runwatch.store.repository.StatusRepository: where ingest looks up a state machine's flow."""

    def record_state_machine(self, arn: str, flow: str | None, source: str) -> None: ...


@dataclass(slots=True)
class BackfillReport:
    state_machines: int = 0
    executions: int = 0
    queues: int = 0
    jobs: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    rejected: list[str] = field(default_factory=list)

    def summary(self) -> str:
        outcomes = ", ".join(f"{n} {name}" for name, n in sorted(self.outcomes.items())) or "nothing ingested"
        return (
            f"{self.executions} executions of {self.state_machines} Metaflow state machines, "
            f"{self.jobs} jobs on {self.queues} queues: {outcomes}"
        )


class Backfill:
    def __init__(
        self,
        ingestor: EventSink,
        registry: MachineRegistry,
        jobs: JobCatalog | None = None,
        executions: ExecutionCatalog | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.ingestor = ingestor
        self.registry = registry
        self.jobs = jobs
        self.executions = executions
        self.progress = progress or NoProgress()

    def run(self, since_ms: int, now_ms: int) -> BackfillReport:
        report = BackfillReport()
        if self.executions is not None:
            self._executions(self.executions, since_ms, now_ms, report)
        if self.jobs is not None:
            self._jobs(self.jobs, since_ms, now_ms, report)
        return report

    def _executions(
        self, catalog: ExecutionCatalog, since_ms: int, now_ms: int, report: BackfillReport
    ) -> None:
        self.progress.start("finding Metaflow state machines")
        machines = catalog.metaflow_state_machines()
        self.progress.advance(len(machines))
        self.progress.finish()
        report.state_machines = len(machines)
        for arn, flow in machines.items():
            # Seed the registry so ingest never parks these executions waiting for a Batch job to name them.
            self.registry.record_state_machine(arn, flow, REGISTRY_SOURCE)
        arns = self._listed(
            "listing executions", (a for m in machines for a in catalog.execution_arns(m, since_ms))
        )
        self.progress.start("executions", len(arns))
        for arn in arns:
            execution = catalog.describe_execution(arn)
            if execution is not None:
                report.executions += 1
                self._ingest(execution_event(execution, now_ms), arn, report)
            self.progress.advance()
        self.progress.finish()

    def _jobs(self, catalog: JobCatalog, since_ms: int, now_ms: int, report: BackfillReport) -> None:
        queues = catalog.job_queues()
        report.queues = len(queues)
        job_ids = self._listed("listing jobs", (j for q in queues for j in catalog.job_ids(q, since_ms)))
        self.progress.start("jobs", len(job_ids))
        nodes: list[str] = []
        for chunk in chunks(job_ids, DESCRIBE_JOBS_MAX):
            for job in catalog.describe_jobs(chunk):
                report.jobs += 1
                self._ingest(batch_job_event(job, now_ms), str(job.get("jobId")), report)
                nodes += other_node_ids(job)
            self.progress.advance(len(chunk))
        self.progress.finish()
        for chunk in chunks(nodes, DESCRIBE_JOBS_MAX):
            for node in catalog.describe_jobs(chunk):
                self._ingest(batch_job_event(node, now_ms), str(node.get("jobId")), report)

    def _listed(self, label: str, items: Iterable[str]) -> list[str]:
        self.progress.start(label)
        found = list(dict.fromkeys(self._counting(items)))
        self.progress.finish()
        return found

    def _counting(self, items: Iterable[str]) -> Iterable[str]:
        for item in items:
            self.progress.advance()
            yield item

    def _ingest(self, event: dict[str, object], subject: str, report: BackfillReport) -> None:
        try:
            report.outcomes[self.ingestor.ingest(event)] += 1
        except RejectedEvent as exc:
            report.outcomes["rejected"] += 1
            report.rejected.append(f"{subject}: {exc.reason}")
