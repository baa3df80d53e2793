"""Job lookups are queued by their view as tasks are written and go out together at the end of the batch:
one request per 25 lookups, none for a task whose write failed, and a request that fails fails the messages
of its tasks (and is tried again with the next batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from runwatch.domain.lookups import job_attempts
from runwatch.domain.task_state import TaskKey
from runwatch.services.ingest import Ingestor
from runwatch.services.ingest.views import MAX_HELD_LOOKUPS, JobLookupView
from runwatch.store.repository import StoreUnavailable
from runwatch_dev.local.synth import RunSpec, simulate_run
from tests.fakes.memory_store import MemoryStore
from tests.unit.ingest.scenarios import FailingStep

T0 = 1_795_000_000_000
WIDE = RunSpec("TrainFlow", "1795000000001", fanout=60, start_ms=T0)


def _messages(events: Sequence[dict[str, Any]], prefix: str = "m") -> list[tuple[str, dict[str, Any]]]:
    return [(f"{prefix}-{i}", event) for i, event in enumerate(events)]


def _ingestor(store: MemoryStore) -> Ingestor:
    return Ingestor(store, run_views=(), task_views=[JobLookupView(store)])


def _expected_lookups(store: MemoryStore) -> dict[str, tuple[TaskKey, int]]:
    """Each job id among the stored tasks' attempts -> its task and latest attempt."""
    return {
        job: (key, attempt)
        for key, stored in store.tasks.items()
        for job, attempt in job_attempts(stored.state).items()
    }


def test_a_batch_writes_its_lookups_together_25_a_request() -> None:
    events = simulate_run(WIDE)
    store = MemoryStore()

    result = _ingestor(store).ingest_batch(_messages(events))

    assert not result.failed
    expected = _expected_lookups(store)
    assert len(expected) == 63  # start, 60 train tasks, join, end: one job each
    assert store.job_requests == [25, 25, 13]
    assert {job: store.job(job) for job in expected} == expected


def test_a_lookup_is_written_once_whatever_the_duplicates_and_the_batches() -> None:
    events = simulate_run(WIDE)
    store = MemoryStore()
    ingestor = _ingestor(store)
    for first in range(0, len(events), 40):
        ingestor.ingest_batch(_messages(events[first : first + 40], f"b{first}"))
    written = sum(store.job_requests)

    ingestor.ingest_batch(_messages(events, "again"))

    assert written == len(_expected_lookups(store)) == len(store.jobs)
    assert sum(store.job_requests) == written  # nothing new: no request


def test_a_later_attempt_inside_the_same_job_is_its_own_item_and_the_newest_wins() -> None:
    spec = RunSpec(
        "TrainFlow",
        "sfn-5f0b1d2e",
        orchestrator="step-functions",
        fanout=2,
        start_ms=T0,
        outcomes={"train": {0: ["spot", "spot", "ok"]}},
    )
    events = simulate_run(spec)
    store = MemoryStore()
    ingestor = _ingestor(store)

    for message in _messages(events):  # one event a batch: each attempt is learnt in its own batch
        ingestor.ingest_batch([message])

    retried = next(key for key, stored in store.tasks.items() if len(stored.state.attempts) == 3)
    (job,) = job_attempts(store.tasks[retried].state)  # three attempts, one job id
    assert sorted(attempt for (j, attempt) in store.jobs if j == job) == [0, 1, 2]
    assert store.job(job) == (retried, 2)


def test_a_task_whose_write_failed_has_no_lookup() -> None:
    events = simulate_run(WIDE)
    store = FailingStep()

    result = _ingestor(store).ingest_batch(_messages(events))

    assert result.failed
    assert not any(key.step == "end" for key in store.jobs.values())
    assert {key.step for key in store.jobs.values()} == {"start", "train", "join"}


def test_lookups_that_did_not_land_fail_their_messages_and_go_out_with_the_next_batch() -> None:
    spec = RunSpec("TrainFlow", "1795000000002", fanout=2, start_ms=T0)
    events = simulate_run(spec)
    first, rest = events[:3], events[3:]  # the start task's first events: its job id is new
    store = MemoryStore(jobs_unavailable=True)
    ingestor = _ingestor(store)

    failed = ingestor.ingest_batch(_messages(first, "first")).failed

    assert set(failed) == {"first-0", "first-1", "first-2"}
    assert isinstance(failed["first-0"], StoreUnavailable)
    assert {key.step for key, _ in store.tasks.items()} == {"start"}  # the task itself was written
    assert not store.jobs

    store.jobs_unavailable = False
    redelivered = ingestor.ingest_batch(_messages(first, "again") + _messages(rest, "rest"))

    assert not redelivered.failed
    assert {job: store.job(job) for job in _expected_lookups(store)} == _expected_lookups(store)


def test_the_lookups_held_after_failures_are_bounded_and_the_newest_kept() -> None:
    store = MemoryStore(jobs_unavailable=True)
    view = JobLookupView(store)
    events = simulate_run(WIDE)
    tasks = [stored.state for stored in _store_of(events).tasks.values()]
    for round_ in range(20):
        for state in tasks:
            view.update(
                None,
                replace(
                    state, attempts=tuple(replace(a, job_id=f"{round_}-{a.job_id}") for a in state.attempts)
                ),
            )
        assert set(view.write_queued()) == {state.key for state in tasks}

    store.jobs_unavailable = False
    assert view.write_queued() == {}

    assert len(store.jobs) == MAX_HELD_LOOKUPS
    assert {job.split("-", 1)[0] for job, _ in store.jobs} == {
        str(n) for n in range(20 - MAX_HELD_LOOKUPS // 63 - 1, 20)
    }


def _store_of(events: Sequence[dict[str, Any]]) -> MemoryStore:
    store = MemoryStore()
    _ingestor(store).ingest_batch(_messages(events))
    return store
