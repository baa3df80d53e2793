"""A batch of events is applied together: each item read once and written once, failures kept per message."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from runwatch.domain.step_summary import StepChange
from runwatch.domain.task_state import TaskState
from runwatch.services.ingest import Ingestor
from runwatch.services.ingest.views import FlowEntryView
from runwatch.store.repository import OutcomeUnknown, Versioned
from runwatch_dev.local.synth import RunSpec, simulate_run
from tests.fakes.memory_store import MemoryStore
from tests.unit.ingest.scenarios import FailingStep, recounted_steps, replay, run_of, snapshot

SPEC = RunSpec("TrainFlow", "1795000000001", fanout=6, start_ms=1_795_000_000_000)


def messages(events: list[dict[str, object]]) -> list[tuple[str, dict[str, object]]]:
    return [(f"m-{i}", event) for i, event in enumerate(events)]


def test_a_batch_writes_each_changed_item_once_and_reads_ahead_once() -> None:
    events = simulate_run(SPEC)
    one_by_one = replay(events)
    store = MemoryStore()

    # The state's own writes: the derived views' items (job lookups, run usage, tags) have their own tests.
    ingestor = Ingestor(store, run_views=[FlowEntryView(store)], task_views=())
    result = ingestor.ingest_batch(messages(events))

    assert set(result.outcomes) == {f"m-{i}" for i in range(len(events))}
    assert snapshot(store) == snapshot(one_by_one)
    assert store.steps == recounted_steps(store)
    # one transaction per step (4 steps) and one run write, against one write per change before
    assert store.write_requests == 4 + 1 + 1  # + the flow entry
    assert store.write_requests < one_by_one.write_requests / 5
    assert store.batch_reads == 1


def test_a_batch_that_changes_nothing_writes_nothing() -> None:
    events = simulate_run(SPEC)
    store = replay(events)
    writes = store.write_requests

    result = Ingestor(store).ingest_batch(messages(events))

    assert set(result.outcomes.values()) == {"duplicate"}
    assert store.write_requests == writes


def test_a_failed_write_fails_only_the_messages_behind_it_and_their_run_learns_nothing_from_it() -> None:
    events = simulate_run(SPEC)
    store = FailingStep()

    result = Ingestor(store).ingest_batch(messages(events))

    failed = {
        events[int(m.removeprefix("m-"))]["detail"]["parameters"]["metaflow.step_name"] for m in result.failed
    }
    assert failed == {"end"}
    assert len(result.outcomes) + len(result.failed) == len(events)
    assert not any(key.step == "end" for key in store.tasks)
    assert run_of(store, SPEC.flow, SPEC.run_id).status == "running"  # the end step's success is not known

    retried = [(m, events[int(m.removeprefix("m-"))]) for m in result.failed]
    healthy = MemoryStore(tasks=store.tasks, runs=store.runs, step_items=store.step_items, flows=store.flows)
    assert not Ingestor(healthy).ingest_batch(retried).failed
    assert snapshot(healthy) == snapshot(replay(events))


def test_a_consumer_that_met_another_on_a_step_item_writes_that_step_to_shards_from_then_on() -> None:
    events = simulate_run(RunSpec("TrainFlow", "1795000000002", fanout=40, start_ms=1_795_000_000_000))
    asked: list[int] = []  # the shards the train step's writes went to (0: its item)

    def taken(step: str, shard: int) -> bool:
        if step != "train":
            return False
        asked.append(shard)
        return asked == [0]  # only the step's first write finds its item held

    store = MemoryStore(taken=taken)
    ingestor = Ingestor(store)
    for first in range(0, len(events), 10):
        result = ingestor.ingest_batch(messages(events[first : first + 10]))
        assert not result.failed

    assert store.steps == recounted_steps(store) == replay(events).steps
    assert ingestor.joins.conflicts == 1 and ingestor.joins.lost_on == {"step": 1}
    assert len(asked) > 3 and asked.count(0) == 1  # after that, straight to the shards
    assert {shard for (_, _, step, shard) in store.step_items if step == "train"} == set(asked[1:])


def test_writers_that_never_meet_keep_one_item_per_step() -> None:
    store = replay(simulate_run(SPEC))
    assert {shard for (*_, shard) in store.step_items} == {0}


class RacedTasks(MemoryStore):
    """Another consumer rewrites the last task of each of the first `races` writes just before they land."""

    def __init__(self, races: int) -> None:
        super().__init__()
        self.races = races
        self.sizes: list[int] = []

    def save_tasks(
        self, writes: Sequence[tuple[TaskState, int | None]], change: StepChange | None, spread: bool = False
    ) -> list[int]:
        self.sizes.append(len(writes))
        stored = self.tasks.get(writes[-1][0].key)
        if len(self.sizes) <= self.races and stored is not None:
            # rewritten by someone else with nothing changed: only its version moves on
            self.tasks[writes[-1][0].key] = Versioned(stored.state, stored.version + 1)
        return super().save_tasks(writes, change, spread)


def test_a_part_that_keeps_losing_races_is_halved_and_still_ends_in_the_in_order_state() -> None:
    events = simulate_run(RunSpec("TrainFlow", "1795000000003", fanout=16, start_ms=1_795_000_000_000))
    store = replay(events[: len(events) // 2], RacedTasks(races=0))
    before = len(store.sizes)
    store.races = before + 5
    ingestor = Ingestor(store)

    result = ingestor.ingest_batch(messages(events[len(events) // 2 :]))

    assert not result.failed
    assert snapshot(store) == snapshot(replay(events))
    assert store.steps == recounted_steps(store)
    assert ingestor.joins.conflicts == 5 and ingestor.joins.lost_on == {"tasks": 5}
    whole = store.sizes[before]
    assert store.sizes[before : before + 3] == [whole, whole, whole // 2]  # tried again whole, then halved


@pytest.mark.parametrize(
    ("sent_back", "reads_after_losses"),
    [(True, 0), (False, 3)],
    ids=["tasks sent back with the loss are not read", "tasks only named by the loss are read again"],
)
def test_tasks_a_lost_race_names_are_joined_again(sent_back: bool, reads_after_losses: int) -> None:
    events = simulate_run(RunSpec("TrainFlow", "1795000000004", fanout=8, start_ms=1_795_000_000_000))
    store = replay(events[: len(events) // 2], RacedTasks(races=0))
    store.races = len(store.sizes) + 3
    store.stale_items_found = sent_back
    ingestor = Ingestor(store)
    reads = store.batch_reads

    result = ingestor.ingest_batch(messages(events[len(events) // 2 :]))

    assert not result.failed
    assert snapshot(store) == snapshot(replay(events))
    assert ingestor.joins.lost_on == {"tasks": 3}
    assert store.batch_reads == reads + 1 + reads_after_losses  # the batch's read-ahead, then the re-reads


class Recorder:
    """A task view that remembers what it was told."""

    def __init__(self) -> None:
        self.seen: list[tuple[TaskState | None, TaskState]] = []

    def update(self, before: TaskState | None, after: TaskState) -> None:
        self.seen.append((before, after))


class UnknownOutcome(MemoryStore):
    """The first task transaction ends in a server error, after being applied (`applied`) or not."""

    def __init__(self, applied: bool) -> None:
        super().__init__()
        self.applied = applied
        self.errors = 1

    def save_tasks(
        self, writes: Sequence[tuple[TaskState, int | None]], change: StepChange | None, spread: bool = False
    ) -> list[int]:
        if self.errors and len(writes) > 1:
            self.errors -= 1
            if self.applied:
                super().save_tasks(writes, change, spread)
            raise OutcomeUnknown("TransactWriteError: InternalServerError")
        return super().save_tasks(writes, change, spread)


@pytest.mark.parametrize("applied", [True, False])
def test_a_transaction_of_unknown_outcome_is_read_back_and_counted_once(applied: bool) -> None:
    events = simulate_run(SPEC)
    store = UnknownOutcome(applied)
    views = Recorder()
    ingestor = Ingestor(store, run_views=(), task_views=[views])

    result = ingestor.ingest_batch(messages(events))

    assert not result.failed and store.errors == 0
    assert snapshot(store) == snapshot(replay(events))
    assert store.steps == recounted_steps(store)  # the step change was added exactly once
    assert ingestor.joins.server_errors == 1 and ingestor.joins.conflicts == 0
    assert {after.key for _, after in views.seen} == set(store.tasks)  # every written task was told


class CountingParkedReads(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.parked_reads = 0

    def parked_executions(self, execution_arn: str) -> list[tuple[str, str]]:
        self.parked_reads += 1
        return super().parked_executions(execution_arn)


def test_a_batch_reads_an_executions_parked_events_once_and_applies_them() -> None:
    spec = RunSpec(
        "TrainFlow",
        "sfn-6b1c",
        fanout=6,
        orchestrator="step-functions",
        state_machine="arn:aws:states:us-east-1:123456789012:stateMachine:TrainFlow",
        start_ms=1_795_000_000_000,
    )
    events = simulate_run(spec)
    store = CountingParkedReads()
    replay([e for e in events if e["source"] == "aws.states"], store)  # nothing names the machine yet: parked
    jobs = [e for e in events if e["source"] == "aws.batch"]

    Ingestor(store).ingest_batch(messages(jobs))

    assert len(jobs) > 10 and store.parked_reads == 1
    assert all(not parked for parked in store.parked.values())
    assert snapshot(store) == snapshot(replay(events))
