"""A step's tasks filtered by status.

`by_step_status_keys` lists only running, retrying, failed and killed tasks (store/keys.py
INDEXED_TASK_STATUSES), so a task passing through pending, starting and succeeded writes no entry. A filter on
those statuses reads the step's pages and examines a bounded number of tasks per page: such a page may be
short while it says more follows, and walking the pages still gives every task in that status once, in order.
"""

from __future__ import annotations

from typing import Any

import pytest

from runwatch.domain.vocab import TASK_STATUSES
from runwatch.paging import InvalidToken, PageTokens, key_from_secret
from runwatch.services.queries import RunQueries
from runwatch.store.keyed_reads import KeyedReads
from runwatch.store.keys import INDEXED_TASK_STATUSES, run_pk, task_sk
from runwatch.store.repository import StatusRepository
from runwatch.store.run_queries import RunReader
from tests.integration.api.big_run import BigRun, big_tasks, seed_big_run

WIDTH = 40  # a failed task, two running, one waiting for its retry (pending), the rest succeeded


@pytest.fixture
def big(repository: StatusRepository) -> BigRun:
    return seed_big_run(repository, WIDTH)


def _walk(reader: RunReader, big: BigRun, status: str, limit: int) -> tuple[list[str], list[int]]:
    """Every page of the train step's tasks in `status`: the task ids in page order, and each page's size."""
    ids: list[str] = []
    sizes: list[int] = []
    start = None
    while True:
        page = reader.step_tasks(big.key, "train", limit, start, status)
        ids += [task.key.task_id for task in page.items]
        sizes.append(len(page.items))
        if page.next_key is None:
            return ids, sizes
        start = page.next_key


def _expected(big: BigRun, status: str) -> list[str]:
    return [t.key.task_id for t in big_tasks(big) if t.key.step == "train" and t.status == status]


@pytest.mark.parametrize("status", TASK_STATUSES)
def test_every_status_pages_exactly_its_tasks_in_display_order(big: BigRun, status: str) -> None:
    assert _walk(RunReader(), big, status, limit=3)[0] == _expected(big, status)


def test_an_unindexed_status_examines_at_most_its_budget_a_page(big: BigRun) -> None:
    reader = RunReader(task_filter_budget=7)
    calls: list[int] = []
    start = None
    ids: list[str] = []
    sizes: list[int] = []
    while True:
        before = reader.calls
        page = reader.step_tasks(big.key, "train", 7, start, "succeeded")
        calls.append(reader.calls - before)
        ids += [task.key.task_id for task in page.items]
        sizes.append(len(page.items))
        if page.next_key is None:
            break
        start = page.next_key
    assert ids == _expected(big, "succeeded")
    # Seven tasks examined a page (one Query of keys, one BatchGetItem): the pages that met a task in
    # another status are short, and still say that more follows.
    assert set(calls) == {2}
    assert len(sizes) == -(-WIDTH // 7)
    assert any(size < 7 for size in sizes[:-1])


def test_only_the_indexed_statuses_carry_a_status_index_entry(
    big: BigRun, ddb_client: Any, table_name: str
) -> None:
    key = big.key
    for task in big_tasks(big):
        stored = ddb_client.get_item(
            TableName=table_name,
            Key={
                "pk": {"S": run_pk(key.account, key.region, key.flow, key.run_id)},
                "sk": {"S": task_sk(task.key.step, task.key.task_id)},
            },
        )["Item"]
        assert ("step_status_pk" in stored) == (task.status in INDEXED_TASK_STATUSES), task.key
        assert stored["status"]["S"] == task.status


def test_a_status_the_steps_counts_say_none_of_reads_no_task(big: BigRun) -> None:
    keyed = KeyedReads()
    queries = RunQueries(RunReader(keyed=keyed), PageTokens(key_from_secret("s")))
    listing = queries.step_tasks(big.key, "train", "starting", 100, None)
    assert (listing.items, listing.next_token, keyed.requests) == ([], None, 0)
    with pytest.raises(InvalidToken):
        queries.step_tasks(big.key, "train", "starting", 100, "forged")
    # The same service reads the tasks of a status the counts hold.
    assert [t.key.task_id for t in queries.step_tasks(big.key, "train", "succeeded", 3, None).items] == (
        _expected(big, "succeeded")[:3]
    )
    assert keyed.requests == 1
