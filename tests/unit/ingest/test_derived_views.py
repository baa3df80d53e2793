"""Derived views: after a join writes a change, every view is told the state before and after, once.

A view is what a per-step summary or any other item derived from runs and tasks plugs into: these tests use
recording views in place of such a summary, over the in-memory store.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

from runwatch.domain.run_state import RunKey, RunState
from runwatch.services.ingest import Ingestor
from runwatch.services.ingest.views import RunTagView
from runwatch.store.run_tags import tag_entries
from runwatch_dev.local.synth import RunSpec, simulate_run
from tests.fakes.memory_store import MemoryStore

T0 = 1_795_000_000_000


class Recording:
    def __init__(self) -> None:
        self.changes: list[tuple[Any, Any]] = []

    def update(self, before: Any, after: Any) -> None:
        self.changes.append((before, after))


def _events() -> list[dict[str, Any]]:
    return simulate_run(RunSpec(flow="TrainFlow", run_id="17", fanout=2, start_ms=T0), random.Random(1))


def test_views_see_every_written_change_and_end_with_the_stored_state() -> None:
    store, runs, tasks = MemoryStore(), Recording(), Recording()
    ingestor = Ingestor(store, run_views=[runs], task_views=[tasks])

    for event in _events():
        ingestor.ingest(event)

    assert runs.changes[0][0] is None  # the run's first write is a new item
    assert (
        runs.changes[-1][1]
        == store.runs[RunKey("TrainFlow", "17", account="123456789012", region="us-east-1")].state
    )
    writes = store.write_requests
    assert len(runs.changes) + len(tasks.changes) == writes  # a view is told exactly the state writes
    first_seen = {after.key for before, after in tasks.changes if before is None}
    assert first_seen == set(store.tasks)
    for key, stored in store.tasks.items():
        assert [after for _, after in tasks.changes if after.key == key][-1] == stored.state


def test_duplicates_tell_the_views_nothing() -> None:
    store, runs, tasks = MemoryStore(), Recording(), Recording()
    ingestor = Ingestor(store, run_views=[runs], task_views=[tasks])
    events = _events()
    for event in events:
        ingestor.ingest(event)
    told = (len(runs.changes), len(tasks.changes))

    for event in events:
        ingestor.ingest(event)

    assert (len(runs.changes), len(tasks.changes)) == told


def test_the_flow_entry_is_the_default_view() -> None:
    store = MemoryStore()
    ingestor = Ingestor(store)
    for event in _events():
        ingestor.ingest(event)

    assert store.flows == {"TrainFlow": "17"}


def test_run_tag_items_follow_the_run_in_any_event_order() -> None:
    """The default views keep one tag item per (tag, run) under the run's final start, whatever the order."""
    spec = RunSpec(flow="TrainFlow", run_id="17", fanout=2, start_ms=T0, tags=("team:ml", "sweep"))
    events = simulate_run(spec, random.Random(1))
    key = RunKey("TrainFlow", "17", account="123456789012", region="us-east-1")
    finals = []
    for seed in range(5):
        shuffled = list(events)
        random.Random(seed).shuffle(shuffled)
        store = MemoryStore()
        ingestor = Ingestor(store)
        for event in shuffled:
            ingestor.ingest(event)
        run = store.runs[key].state
        assert run.tags
        expected = set(tag_entries(run))
        assert set(store.run_tags) == expected
        assert set(store.run_tags.values()) == {key}
        finals.append(expected)
    assert all(final == finals[0] for final in finals)


def test_the_tag_view_writes_only_when_what_the_items_hold_changes() -> None:
    told: list[tuple[Any, Any]] = []

    class Tags:
        def record_run_tags(self, before: Any, after: Any) -> None:
            told.append((before, after))

    view = RunTagView(Tags())
    run = RunState(
        key=RunKey("F", "1", account="123456789012", region="us-east-1"),
        orchestrator="batch",
        tags=("a",),
        first_seen_at=T0,
    )
    view.update(None, run)
    view.update(run, replace(run, end_succeeded_at=T0 + 5))  # a status change: the items hold no status
    earlier = replace(run, first_seen_at=T0 - 5)
    view.update(run, earlier)
    view.update(earlier, replace(earlier, tags=("a", "b")))
    assert [after.first_seen_at for _, after in told] == [T0, T0 - 5, T0 - 5]
