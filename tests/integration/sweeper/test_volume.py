"""Figures, not assertions: one sweep over 1,000 active tasks on DynamoDB Local (duration, requests, capacity).

Run with `-s` to see them; they are also attached to the test report as properties.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from runwatch.domain.run_state import RunKey, RunState, run_observation_of_task
from runwatch.domain.step_summary import combined, step_change
from runwatch.domain.task_state import TaskState
from runwatch.events.batch import observe_job
from runwatch.events.envelope import parse_event
from runwatch.events.models import BatchJobStateChangeEvent
from runwatch.services.ingest import Ingestor
from runwatch.services.sweep import Sweeper
from runwatch.settings import SweepThresholds
from runwatch.store import models
from runwatch.store.active import SweepReads
from runwatch.store.repository import StatusRepository
from runwatch_dev.local.synth import EventFactory, RunSpec

MINUTE = 60_000
T0 = 1_795_000_000_000
RUNS, TASKS_PER_RUN = 20, 50


class DynamoMeter:
    """Counts DynamoDB requests and the capacity DynamoDB reports for them, at the botocore level."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.capacity: Counter[str] = Counter()
        self.items: Counter[str] = Counter()

    def attach(self) -> None:
        for model in (
            models.TableItem,
            models.StatusItem,
            models.RunItem,
            models.TaskItem,
            models.MarkerItem,
        ):
            events = model._get_connection().connection.client.meta.events
            events.register("provide-client-params.dynamodb.*", self._ask_capacity, unique_id="meter-ask")
            events.register("after-call.dynamodb.*", self._count, unique_id="meter-count")

    @staticmethod
    def _ask_capacity(params: dict[str, Any], **kwargs: Any) -> None:
        params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _count(self, parsed: dict[str, Any], model: Any, **kwargs: Any) -> None:
        self.requests[model.name] += 1
        consumed = parsed.get("ConsumedCapacity") or {}
        # Batch operations answer with one entry per table.
        for entry in consumed if isinstance(consumed, list) else [consumed]:
            self.capacity[model.name] += entry.get("CapacityUnits", 0)
        self.items[model.name] += len(parsed.get("Items") or [])

    def take(self) -> dict[str, Any]:
        figures = {
            "requests": dict(self.requests),
            "capacity_units": {k: round(v, 1) for k, v in self.capacity.items()},
            "items_returned": dict(self.items),
        }
        self.requests.clear()
        self.capacity.clear()
        self.items.clear()
        return figures


class SameAnswers:
    """DescribeJobs answering what the table already says (the common case: no event was lost)."""

    def __init__(self, details: dict[str, dict[str, Any]]) -> None:
        self.details = details
        self.calls = 0

    def describe_jobs(self, job_ids: list[str]) -> list[dict[str, Any]]:
        found = []
        for start in range(0, len(job_ids), 100):
            self.calls += 1
            found += [self.details[j] for j in job_ids[start : start + 100] if j in self.details]
        return found


def _seed(repository: StatusRepository) -> dict[str, dict[str, Any]]:
    """20 local runs x 50 tasks: 600 RUNNING and 400 RUNNABLE, all quiet since T0.

    The items are exactly what ingest writes (same observation, same conversion, each run's tasks and their
    step summary in one transaction) but go in a run at a time: ingesting 1,000 events one by one would
    dominate the test's time.
    """
    factory, details = EventFactory(), {}
    runs: dict[RunKey, RunState] = {}
    for r in range(RUNS):
        tasks: list[TaskState] = []
        spec = RunSpec(flow=f"VolumeFlow{r % 4}", run_id=str(1_795_000_000_000_000 + r))
        for t in range(TASKS_PER_RUN):
            running = t % 5 < 3
            job_id = f"job-{r}-{t}"
            event = factory.batch_job(
                spec,
                "train",
                str(t + 2),
                job_id=job_id,
                status="RUNNING" if running else "RUNNABLE",
                retry_count=0,
                at_ms=T0,
                created_ms=T0 - MINUTE,
                started_ms=T0 if running else None,
            )
            details[job_id] = event["detail"]
            parsed = parse_event(event)
            assert isinstance(parsed, BatchJobStateChangeEvent)
            seen = observe_job(
                parsed.detail, account=parsed.account, region=parsed.region, event_time=parsed.time
            )
            tasks.append(seen.task)
            runs[seen.run.key] = run_observation_of_task(seen.task, seen.run)
        repository.save_tasks([(task, None) for task in tasks], combined(step_change(None, t) for t in tasks))
    for run in runs.values():
        repository.save_run(run, None)
    return details


def test_sweep_figures_for_1000_active_tasks(
    repository: StatusRepository, record_property: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    details = _seed(repository)
    meter = DynamoMeter()
    meter.attach()
    figures: dict[str, Any] = {}

    def measure(label: str, sweeper: Sweeper, now: int) -> None:
        started = time.perf_counter()
        report = sweeper.sweep(now)
        figures[label] = {
            "wall_ms": round((time.perf_counter() - started) * 1000),
            "report": {k: v for k, v in report.as_dict().items() if v and k != "swept_at"},
            **meter.take(),
        }

    def sweeper(jobs: Any = None) -> Sweeper:
        return Sweeper(SweepReads(), repository, Ingestor(repository), SweepThresholds(), jobs=jobs)

    quiet = sweeper()
    measure("first sweep, no reconciliation (raises 400 stuck alerts)", quiet, T0 + 31 * MINUTE)
    measure("next sweep, same container (alerts remembered)", quiet, T0 + 36 * MINUTE)
    measure("sweep in a fresh container (alert claims fail once)", sweeper(), T0 + 41 * MINUTE)
    answers = SameAnswers(details)
    reconciling = sweeper(answers)
    measure("fresh container with reconciliation (1,000 ids described)", reconciling, T0 + 46 * MINUTE)
    measure("same container, reconciliation again (states cached)", reconciling, T0 + 51 * MINUTE)
    figures["DescribeJobs calls over the two reconciling sweeps"] = answers.calls

    with capsys.disabled():
        print("\nsweep over 1,000 active tasks (20 runs) on DynamoDB Local")
        for label, value in figures.items():
            print(f"  {label}: {value}")
    for label, value in figures.items():
        record_property(label, value)
    assert (
        figures["first sweep, no reconciliation (raises 400 stuck alerts)"]["report"]["active_tasks"] == 1000
    )
