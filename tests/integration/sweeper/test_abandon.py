"""Abandoned local runs: nothing in flight and no news for ABANDONED_AFTER_HOURS -> unknown, until news comes."""

from __future__ import annotations

import copy

from runwatch.domain.run_state import RunKey
from runwatch.events.described import event_time
from runwatch.services.ingest import Ingestor
from runwatch.store.repository import StatusRepository
from tests.integration.sweeper.conftest import Clock, make_sweeper, sample

HOUR = 3_600_000
RUN = RunKey("FanoutFlow", "1795719352434625", account="123456789012", region="us-east-1")


def _status(repository: StatusRepository, key: RunKey = RUN) -> str:
    run = repository.load_run(key)
    assert run is not None
    return run.state.status


def test_abandoned_local_run_becomes_unknown_and_a_later_event_revives_it(
    repository: StatusRepository, clock: Clock
) -> None:
    # Given a local run whose start step succeeded and then nothing more (its orchestrator went away)
    ingestor = Ingestor(repository)
    for name in ("01_start_RUNNABLE", "02_start_SUCCEEDED"):
        ingestor.ingest(sample(f"local_run/{name}.json"))
    last = sample("local_run/02_start_SUCCEEDED.json")["detail"]["stoppedAt"]
    sweeper = make_sweeper(repository, abandoned_after_hours=12)

    # When sweeps run 11 and 13 hours later, then again
    reports = [sweeper.sweep(last + h * HOUR) for h in (11, 13, 14)]

    # Then it is abandoned once, as unknown
    assert [r.abandoned for r in reports] == [0, 1, 0]
    assert _status(repository) == "unknown"

    # When an event comes after that (the user resumed the same run)
    later = copy.deepcopy(sample("local_run/03_train_task2_RUNNING.json"))
    later["time"] = event_time(last + 15 * HOUR)
    assert Ingestor(repository).ingest(later) == "applied"

    # Then the run is running again, and the next sweep leaves it alone (its task is in flight)
    assert _status(repository) == "running"
    assert sweeper.sweep(last + 30 * HOUR).abandoned == 0
    assert _status(repository) == "running"


def test_a_quiet_run_with_a_task_in_flight_is_not_abandoned(
    repository: StatusRepository, clock: Clock
) -> None:
    running = sample("local_run/03_train_task2_RUNNING.json")
    Ingestor(repository).ingest(running)

    report = make_sweeper(repository, abandoned_after_hours=12).sweep(
        running["detail"]["startedAt"] + 20 * HOUR
    )

    assert report.abandoned == 0
    assert _status(repository) == "running"


def test_step_functions_runs_are_never_abandoned(repository: StatusRepository, clock: Clock) -> None:
    started = sample("sfn_run/01_execution_RUNNING.json")
    ingestor = Ingestor(repository)
    ingestor.ingest(started)
    ingestor.ingest(sample("sfn_run/05_end_job_SUCCEEDED.json"))  # identifies the state machine

    report = make_sweeper(repository).sweep(started["detail"]["startDate"] + 48 * HOUR)

    assert report.abandoned == 0
