"""An in-memory stand-in for StatusRepository with the same optimistic-locking semantics.

For unit and property tests of ingest rules, where DynamoDB Local would make thousands of examples slow;
the integration tests run the same scenarios against the real engine.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from runwatch.domain.run_state import RunKey, RunState
from runwatch.domain.step_summary import StepChange, StepSummary
from runwatch.domain.task_state import TaskKey, TaskState
from runwatch.store.repository import Conflict, StaleItems, Versioned


@dataclass
class MemoryStore:
    tasks: dict[TaskKey, Versioned] = field(default_factory=dict)
    runs: dict[RunKey, Versioned] = field(default_factory=dict)
    steps: dict[tuple[str, str, str], StepSummary] = field(default_factory=dict)
    flows: dict[str, str] = field(default_factory=dict)
    machines: dict[str, str | None] = field(default_factory=dict)
    parked: dict[str, dict[str, str]] = field(default_factory=dict)
    markers: set[tuple[str, str, str]] = field(default_factory=set)
    write_requests: int = 0
    batch_reads: int = 0

    def _save(self, table: dict[Any, Versioned], key: Any, state: Any, version: int | None) -> int:
        self.write_requests += 1
        current = table.get(key)
        if (current.version if current else None) != version:
            raise Conflict(str(key))
        new_version = (version or 0) + 1
        table[key] = Versioned(state, new_version)
        return new_version

    def load_task(self, key: TaskKey) -> Versioned | None:
        return self.tasks.get(key)

    def save_task(self, state: TaskState, version: int | None, change: StepChange | None = None) -> int:
        """The task and its step change together or not at all, like the store's transaction."""
        new_version = self._save(self.tasks, state.key, state, version)
        if change is not None:
            key = (state.key.flow, state.key.run_id, change.step)
            self.steps[key] = self.steps.get(key, StepSummary(change.step)).applied(change)
        return new_version

    def save_tasks(
        self, writes: Sequence[tuple[TaskState, int | None]], change: StepChange | None
    ) -> list[int]:
        """Several tasks of one step and their summed change, all or nothing, like the store's transaction."""
        self.write_requests += 1
        stale = frozenset(
            i for i, (state, version) in enumerate(writes) if self._version(self.tasks, state.key) != version
        )
        if stale:
            raise StaleItems(f"{len(stale)} stale", stale)
        versions = []
        for state, version in writes:
            self.tasks[state.key] = Versioned(state, (version or 0) + 1)
            versions.append((version or 0) + 1)
        if change is not None:
            first = writes[0][0].key
            key = (first.flow, first.run_id, change.step)
            self.steps[key] = self.steps.get(key, StepSummary(change.step)).applied(change)
        return versions

    def load_states(
        self, tasks: Collection[TaskKey], runs: Collection[RunKey]
    ) -> tuple[dict[TaskKey, Versioned], dict[RunKey, Versioned]]:
        self.batch_reads += 1
        return (
            {k: self.tasks[k] for k in tasks if k in self.tasks},
            {k: self.runs[k] for k in runs if k in self.runs},
        )

    @staticmethod
    def _version(table: dict[Any, Versioned], key: Any) -> int | None:
        current = table.get(key)
        return current.version if current else None

    def step_summaries(self, key: RunKey) -> list[StepSummary]:
        return [summary for (flow, run_id, _), summary in self.steps.items() if (flow, run_id) == key]

    def load_run(self, key: RunKey) -> Versioned | None:
        return self.runs.get(key)

    def save_run(self, state: RunState, version: int | None) -> int:
        return self._save(self.runs, state.key, state, version)

    def record_flow_run(self, state: RunState) -> None:
        self.write_requests += 1
        self.flows[state.key.flow] = state.key.run_id

    def pending_tasks_on_queue(self, queue_arn: str, limit: int = 100) -> list[TaskState]:
        found = [
            v.state
            for v in self.tasks.values()
            if v.state.status == "pending" and v.state.job_queue == queue_arn
        ]
        return found[:limit]

    def state_machine_flow(self, arn: str) -> tuple[bool, str | None]:
        return (arn in self.machines, self.machines.get(arn))

    def record_state_machine(self, arn: str, flow: str | None, source: str) -> None:
        self.write_requests += 1
        self.machines[arn] = flow

    def park_execution(self, execution_arn: str, order_key: str, event_json: str) -> None:
        self.write_requests += 1
        self.parked.setdefault(execution_arn, {})[order_key] = event_json

    def parked_executions(self, execution_arn: str) -> list[tuple[str, str]]:
        return sorted(self.parked.get(execution_arn, {}).items())

    def drop_parked(self, execution_arn: str, order_key: str) -> None:
        self.write_requests += 1
        self.parked.get(execution_arn, {}).pop(order_key, None)
