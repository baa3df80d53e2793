"""Backfill from moto's Batch and Step Functions into DynamoDB Local: same ingest, so idempotent with live events."""

from __future__ import annotations

import io
import time
from typing import Any

from runwatch.aws.batch_jobs import BatchJobs
from runwatch.aws.executions import StepFunctionsExecutions
from runwatch.domain.run_state import RunKey
from runwatch.events.described import batch_job_event, execution_event
from runwatch.services.backfill import Backfill
from runwatch.services.ingest import Ingestor
from runwatch.store.keys import run_pk
from runwatch.store.models import RunItem, TableItem, TaskItem
from runwatch.store.repository import StatusRepository
from runwatch_dev.cli import main
from runwatch_dev.local.synth import RunSpec
from tests.fakes.memory_store import MemoryStore
from tests.integration.sweeper.moto_aws import MotoBatch, MotoStepFunctions

DAY = 86_400_000
LOCAL = RunSpec(flow="BackfillFlow", run_id="1795000000000042")
SFN = RunSpec(
    flow="FanoutFlow",
    run_id="sfn-backfill-1",
    orchestrator="step-functions",
    state_machine="demo.prod.FanoutFlow",
)
RUNS = (
    RunKey(LOCAL.flow, LOCAL.run_id, account="123456789012", region="us-east-1"),
    RunKey(SFN.flow, SFN.run_id, account="123456789012", region="us-east-1"),
)


