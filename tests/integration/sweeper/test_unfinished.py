"""The sweeper's unfinished tasks, found from the active runs' step summaries (tasks carry no `active_keys` entry).

Events go through ingest into DynamoDB Local: a run that failed while a sibling task still ran stays in the
sweeper's view until that task is known to have finished, and a sweep reads a number of requests fixed by the
active runs and their steps' counts, not by the tasks that finished.
"""

from __future__ import annotations

from typing import Any

from runwatch.domain.run_state import RunKey
from runwatch.services.ingest import Ingestor
from runwatch.services.sweep import Sweeper
from runwatch.settings import SweepThresholds
from runwatch.store.active import SweepReads
from runwatch.store.keyed_reads import index_entries
from runwatch.store.keys import ACTIVE_RUN
from runwatch.store.models import RunItem, TaskItem
from runwatch.store.repository import StatusRepository
from runwatch_dev.local.synth import EventFactory, RunSpec

T0 = 1_795_000_000_000
MINUTE = 60_000
FACTORY = EventFactory()


def _job(
    spec: RunSpec, step: str, task_id: str, status: str, at: int, outcome: str | None = None
) -> dict[str, Any]:
    return FACTORY.batch_job(
        spec,
        step,
        task_id,
        job_id=f"job-{spec.run_id}-{step}-{task_id}",
        status=status,
        retry_count=0,
        at_ms=at,
        created_ms=T0,
        started_ms=T0 + MINUTE if status in ("RUNNING", "SUCCEEDED", "FAILED") else None,
        stopped_ms=at if outcome else None,
        outcome=outcome,
    )


def _active_run_ids() -> list[str]:
    return [entry["pk"]["S"].rsplit("#", 1)[1] for entry in index_entries(RunItem.active_index, ACTIVE_RUN)]


def test_a_run_that_failed_with_a_task_still_running_is_swept_until_the_task_ends(
    repository: StatusRepository,
) -> None:
    # Given a local run whose task 2 failed for good (the run failed) while task 3 was still running
    spec = RunSpec(flow="LostFlow", run_id="11", max_retries=0)
    ingestor = Ingestor(repository)
    for event in (
        _job(spec, "train", "3", "RUNNING", T0 + MINUTE),
        _job(spec, "train", "2", "FAILED", T0 + 2 * MINUTE, outcome="user_code"),
    ):
        assert ingestor.ingest(event) == "applied"
    run = repository.load_run(spec_key(spec))
    assert run is not None and run.state.status == "failed"

    # Then the ended run stays in active_keys, no task has an entry, and a sweep finds the running task
    assert _active_run_ids() == ["11"]
    assert index_entries(TaskItem.active_index, "ACTIVE#TASK") == []
    reads = SweepReads()
    assert reads.active_runs() == []  # ended: the sweeper's run checks leave it alone
    assert [(t.key.task_id, t.status) for t in reads.active_tasks()] == [("3", "running")]
    assert _active_run_ids() == ["11"] and reads.cleared == 0

    # When the task's end arrives (it does not change the failed run's state, so the run is not written)
    assert ingestor.ingest(_job(spec, "train", "3", "SUCCEEDED", T0 + 9 * MINUTE, outcome="ok")) == "applied"
    assert _active_run_ids() == ["11"]

    # Then the next sweep finds nothing unfinished and takes the run out of active_keys, once, and says so
    sweeper = Sweeper(SweepReads(), repository, ingestor, SweepThresholds())
    report = sweeper.sweep(T0 + 10 * MINUTE)
    assert (report.active_runs, report.active_tasks, report.runs_cleared) == (0, 0, 1)
    assert report.dynamodb_writes == 1  # the clear
    assert _active_run_ids() == []
    stored = repository.load_run(spec_key(spec))
    assert stored is not None and stored.state.status == "failed"


def test_a_clear_loses_to_a_write_of_the_run_made_since_it_was_read(repository: StatusRepository) -> None:
    # Given a failed run that stays in active_keys because a task still runs, read by a sweep
    spec = RunSpec(flow="LostFlow", run_id="12", max_retries=0)
    ingestor = Ingestor(repository)
    ingestor.ingest(_job(spec, "train", "3", "RUNNING", T0 + MINUTE))
    ingestor.ingest(_job(spec, "train", "2", "FAILED", T0 + 2 * MINUTE, outcome="user_code"))
    reads = SweepReads()
    reads.active_runs()

    # When the run is written meanwhile (as ingest does: read with its steps first), then the task ends
    stored, _ = repository.run_and_usage(spec_key(spec))
    assert stored is not None
    repository.save_run(stored.state, stored.version)
    ingestor.ingest(_job(spec, "train", "3", "SUCCEEDED", T0 + 9 * MINUTE, outcome="ok"))

    # Then the clear writes nothing, and the next sweep takes the run out
    assert (reads.active_tasks(), reads.cleared) == ([], 0)
    assert _active_run_ids() == ["12"]
    reads = SweepReads()
    assert (reads.active_runs(), reads.active_tasks(), reads.cleared) == ([], [], 1)
    assert _active_run_ids() == []


