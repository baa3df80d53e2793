"""The run tag items: one per (tag, run), so runs can be listed by tag newest first.

A run's tags are a list, which cannot key an index; each tag gets a small item instead, partition
`TAG#<tag>`, sort key `<started_at>#<run_id>#<run pk>` (store/keys.py), holding the run's identity and
copies of the attributes a listing filters on. Items are written when a run's tags are first known and
again only when something they hold changes: a tag added, a copied attribute set, or the start moved
earlier (an earlier event arrived late), in which case the item under the old sort key is deleted. Joins
only add tags and only move the start earlier, so a key once deleted never comes back; readers check each
item against its run, so one left behind by a crash or a race is skipped, never shown.
"""

from __future__ import annotations

from runwatch.domain.run_state import RunState
from runwatch.domain.times import iso
from runwatch.store.keys import run_pk, started_sk, tag_pk, tag_sk
from runwatch.store.models import RunTagItem
from runwatch.store.records import expiry

# (partition, sort key) -> what the item holds besides its keys
TagEntries = dict[tuple[str, str], tuple[object, ...]]


def tag_entries(state: RunState | None) -> TagEntries:
    """The tag items a run's state calls for (none without tags or a known start)."""
    if state is None or not state.tags or state.started_at is None:
        return {}
    key = state.key
    started = started_sk(iso(state.started_at) or "", key.run_id)
    sk = tag_sk(started, run_pk(key.account, key.region, key.flow, key.run_id))
    held = (
        key.flow,
        key.run_id,
        key.account,
        key.region,
        started,
        state.orchestrator,
        state.user,
        state.project,
        state.branch,
        tuple(state.tags),
    )
    return {(tag_pk(tag), sk): held for tag in state.tags}


def tag_item(pk: str, sk: str, held: tuple[object, ...], expires_at: int) -> RunTagItem:
    flow, run_id, account, region, started, orchestrator, user, project, branch, tags = held
    return RunTagItem(
        pk,
        sk,
        flow=flow,
        run_id=run_id,
        account=account,
        region=region,
        started_sk=started,
        orchestrator=orchestrator,
        user=user,
        project=project,
        branch=branch,
        tags=list(tags),  # type: ignore[call-overload]
        expires_at=expires_at,
    )


def tag_changes(
    before: RunState | None, after: RunState, now_ms: int, retention_days: int
) -> tuple[list[RunTagItem], list[tuple[str, str]]]:
    """The items to put and the keys to delete to go from `before`'s tag items to `after`'s."""
    old, new = tag_entries(before), tag_entries(after)
    expires = expiry(now_ms, retention_days)
    puts = [tag_item(pk, sk, held, expires) for (pk, sk), held in new.items() if old.get((pk, sk)) != held]
    deletes = [key for key in old if key not in new]
    return puts, deletes