def _history(batch_client: Any, sfn_client: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Two finished runs that AWS remembers: a local one (4 jobs) and a Step Functions one (2 jobs)."""
    batch = MotoBatch(batch_client)
    job_ids = [
        batch.submit(LOCAL, step, task)
        for step, task in (("start", "1"), ("train", "2"), ("train", "3"), ("end", "4"))
    ]
    job_ids += [batch.submit(SFN, step) for step in ("start", "end")]
    jobs = [batch.describe(job_id) for job_id in job_ids]
    sfn = MotoStepFunctions(sfn_client)
    machine = sfn.create_machine("demo.prod.FanoutFlow")
    arn = sfn.start(machine, "backfill-1", min(j["createdAt"] for j in jobs) - 1_000)
    sfn.finish(arn, "SUCCEEDED", max(j["stoppedAt"] for j in jobs) + 1_000)
    return jobs, sfn_client.describe_execution(executionArn=arn)


def _live_events(jobs: list[dict[str, Any]], execution: dict[str, Any]) -> list[dict[str, Any]]:
    """What EventBridge would have delivered for the same runs: every state change, each at its own time."""
    events = [execution_event({**execution, "status": "RUNNING", "stopDate": None}, 0)]
    for job in jobs:
        queued = {
            k: v for k, v in job.items() if k not in ("attempts", "startedAt", "stoppedAt", "statusReason")
        }
        started = job["attempts"][-1]["startedAt"]
        events += [
            batch_job_event({**queued, "status": "RUNNABLE"}, 0),
            batch_job_event({**queued, "status": "RUNNING", "startedAt": started}, 0),
            batch_job_event(job, 0),
        ]
    events.append(execution_event(execution, 0))
    return events


def _snapshot(repository: StatusRepository) -> dict[RunKey, Any]:
    """Each run with its version and its tasks, and how many items its partition holds."""
    found = {}
    for key in RUNS:
        run, tasks = repository.run_with_tasks(key)
        assert run is not None
        items = list(TableItem.query(run_pk(key.account, key.region, key.flow, key.run_id)))
        found[key] = (run.state, run.version, sorted(tasks, key=lambda t: t.key.task_id), len(items))
    return found


def _backfill(repository: StatusRepository, batch_client: Any, sfn_client: Any) -> Backfill:
    return Backfill(
        Ingestor(repository),
        repository,
        jobs=BatchJobs(batch_client),
        executions=StepFunctionsExecutions(sfn_client),
    )


def test_backfill_then_live_events_end_in_the_same_state_without_duplicates(
    repository: StatusRepository, batch_client: Any, sfn_client: Any
) -> None:
    jobs, execution = _history(batch_client, sfn_client)
    now = int(time.time() * 1000)

    # When the history is backfilled
    report = _backfill(repository, batch_client, sfn_client).run(since_ms=now - DAY, now_ms=now)

    # Then every job and execution was ingested once, and both runs succeeded with all their tasks
    assert (report.state_machines, report.executions, report.queues, report.jobs) == (1, 1, 1, 6)
    assert dict(report.outcomes) == {"applied": 7}
    seeded = _snapshot(repository)
    # Each partition: the run, its tasks and one summary item per step.
    assert [(s[0].status, len(s[2]), s[3]) for s in seeded.values()] == [
        ("succeeded", 4, 1 + 4 + 3),
        ("succeeded", 2, 1 + 2 + 2),
    ]

    # When the live events of the same runs arrive afterwards (late, replayed, in any order)
    live = _live_events(jobs, execution)
    outcomes = [Ingestor(repository).ingest(event) for event in live]

    # Then they are duplicates: nothing is written, no item is added
    assert set(outcomes) == {"duplicate"}
    assert _snapshot(repository) == seeded

    # And the state is the one the live events alone would have produced
    memory = MemoryStore()
    only_live = Ingestor(memory)
    for event in live:
        only_live.ingest(event)
    for key, (run, _, tasks, _) in seeded.items():
        assert memory.runs[key].state == run
        assert (
            sorted(
                (v.state for k, v in memory.tasks.items() if k.run_id == key.run_id),
                key=lambda t: t.key.task_id,
            )
            == tasks
        )

    # And a second backfill changes nothing either
    again = _backfill(repository, batch_client, sfn_client).run(since_ms=now - DAY, now_ms=now)
    assert dict(again.outcomes) == {"duplicate": 7}
    assert _snapshot(repository) == seeded


def test_backfill_command_line(table_name: str, batch_client: Any, sfn_client: Any) -> None:
    _history(batch_client, sfn_client)
    stderr = io.StringIO()

    code = main(["backfill", "--since", "24h", "--table", table_name], stderr=stderr)

    output = stderr.getvalue()
    assert code == 0, output
    assert "[" + "#" * 30 + "] 6/6" in output and "] 1/1" in output
    assert "1 executions of 1 Metaflow state machines, 6 jobs on 1 queues: 7 applied" in output
    repository = StatusRepository()
    assert [repository.load_run(key).state.status for key in RUNS] == ["succeeded", "succeeded"]  # type: ignore[union-attr]
    # Without --notify every run and task it wrote is quiet: the notifier records those transitions unsent.
    assert {item.quiet for item in _status_items(RUNS)} == {True}


def test_backfill_with_notify_writes_as_live_ingest_does(
    table_name: str, batch_client: Any, sfn_client: Any
) -> None:
    _history(batch_client, sfn_client)
    stderr = io.StringIO()

    assert (
        main(["backfill", "--since", "24h", "--table", table_name, "--notify", "--quiet"], stderr=stderr) == 0
    )
    items = _status_items(RUNS)
    assert len(items) == 8 and {item.quiet for item in items} == {None}


def _status_items(runs: tuple[RunKey, ...]) -> list[Any]:
    """The run and task items of `runs`, as stored."""
    return [
        item
        for key in runs
        for item in TableItem.query(run_pk(key.account, key.region, key.flow, key.run_id))
        if isinstance(item, RunItem | TaskItem)
    ]


def test_backfill_needs_a_table(monkeypatch: Any) -> None:
    monkeypatch.delenv("TABLE_NAME", raising=False)
    stderr = io.StringIO()
    assert main(["backfill", "--since", "2h"], stderr=stderr) == 2
    assert "no table" in stderr.getvalue()
