"""Items found through a keys-only index: the index gives their keys, BatchGetItem the items themselves.

The task and sweeper indexes (`active_keys`, `by_queue_keys`, `by_step_keys`, `by_step_status_keys`) project
keys only, so an item's write reaches them only when their keys change instead of rewriting a copy of the whole
item at every event (docs/design.md §3). Their readers pay one BatchGetItem per 100 items instead: reads cost a
fifth of writes, and a task is written several times for each time it is listed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from typing import Any

from pynamodb.indexes import GlobalSecondaryIndex

from runwatch.store.guard import StoreUnavailable, guarded
from runwatch.store.models import TableItem
from runwatch.store.together import all_together

BATCH_GET_KEYS = 100  # BatchGetItem's limit per request
# DynamoDB hands back what it could not read in one request (throttling, 16 MB): asked again a few times.
MAX_UNPROCESSED_ROUNDS = 5
_UNPROCESSED_PAUSE_S = 0.05

type RawItem = dict[str, Any]
type RawKey = dict[str, Any]
type TableKey = tuple[str, str]


def table_key(raw: Mapping[str, Any]) -> TableKey:
    """The (pk, sk) of a raw item or index entry."""
    return raw["pk"]["S"], raw["sk"]["S"]


class KeyedReads:
    """Fetches the items of index entries; `requests` counts the BatchGetItems made."""

    def __init__(self) -> None:
        self.requests = 0

    def items_in_order(
        self, entries: Sequence[Mapping[str, Any]], needed: int | None = None
    ) -> list[RawItem]:
        """The raw items of raw index entries, in the entries' order; an item gone meanwhile is left out.

        Each item carries its entry's key attributes: an item changed since the index was read (a task that
        moved on to another status) keeps the position it was listed at, so a page goes on from there. With
        `needed`, only the first `needed` entries' items are read: the entries after them (a page's look-ahead,
        which only proves that a next page exists) stay keys only, unless an item before them was gone.
        """
        head = list(entries if needed is None else entries[:needed])
        found = self._in_order(head)
        rest = entries[len(head) :]
        if len(found) == len(head):
            return found + [dict(entry) for entry in rest]
        return found + self._in_order(rest)

    def _in_order(self, entries: Sequence[Mapping[str, Any]]) -> list[RawItem]:
        if not entries:
            return []
        return joined(entries, self.items(table_key(entry) for entry in entries))

    def items(self, keys: Iterable[TableKey]) -> dict[TableKey, RawItem]:
        """The raw items of table keys, by key; missing items are left out. One BatchGetItem per 100 keys, all
        sent at the same time (store/together.py)."""
        wanted = list(dict.fromkeys(keys))
        chunks = [wanted[first : first + BATCH_GET_KEYS] for first in range(0, len(wanted), BATCH_GET_KEYS)]
        found: dict[TableKey, RawItem] = {}
        for items, requests in all_together([partial(_batch, chunk) for chunk in chunks]):
            self.requests += requests
            found.update((table_key(item), item) for item in items)
        return found


def _batch(keys: list[TableKey]) -> tuple[list[RawItem], int]:
    """The items of at most 100 keys, asking again for those DynamoDB left unprocessed; and the requests made."""
    connection = TableItem._get_connection()
    table = connection.table_name
    pending: list[dict[str, Any]] = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in keys]
    items: list[RawItem] = []
    for round_ in range(MAX_UNPROCESSED_ROUNDS):
        if round_:
            time.sleep(_UNPROCESSED_PAUSE_S * 2**round_)
        # Keys given as attribute values: PynamoDB passes them through (its annotation says str).
        asked: Any = pending
        response = guarded(lambda: connection.batch_get_item(asked))  # noqa: B023 (called right away)
        items.extend(response.get("Responses", {}).get(table, []))
        pending = response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
        if not pending:
            return items, round_ + 1
    raise StoreUnavailable(
        f"BatchGetItem left {len(pending)} keys unread after {MAX_UNPROCESSED_ROUNDS} tries"
    )


def joined(entries: Iterable[Mapping[str, Any]], found: Mapping[TableKey, RawItem]) -> list[RawItem]:
    """Each entry's item with the entry's key attributes over it, in the entries' order; an entry whose item
    was not found (deleted since the index was read) is left out."""
    return [{**item, **entry} for entry in entries if (item := found.get(table_key(entry))) is not None]


def index_page(
    index: GlobalSecondaryIndex[Any], partition: str, size: int | None, start_key: RawKey | None = None
) -> dict[str, Any]:
    """One Query of an index partition, raw (`Items`, `LastEvaluatedKey`, ...): a model's query would filter on
    the item's kind, which a keys-only index does not hold."""
    connection = TableItem._get_connection()
    name = index.Meta.index_name
    return guarded(
        lambda: connection.query(partition, index_name=name, limit=size, exclusive_start_key=start_key)
    )


def index_entries(
    index: GlobalSecondaryIndex[Any], partition: str, limit: int | None = None
) -> list[RawItem]:
    """The raw entries of one index partition: all of them, or the first `limit`."""
    entries: list[RawItem] = []
    start_key: RawKey | None = None
    while limit is None or len(entries) < limit:
        page = index_page(index, partition, None if limit is None else limit - len(entries), start_key)
        entries.extend(page.get("Items", []))
        start_key = page.get("LastEvaluatedKey")
        if start_key is None:
            break
    return entries