def test_a_task_first_seen_after_its_ended_run_was_cleared_brings_the_run_back(
    repository: StatusRepository,
) -> None:
    # Given a failed run whose only task failed, taken out of active_keys by a sweep
    spec = RunSpec(flow="LostFlow", run_id="13", max_retries=0)
    ingestor = Ingestor(repository)
    ingestor.ingest(_job(spec, "train", "2", "FAILED", T0 + 2 * MINUTE, outcome="user_code"))
    assert _run_cleared_by_a_sweep(repository, ingestor)
    writes = repository.write_requests

    # When a sibling's first event arrives late (it changes nothing the failed run shows)
    assert ingestor.ingest(_job(spec, "train", "3", "RUNNING", T0 + MINUTE)) == "applied"

    # Then the run is written again, so the next sweep watches that task
    stored = repository.load_run(spec_key(spec))
    assert stored is not None and stored.state.status == "failed"
    assert _active_run_ids() == ["13"]
    assert repository.write_requests == writes + 3  # the task's transaction, its job lookup, the run's put
    assert [(t.key.task_id, t.status) for t in SweepReads().active_tasks()] == [("3", "running")]

    # And a later event of a task that was already unfinished does not write the run again
    writes = repository.write_requests
    assert ingestor.ingest(_job(spec, "train", "3", "RUNNING", T0 + 3 * MINUTE)) in ("applied", "duplicate")
    assert repository.write_requests <= writes + 1


def _run_cleared_by_a_sweep(repository: StatusRepository, ingestor: Ingestor) -> bool:
    report = Sweeper(SweepReads(), repository, ingestor, SweepThresholds()).sweep(T0 + 10 * MINUTE)
    return report.runs_cleared == 1 and _active_run_ids() == []


def test_a_sweep_reads_by_the_active_runs_and_their_steps_counts(repository: StatusRepository) -> None:
    # Given a running run with a finished step (start), a step of running tasks only (train: 2 of 5 still
    # running), and a step with a pending task (join), and a second running run whose one task is running
    spec, other = RunSpec(flow="ReadFlow", run_id="21"), RunSpec(flow="ReadFlow", run_id="22")
    ingestor = Ingestor(repository)
    events = [_job(spec, "start", "1", "SUCCEEDED", T0 + MINUTE, outcome="ok")]
    events += [_job(spec, "train", str(t), "SUCCEEDED", T0 + 3 * MINUTE, outcome="ok") for t in range(2, 5)]
    events += [_job(spec, "train", str(t), "RUNNING", T0 + 2 * MINUTE) for t in (5, 6)]
    events += [_job(spec, "join", "7", "RUNNABLE", T0 + 4 * MINUTE), _job(other, "start", "1", "RUNNING", T0)]
    for event in events:
        assert ingestor.ingest(event) == "applied"

    reads = SweepReads()
    runs, tasks = reads.active_runs(), reads.active_tasks()

    # Then it finds every unfinished task, least recently active first
    assert [r.key.run_id for r in runs] == ["22", "21"]
    assert [(t.key.run_id, t.key.step, t.key.task_id, t.status) for t in tasks] == [
        ("22", "start", "1", "running"),
        ("21", "train", "5", "running"),
        ("21", "train", "6", "running"),
        ("21", "join", "7", "pending"),
    ]
    # with: the runs' keys (1 Query) and the runs (1 BatchGetItem); each run's step summaries (2 Queries);
    # train's running tasks (1 Query of by_step_status_keys, 1 BatchGetItem), join's task range (1 Query),
    # 22's start (1 Query, 1 BatchGetItem). The finished step and the finished train tasks are not read.
    # Items: 2 runs, 4 step summaries, 2 + 1 + 1 tasks.
    assert (reads.queries, reads.items) == (2 + 2 + 2 + 1 + 2, 2 + 4 + 4)


def spec_key(spec: RunSpec) -> RunKey:
    return RunKey(spec.flow, spec.run_id, account=FACTORY.account, region=FACTORY.region)
