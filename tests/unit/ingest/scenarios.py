"""Helpers to replay synthetic runs through the real Ingestor into an in-memory store."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from runwatch.domain.run_state import RunKey, RunState
from runwatch.domain.step_summary import StepChange, StepSummary, recount
from runwatch.domain.task_state import TaskState
from runwatch.services.ingest import Ingestor
from runwatch.store.repository import StoreUnavailable
from runwatch_dev.local.synth import EventFactory, RunSpec, simulate_run
from tests.fakes.memory_store import MemoryStore


def replay(events: list[dict[str, Any]], store: MemoryStore | None = None) -> MemoryStore:
    store = store or MemoryStore()
    ingestor = Ingestor(store)
    for event in events:
        ingestor.ingest(event)
    return store


def run_of(store: MemoryStore, flow: str, run_id: str) -> RunState:
    return store.runs[RunKey(flow, run_id, account="123456789012", region="us-east-1")].state


def tasks_of(store: MemoryStore, flow: str, run_id: str) -> dict[tuple[str, str], TaskState]:
    return {
        (key.step, key.task_id): v.state
        for key, v in store.tasks.items()
        if (key.flow, key.run_id) == (flow, run_id)
    }


def snapshot(store: MemoryStore) -> dict[Any, Any]:
    """What the API can show: every run's material state with its derived fields, and every task."""
    runs = {
        key: (v.state.material(), v.state.status, v.state.failure, v.state.finished_at)
        for key, v in store.runs.items()
    }
    tasks = {key: (v.state, v.state.status) for key, v in store.tasks.items()}
    return {"runs": runs, "tasks": tasks, "steps": dict(store.steps)}


def recounted_steps(store: MemoryStore) -> dict[tuple[str, str, str], StepSummary]:
    """Every step's summary recomputed from all its tasks: what the kept summaries must equal."""
    by_step: dict[tuple[str, str, str], list[TaskState]] = {}
    for key, versioned in store.tasks.items():
        by_step.setdefault((key.flow, key.run_id, key.step), []).append(versioned.state)
    return {key: recount(key[2], tasks) for key, tasks in by_step.items()}


def queue_blocked_events(spec: RunSpec, reason: str, start_ms: int) -> list[dict[str, Any]]:
    """Two train tasks waiting in RUNNABLE, then a Batch Job Queue Blocked event for the first one."""
    factory = EventFactory()
    common: dict[str, Any] = {"status": "RUNNABLE", "retry_count": 0, "created_ms": start_ms}
    runnable = [
        factory.batch_job(
            spec, "train", task, job_id=f"j{task}", at_ms=start_ms + 1_000, split_index=i, **common
        )
        for i, task in enumerate(("2", "3"))
    ]
    blocked = factory.batch_job(
        spec,
        "train",
        "2",
        job_id="j2",
        at_ms=start_ms + 600_000,
        split_index=0,
        status_reason=reason,
        detail_type="Batch Job Queue Blocked",
        **common,
    )
    return [*runnable, blocked]


def failed_run_events(
    flow: str,
    run_id: str,
    failed_ago_ms: int,
    plan: tuple[str, ...] = ("user_code",),
    now_ms: int | None = None,
) -> list[dict[str, Any]]:
    """A local run whose one train task ends by `plan` (no retries left), moved so it ends `failed_ago_ms` ago."""
    spec = RunSpec(flow, run_id, fanout=1, max_retries=len(plan) - 1, outcomes={"train": {0: list(plan)}})
    ended_at = max(event["detail"].get("stoppedAt") or 0 for event in simulate_run(spec))
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    spec.start_ms = now - failed_ago_ms - ended_at
    return simulate_run(spec)


class FailingStep(MemoryStore):
    """Throttles every write of the end step's tasks."""

    def save_tasks(
        self, writes: Sequence[tuple[TaskState, int | None]], change: StepChange | None, spread: bool = False
    ) -> list[int]:
        if writes[0][0].key.step == "end":
            raise StoreUnavailable("ProvisionedThroughputExceededException")
        return super().save_tasks(writes, change, spread)
