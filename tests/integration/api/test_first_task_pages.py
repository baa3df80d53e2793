"""A run detail's task pages, read for all steps together, are the pages each step's own listing gives."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from runwatch.domain.run_state import RunKey
from runwatch.services.ingest import Ingestor
from runwatch.store.keyed_reads import KeyedReads, RawItem, TableKey
from runwatch.store.keys import run_pk, task_sk
from runwatch.store.repository import StatusRepository
from runwatch.store.run_queries import RunReader
from runwatch_dev.local.synth import RunSpec, simulate_run

SPEC = RunSpec(flow="PagesFlow", run_id="1795000000000042", fanout=12, start_ms=1_795_000_000_000)
KEY = RunKey(SPEC.flow, SPEC.run_id, account="123456789012", region="us-east-1")
STEPS = ["start", "train", "join", "end"]
LIMIT = 5


def _ingested(repository: StatusRepository) -> None:
    ingestor = Ingestor(repository)
    for event in simulate_run(SPEC, random.Random(3)):
        ingestor.ingest(event)


def test_the_pages_equal_each_steps_own_first_page_in_two_rounds_of_requests(
    repository: StatusRepository,
) -> None:
    _ingested(repository)
    reader = RunReader()
    _, summaries = reader.run_with_steps(KEY)
    assert sorted(s.step for s in summaries) == sorted(STEPS)

    before = reader.calls
    pages = reader.first_task_pages(KEY, STEPS, LIMIT)
    # One Query of keys per step, then the 8 tasks (1 + 5 + 1 + 1) in one BatchGetItem.
    assert reader.calls - before == len(STEPS) + 1

    alone = {step: reader.step_tasks(KEY, step, LIMIT) for step in STEPS}
    assert pages == alone
    assert [len(pages[step].items) for step in STEPS] == [1, LIMIT, 1, 1]
    assert pages["train"].next_key is not None and pages["start"].next_key is None
    following = reader.step_tasks(KEY, "train", 100, pages["train"].next_key)
    ids = [t.key.task_id for t in pages["train"].items + following.items]
    assert len(ids) == len(set(ids)) == SPEC.fanout


def test_steps_of_one_task_are_read_whole_in_the_first_round_without_a_batch_get(
    repository: StatusRepository,
) -> None:
    _ingested(repository)
    reader = RunReader()
    single = ["start", "join", "end"]
    alone = {step: reader.step_tasks(KEY, step, LIMIT) for step in STEPS}

    before = reader.calls
    pages = reader.first_task_pages(KEY, single, LIMIT, single=set(single))
    assert reader.calls - before == len(single)  # one Query each, no BatchGetItem
    assert pages == {step: alone[step] for step in single}

    before = reader.calls
    assert reader.first_task_pages(KEY, STEPS, LIMIT, single=set(single)) == alone
    assert reader.calls - before == len(STEPS) + 1  # train's 5 tasks still take a BatchGetItem


def test_a_step_said_to_have_one_task_that_has_more_is_read_through_its_index(
    repository: StatusRepository,
) -> None:
    _ingested(repository)
    reader = RunReader()
    pages = reader.first_task_pages(KEY, ["train"], LIMIT, single={"train"})
    assert pages == {"train": reader.step_tasks(KEY, "train", LIMIT)}
    assert len(pages["train"].items) == LIMIT and pages["train"].next_key is not None


class _DeletingFirst(KeyedReads):
    """Deletes one item from the table just before the first read of items: a task gone after its key was
    listed and before its item was read."""

    def __init__(self, client: Any, table: str, doomed: TableKey) -> None:
        super().__init__()
        self.client, self.table, self.doomed = client, table, doomed
        self.deleted = False

    def items(self, keys: Iterable[TableKey]) -> dict[TableKey, RawItem]:
        if not self.deleted:
            pk, sk = self.doomed
            self.client.delete_item(TableName=self.table, Key={"pk": {"S": pk}, "sk": {"S": sk}})
            self.deleted = True
        return super().items(keys)


def test_a_step_that_lost_a_task_in_between_is_read_again_and_keeps_its_page_full(
    repository: StatusRepository, ddb_client: Any, table_name: str
) -> None:
    _ingested(repository)
    listed = RunReader().step_tasks(KEY, "train", LIMIT)
    second = listed.items[1].key
    doomed = (run_pk(KEY.account, KEY.region, KEY.flow, KEY.run_id), task_sk("train", second.task_id))
    reader = RunReader(keyed=_DeletingFirst(ddb_client, table_name, doomed))

    pages = reader.first_task_pages(KEY, STEPS, LIMIT)

    kept = [task.key for task in pages["train"].items]
    assert second not in kept and len(kept) == LIMIT
    assert pages["train"] == RunReader().step_tasks(KEY, "train", LIMIT)
    assert pages["start"] == RunReader().step_tasks(KEY, "start", LIMIT)
