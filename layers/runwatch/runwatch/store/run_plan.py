"""Which index serves a run listing: the filters a listing holds and the read that answers them.

Every run listing is one Query (two at most) on the index whose partition is the most selective filter
given (docs/design.md §3); `since`/`until` are key conditions on its sort key (`started_at#run`), and every
other filter is applied to the read of that index (a FilterExpression), so a page examines a bounded number
of runs. The choice is a pure function of the filter, kept here so it is tested on its own.

Order of preference, most selective first: a project's branch, the flow, the user, a tag (its own items,
then the runs they point at), a project's every branch, one status, and all runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from runwatch.domain.run_state import RunState
from runwatch.domain.times import iso
from runwatch.store.keys import (
    RECENT_RUNS,
    flow_pk,
    project_only_pk,
    project_pk,
    status_pk,
    tag_pk,
    user_pk,
)


@dataclass(frozen=True, slots=True)
class RunFilter:
    """Which runs a listing holds: each field given must match (every tag given must be on the run).

    `since` and `until` bound `started_at` (ISO 8601 as domain.times.iso spells it, both inclusive)."""

    flow: str | None = None
    statuses: tuple[str, ...] = ()
    user: str | None = None
    project: str | None = None
    branch: str | None = None
    tags: tuple[str, ...] = ()
    orchestrator: str | None = None
    account: str | None = None
    since: str | None = None
    until: str | None = None

    def describe(self) -> dict[str, str | None]:
        """The listing this filter makes, as page positions are bound to it (see runwatch.paging).

        The filters of the first release keep their spelling (tokens issued before stay valid); the later
        ones are added only when given."""
        status = ",".join(sorted(set(self.statuses))) or None
        described: dict[str, str | None]
        if self.flow is None:
            described = {"list": "runs", "status": status, "account": self.account}
        else:
            described = {"list": "flow_runs", "flow": self.flow, "status": status, "account": self.account}
        extra = {
            "user": self.user,
            "project": self.project,
            "branch": self.branch,
            "tag": "\n".join(sorted(set(self.tags))) or None,
            "orchestrator": self.orchestrator,
            "since": self.since,
            "until": self.until,
        }
        described.update({name: value for name, value in extra.items() if value is not None})
        return described

    def matches(self, run: RunState) -> bool:
        """Whether the run is one this listing holds (runs read through their tags are checked with it)."""
        started = iso(run.started_at)
        wanted = (
            (self.flow, run.key.flow),
            (self.user, run.user),
            (self.project, run.project),
            (self.branch, run.branch),
            (self.orchestrator, run.orchestrator),
            (self.account, run.account),
        )
        if any(value is not None and value != actual for value, actual in wanted):
            return False
        if self.statuses and run.status not in self.statuses:
            return False
        if not set(self.tags) <= set(run.tags):
            return False
        if started is None:
            return self.since is None and self.until is None
        return (self.since is None or started >= self.since) and (self.until is None or started <= self.until)


@dataclass(frozen=True, slots=True)
class ReadPlan:
    """The index to read (an index name, or "tags" for the run tag items), the partition key value that
    selects the runs, and which filters that key answers; all others are applied to the read.

    For "tags" the key answers the first tag in sorted order (`keyed_tag`); the other tags are filtered."""

    index: str
    partition: str
    keyed: frozenset[str]

    @property
    def keyed_tag(self) -> str | None:
        return self.partition.removeprefix("TAG#") if self.index == "tags" else None


def plan_read(where: RunFilter) -> ReadPlan:
    """The read that answers `where` with the fewest items examined."""
    if where.project is not None and where.branch is not None:
        return ReadPlan(
            "by_project", project_pk(where.project, where.branch), frozenset({"project", "branch"})
        )
    if where.flow is not None:
        return ReadPlan("by_flow", flow_pk(where.flow), frozenset({"flow"}))
    if where.user is not None:
        return ReadPlan("by_user", user_pk(where.user), frozenset({"user"}))
    if where.tags:
        return ReadPlan("tags", tag_pk(sorted(where.tags)[0]), frozenset({"tag"}))
    if where.project is not None:
        return ReadPlan("by_project_only", project_only_pk(where.project), frozenset({"project"}))
    if len(set(where.statuses)) == 1:
        return ReadPlan("by_status", status_pk(where.statuses[0]), frozenset({"status"}))
    return ReadPlan("recent", RECENT_RUNS, frozenset())
