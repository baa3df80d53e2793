"""The benchmark's fast seeding writes the very items ingest would (an ended run as the sweeper then leaves it):
the run item and its tag items."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bench.seed import raw_run_item, raw_tag_items
from runwatch.domain.run_state import RunKey, RunState
from runwatch.domain.task_state import Failure
from runwatch.store import run_tags
from runwatch.store.records import run_to_item

T0 = 1_795_000_000_000
NOW = T0 + 3_600_000
BASE = RunState(
    key=RunKey("demo.prod.TrainFlow", "17950000000042", account="123456789012", region="eu-west-1"),
    orchestrator="batch",
    user="alice",
    project="demo",
    branch="prod",
    tags=("env:prod", "team:ml"),
    first_seen_at=T0,
)
RUNS = [
    BASE,
    replace(BASE, end_succeeded_at=T0 + 600_000),
    replace(BASE, failures=(Failure(T0 + 300_000, "train", "3", 2, "oom", "OutOfMemoryError", 137),)),
    replace(BASE, user=None, project=None, branch=None, tags=(), orchestrator="step-functions"),
    replace(BASE, branch=None, tags=("only",)),
]


@pytest.mark.parametrize("state", RUNS)
def test_raw_items_equal_what_ingest_writes(state: RunState) -> None:
    written = run_to_item(state, 1, NOW, 90).serialize()
    if state.is_terminal:  # a sweep takes an ended run out of active_keys
        del written["active_pk"]
    assert raw_run_item(state, NOW, 90) == written
    puts, deletes = run_tags.tag_changes(None, state, NOW, 90)
    assert deletes == []
    expected = sorted((item.serialize() for item in puts), key=lambda raw: raw["pk"]["S"])
    assert sorted(raw_tag_items(state, NOW, 90), key=lambda raw: raw["pk"]["S"]) == expected
