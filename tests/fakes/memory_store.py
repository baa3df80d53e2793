"""An in-memory stand-in for StatusRepository with the same optimistic-locking semantics.

For unit and property tests of ingest rules, where DynamoDB Local would make thousands of examples slow;
the integration tests run the same scenarios against the real engine. Step summaries are kept per item like
the table's: the step's item (shard 0) and, for writes with `spread`, shards 1..STEP_SHARDS-1; `taken`
says which writes find their step item held by another writer (StepBusy), and `steps` merges the shards as
store/step_items.py does.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from runwatch.domain.lookups import JobLookup
from runwatch.domain.run_state import RunKey, RunState
from runwatch.domain.step_summary import StepChange, StepSummary, merged
from runwatch.domain.task_state import TaskKey, TaskState
from runwatch.domain.usage import UsageTotals, total
from runwatch.store.repository import (
    MAX_ITEMS_PER_BATCH_WRITE,
    Conflict,
    StaleItems,
    StepBusy,
    StoreUnavailable,
    Versioned,
)
from runwatch.store.run_tags import tag_entries
from runwatch.store.step_items import STEP_SHARDS


@dataclass
class MemoryStore:
    tasks: dict[TaskKey, Versioned] = field(default_factory=dict)
    runs: dict[RunKey, Versioned] = field(default_factory=dict)
    # (flow, run id, step, shard): 0 is the step's item
    step_items: dict[tuple[str, str, str, int], StepSummary] = field(default_factory=dict)
    flows: dict[str, str] = field(default_factory=dict)
    machines: dict[str, str | None] = field(default_factory=dict)
    parked: dict[str, dict[str, str]] = field(default_factory=dict)
    markers: set[tuple[str, str, str]] = field(default_factory=set)
    run_tags: dict[tuple[str, str], RunKey] = field(default_factory=dict)
    # (job id, attempt) -> the task: one item per job attempt, as the table's JOB# items.
    jobs: dict[tuple[str, int], TaskKey] = field(default_factory=dict)
    job_requests: list[int] = field(default_factory=list)  # the number of lookups each request wrote
    jobs_unavailable: bool = False  # job lookup writes raise StoreUnavailable
    # Whether a lost task write sends back the tasks that won (as the table's transaction does), or only
    # names them, to be read again.
    stale_items_found: bool = True
    write_requests: int = 0
    batch_reads: int = 0
    # Whether a write finds that shard of the step (0: the step's item) held by another writer.
    taken: Callable[[str, int], bool] = lambda step, shard: False
    shards: random.Random = field(default_factory=lambda: random.Random(0))

    @property
    def steps(self) -> dict[tuple[str, str, str], StepSummary]:
        """Every step's summary, its shards merged."""
        parts: dict[tuple[str, str], list[StepSummary]] = {}
        for (flow, run_id, _, _), summary in self.step_items.items():
            parts.setdefault((flow, run_id), []).append(summary)
        return {
            (flow, run_id, summary.step): summary
            for (flow, run_id), summaries in parts.items()
            for summary in merged(summaries)
        }

    def _add_to_step(self, flow: str, run_id: str, change: StepChange, shard: int) -> None:
        key = (flow, run_id, change.step, shard)
        self.step_items[key] = self.step_items.get(key, StepSummary(change.step)).applied(change)

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
        return self.save_tasks([(state, version)], change)[0]

    def save_tasks(
        self, writes: Sequence[tuple[TaskState, int | None]], change: StepChange | None, spread: bool = False
    ) -> list[int]:
        """Several tasks of one step and their summed change, all or nothing, like the store's transaction;
        the change goes to the step's item, or with `spread` to a random shard."""
        self.write_requests += 1
        stale = frozenset(
            i for i, (state, version) in enumerate(writes) if self._version(self.tasks, state.key) != version
        )
        if stale:
            found = {i: self.tasks[writes[i][0].key] for i in stale if writes[i][0].key in self.tasks}
            raise StaleItems(f"{len(stale)} stale", stale, found if self.stale_items_found else None)
        shard = self.shards.randrange(1, STEP_SHARDS) if spread else 0
        if change is not None and self.taken(change.step, shard):
            raise StepBusy(f"step {change.step} shard {shard} held")
        versions = []
        for state, version in writes:
            self.tasks[state.key] = Versioned(state, (version or 0) + 1)
            versions.append((version or 0) + 1)
        if change is not None:
            first = writes[0][0].key
            self._add_to_step(first.flow, first.run_id, change, shard)
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

    def record_run_tags(self, before: RunState | None, after: RunState) -> None:
        """As the table's tag items: (TAG#<tag>, sort key) -> the run they point at."""
        old, new = tag_entries(before), tag_entries(after)
        if old == new:
            return
        self.write_requests += 1
        for key in old:
            self.run_tags.pop(key, None)
        for key in new:
            self.run_tags[key] = after.key

    def run_and_usage(self, key: RunKey) -> tuple[Versioned | None, UsageTotals]:
        return self.runs.get(key), total(
            s.usage for (flow, run_id, _), s in self.steps.items() if (flow, run_id) == (key.flow, key.run_id)
        )

    def record_jobs(self, lookups: Sequence[JobLookup]) -> None:
        """As BatchWriteItem: at most 25 items, no key twice; all or nothing here."""
        keys = {(lookup.job_id, lookup.attempt) for lookup in lookups}
        assert 0 < len(keys) == len(lookups) <= MAX_ITEMS_PER_BATCH_WRITE, "not a valid BatchWriteItem"
        if self.jobs_unavailable:
            raise StoreUnavailable("job lookups unavailable")
        self.write_requests += 1
        self.job_requests.append(len(lookups))
        for lookup in lookups:
            self.jobs[(lookup.job_id, lookup.attempt)] = lookup.task

    def job(self, job_id: str) -> tuple[TaskKey, int] | None:
        """The task and attempt a job id's newest lookup names, as a lookup by job id reads them."""
        attempts = [attempt for job, attempt in self.jobs if job == job_id]
        return (self.jobs[(job_id, max(attempts))], max(attempts)) if attempts else None

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
