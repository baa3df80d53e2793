"""The bundled demo, played instantly with a fake clock into a DynamoDB Local table through the event intake.

Given the demo's schedule, when a player with a clock the test moves plays it, then every run it promises is
in the table as the API shows it: a succeeded foreach, a spot reclaim retried (by Metaflow, and inside a
Step Functions job), an OOM failure with that root cause, a run still going with a blocked task, and the
history; and every event's own times are the (fake) wall clock at which it was played.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from runwatch.api.mapping import run_detail
from runwatch.api.schemas import RunDetail
from runwatch.paging import PageTokens, key_from_secret
from runwatch.services.ingest import Ingestor
from runwatch.services.queries import RunQueries
from runwatch.settings import TableSettings
from runwatch.store.run_queries import RunReader
from runwatch.wiring import bind_table
from runwatch_dev.local.dead_letters import FileDeadLetters
from runwatch_dev.local.demo import BLOCKED_REASON, Demo, DemoPlayer, build_demo
from runwatch_dev.local.dynamodb_local import DynamoDBLocal
from runwatch_dev.local.intake import EventIntake
from runwatch_dev.local.table_from_template import create_table

START = 1_795_800_000.25  # epoch seconds, not on a whole second like a real start
TABLE = "runwatch-demo-test"


@dataclass
class FakeClock:
    now: float
    waits: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.now += seconds
        return False  # never asked to stop


@dataclass
class RecordingSink:
    """The intake, remembering when (by the fake clock) each batch was handed over."""

    intake: EventIntake
    clock: FakeClock
    played: list[tuple[float, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, events: list[dict[str, Any]]) -> object:
        self.played += [(self.clock.now, event) for event in events]
        report = self.intake.ingest_all(events)
        assert report.rejected == 0, report.errors
        return report


@dataclass(frozen=True)
class Played:
    demo: Demo
    sink: RecordingSink
    dead_letters: Path


@pytest.fixture(scope="module")
def played(
    dynamodb_local: DynamoDBLocal, ddb_client: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Played]:
    """The whole demo played once into a table of its own; the tests below read it."""
    create_table(ddb_client, TABLE)
    repository = bind_table(TableSettings(table_name=TABLE, dynamodb_endpoint=dynamodb_local.endpoint))
    dead_letters = tmp_path_factory.mktemp("demo") / "dead-letters.jsonl"
    clock = FakeClock(START)
    sink = RecordingSink(EventIntake(Ingestor(repository), FileDeadLetters(dead_letters)), clock)
    player = DemoPlayer(sink, clock=clock.time, wait=clock.wait)

    demo = player.play()

    assert player.finished and player.played == len(demo.schedule) + len(demo.history)
    yield Played(demo, sink, dead_letters)
    ddb_client.delete_table(TableName=TABLE)


@pytest.fixture
def runs(played: Played, dynamodb_local: DynamoDBLocal) -> dict[str, RunDetail]:
    """Each promised run as GET /flows/{flow}/runs/{run_id} returns it, by story."""
    # Other tests bind their own tables.
    bind_table(TableSettings(table_name=TABLE, dynamodb_endpoint=dynamodb_local.endpoint))
    queries = RunQueries(RunReader(), PageTokens(key_from_secret("demo")))
    return {run.story: run_detail(queries.run(run.flow, run.run_id)) for run in played.demo.runs}


def _ms(iso: str | None) -> int:
    assert iso is not None
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def test_every_promised_run_ends_as_promised(played: Played, runs: dict[str, RunDetail]) -> None:
    demo = played.demo
    for promise in demo.runs:
        run = runs[promise.story]
        assert run.status == promise.status, promise.story
        assert run.orchestrator == promise.orchestrator, promise.story
        assert (run.failure.failure_class if run.failure else None) == promise.failure_class, promise.story
    assert {run.flow for run in demo.runs} == {"FanoutFlow", "TrainFlow", "ScoringFlow", "ReportFlow"}


def test_a_foreach_fans_out_and_succeeds(runs: dict[str, RunDetail]) -> None:
    run = runs["foreach over 6 splits"]
    train = next(step for step in run.steps if step.step == "train")
    assert [step.step for step in run.steps] == ["start", "train", "join", "end"]
    assert train.task_counts == {"succeeded": 6}
    assert sorted(task.split_index for task in train.tasks) == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    "story",
    ["a spot reclaim, retried as a new job", "Step Functions; a spot reclaim retried inside the Batch job"],
)
def test_a_spot_reclaim_is_retried_and_the_run_succeeds(runs: dict[str, RunDetail], story: str) -> None:
    run = runs[story]
    retried = [task for step in run.steps for task in step.tasks if len(task.attempts) > 1]
    assert run.status == "succeeded"
    assert len(retried) == 1
    first, second = retried[0].attempts
    assert (first.status, first.failure_class) == ("failed", "spot_reclaim")
    assert first.status_reason is not None and first.status_reason.startswith("Host EC2")
    assert second.status == "succeeded"


def test_an_oom_failure_is_the_root_cause_and_kills_the_siblings(runs: dict[str, RunDetail]) -> None:
    run = runs["out of memory twice: the run fails"]
    assert run.failure is not None
    assert (run.failure.step, run.failure.failure_class, run.failure.exit_code) == ("train", "oom", 137)
    train = next(step for step in run.steps if step.step == "train")
    failed = [task for task in train.tasks if task.status == "failed"]
    assert len(failed) == 1 and [a.failure_class for a in failed[0].attempts] == ["oom", "oom"]
    assert set(train.task_counts) <= {"failed", "killed", "succeeded"}
    assert [step.step for step in run.steps] == ["start", "train"]  # later steps never started


def test_one_run_is_still_going_with_a_task_on_a_blocked_queue(runs: dict[str, RunDetail]) -> None:
    run = runs["still going: one task waits on a blocked queue"]
    tasks = [task for step in run.steps for task in step.tasks]
    assert run.status == "running" and run.finished_at is None
    blocked = [task for task in tasks if task.blocked_reason]
    assert len(blocked) == 1 and blocked[0].status == "pending"
    assert blocked[0].blocked_reason == BLOCKED_REASON
    assert any(task.status == "running" for task in tasks)


def test_live_runs_are_compressed_into_about_a_minute_or_so(
    played: Played, runs: dict[str, RunDetail]
) -> None:
    demo = played.demo
    for promise in demo.runs:
        run = runs[promise.story]
        if promise.live and run.finished_at is not None:
            seconds = (_ms(run.finished_at) - _ms(run.started_at)) / 1000
            assert 30 <= seconds <= 100, promise.story
    assert 60 <= demo.duration <= 150


def test_events_are_stamped_with_the_clock_at_which_they_are_played(played: Played) -> None:
    demo, sink = played.demo, played.sink
    start_ms = int(START * 1000)
    assert len(sink.played) == len(demo.schedule) + len(demo.history)
    for played_at, event in sink.played:
        detail = event["detail"]
        at = _ms(event["time"])
        times = [
            detail.get(name) for name in ("createdAt", "startedAt", "stoppedAt", "startDate", "stopDate")
        ]
        times += [a.get(name) for a in detail.get("attempts") or [] for name in ("startedAt", "stoppedAt")]
        assert all(t <= at for t in times if t is not None), event["time"]
        assert detail.get("startedAt") is None or detail.get("createdAt", 0) <= detail["startedAt"]
        if at >= start_ms:  # live: played when the clock reaches its time (which is a whole second)
            assert at <= played_at * 1000 < at + 1000
        else:  # history: sent while the first live event is not due yet
            assert played_at == START and at >= start_ms - 27 * 3_600_000
    assert sink.clock.waits and all(wait > 0 for wait in sink.clock.waits)


def test_nothing_is_rejected_and_another_start_makes_other_runs(played: Played) -> None:
    demo = played.demo
    later = build_demo(demo.start_ms + 600_000)
    assert not played.dead_letters.exists()
    assert {run.run_id for run in later.runs}.isdisjoint(run.run_id for run in demo.runs)
    assert _same_plan(demo, build_demo(demo.start_ms))


def _same_plan(one: Demo, other: Demo) -> bool:
    """Event ids are random; everything else is a function of the start."""
    strip = [({k: v for k, v in item.event.items() if k != "id"}, item.offset) for item in one.schedule]
    other_strip = [
        ({k: v for k, v in item.event.items() if k != "id"}, item.offset) for item in other.schedule
    ]
    return one.runs == other.runs and strip == other_strip


def test_the_player_stops_when_asked() -> None:
    clock = FakeClock(START)
    batches: list[list[dict[str, Any]]] = []
    stop_after = len(build_demo(int(START * 1000)).history) + 3  # the history, then three live batches

    def wait(seconds: float) -> bool:
        clock.now += seconds
        return len(batches) >= stop_after

    player = DemoPlayer(batches.append, clock=clock.time, wait=wait)
    demo = player.play()

    assert len(batches) == stop_after and not player.finished
    assert player.played < len(demo.schedule)
    assert clock.now < START + demo.duration
