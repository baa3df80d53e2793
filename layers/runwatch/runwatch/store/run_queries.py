"""Read side of the table for the status API: every listing is a bounded Query on the table or a GSI.

Pages are newest first (runs) or by name (flows). A page asks DynamoDB for one item more than it returns,
so `next_key` is set only when something follows, and it is the key of the last item returned, so the
next page starts right after it with no gap and no repeat.

Run listings read the index store/run_plan.py picks for their filters; `since`/`until` are key conditions,
the other filters a FilterExpression. DynamoDB charges and pages by the items it evaluates, not the ones it
returns, so a page makes at most two Queries evaluating at most `filter_budget` items together and then
returns what it found with a position to go on from: a page may hold fewer runs than asked for, even
none, while `next_key` is set. That keeps every request's cost bounded however rare the match. Runs by tag
read the tag's items (`TAG#<tag>`) the same way, then the runs in one BatchGetItem.

A run's detail is bounded whatever the run's size: one Query for the run item and its step summaries (the
sort keys before `TASK#`), then one page per step from the `by_step_keys` index (or `by_step_status_keys` for
one of the statuses it lists; the others filter the step's pages), whose sort key is the display order of tasks; those indexes hold keys only, so a page of tasks is
one Query for their keys and one BatchGetItem for the tasks (store/keyed_reads.py). The detail reads all its
steps' first pages in two rounds (first_task_pages): the steps' Queries of keys sent together, then the tasks of
all of them in one BatchGetItem per 100, sent together (store/together.py); a step of one task is read whole in
the first round instead. Which index and key condition list a step's tasks is said once, in _step_task_keys.

Items leave as domain states (RunState, TaskState, StepSummary; a flow as the key of its newest run), so
callers never see the table's items or keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import partial
from typing import Any

from pynamodb.attributes import NumberAttribute
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from runwatch.domain.flow_health import FinishedRun
from runwatch.domain.lookups import JobAttempt
from runwatch.domain.run_state import RunKey, RunState
from runwatch.domain.step_summary import StepSummary
from runwatch.domain.task_state import AttemptState, TaskKey, TaskState
from runwatch.domain.times import iso
from runwatch.domain.usage import UsageTotals
from runwatch.domain.vocab import TERMINAL_RUN_STATUSES
from runwatch.store.guard import guarded
from runwatch.store.keyed_reads import KeyedReads, index_page, joined, table_key
from runwatch.store.keys import (
    FLOWS_PK,
    INDEXED_TASK_STATUSES,
    JOB_SK,
    RUN_SK,
    flow_pk,
    job_pk,
    run_id_pk,
    run_pk,
    started_range,
    started_sk,
    step_status_pk,
    step_tasks_pk,
    task_sk,
)
from runwatch.store.models import (
    AttemptAttribute,
    FlowItem,
    JobItem,
    RunItem,
    RunTagItem,
    TableItem,
    TaskItem,
)
from runwatch.store.records import run_from_item, task_from_item
from runwatch.store.run_head import run_head_query, split_run_head
from runwatch.store.run_plan import ReadPlan, RunFilter, plan_read
from runwatch.store.step_items import step_summaries
from runwatch.store.together import all_together

RawKey = dict[str, dict[str, str]]
Position = dict[str, str]

# DynamoDB's limits on key attribute values (bytes): a longer value cannot be a position we issued.
MAX_KEY_BYTES = 2048
DEFAULT_FILTER_BUDGET = 1000
# A step's tasks filtered on a status their index does not list: each task examined is read (the index
# holds keys only), so a page examines at most this many, in BatchGetItems of 100 sent together.
TASK_FILTER_BUDGET = 500
# The first filtered call reads a few pages' worth; the second (and last) reads the rest of the budget.
FILTER_FIRST_CALL = 100
MAX_QUERIES_PER_PAGE = 2
# Accounts x regions one (flow, run id) is looked up in; more than this many are not told apart by the API.
MAX_RUN_LOCATIONS = 50
# Runs in flight a flow's health read may pass over on top of the finished runs it counts.
RUNNING_ALLOWANCE = 100


class InvalidStartKey(ValueError):
    """A start position that does not belong to the listing it was given to."""


@dataclass(frozen=True, slots=True)
class Page[T]:
    items: list[T]
    next_key: Position | None


@dataclass(frozen=True, slots=True)
class _Listing:
    """Which key attributes make up a position, and which of them is fixed by the query."""

    key_names: tuple[str, ...]
    partition_name: str
    partition_value: str

    def check(self, start: Position | None) -> RawKey | None:
        if start is None:
            return None
        if set(start) != set(self.key_names) or start[self.partition_name] != self.partition_value:
            raise InvalidStartKey("position belongs to another listing")
        if any(not value or len(value.encode()) > MAX_KEY_BYTES for value in start.values()):
            raise InvalidStartKey("position has an invalid key value")
        return {name: {"S": value} for name, value in start.items()}

    def position_of(self, raw_item: Mapping[str, Any]) -> Position:
        return {name: raw_item[name]["S"] for name in self.key_names}


def _table_key_names(model: type[Model]) -> tuple[str, str]:
    return str(model._hash_keyname), str(model._range_keyname)


def _index_key_names(index: GlobalSecondaryIndex[Any]) -> tuple[str, str]:
    attributes = index.Meta.attributes.values()
    hash_name = next(a.attr_name for a in attributes if a.is_hash_key)
    range_name = next(a.attr_name for a in attributes if a.is_range_key)
    return hash_name, range_name


_RUN_INDEXES: dict[str, GlobalSecondaryIndex[Any]] = {
    "by_project": RunItem.by_project_index,
    "by_flow": RunItem.by_flow_index,
    "by_user": RunItem.by_user_index,
    "by_project_only": RunItem.by_project_only_index,
    "by_status": RunItem.by_status_index,
    "recent": RunItem.recent_index,
}


def _index_listing(index: GlobalSecondaryIndex[Any], partition_value: str) -> _Listing:
    hash_name, range_name = _index_key_names(index)
    return _Listing((*_table_key_names(RunItem), hash_name, range_name), hash_name, partition_value)


# A task's attempts are decoded here rather than by PynamoDB, whose list-of-maps decoding deep-copies the
# attribute definitions for every task: for a 200-task run that was most of the request's CPU time. The
# result is the same TaskState records.task_from_item builds (a unit test compares the two).
_KIND = TableItem.kind.attr_name
_TASK_KIND = TableItem.kind.get_discriminator(TaskItem)
_RUN_KIND = TableItem.kind.get_discriminator(RunItem)
_ATTEMPTS = TaskItem.attempts.attr_name
_ATTEMPT_FIELDS = tuple(
    (name, attr.attr_name, isinstance(attr, NumberAttribute))
    for name, attr in AttemptAttribute.get_attributes().items()
)


def _raw_int(text: str) -> int:
    """A DynamoDB number as an int: its digits, or (rarely) a decimal form like `1.0`."""
    try:
        return int(text)
    except ValueError:
        return int(json.loads(text))


def _raw_number(text: str) -> int | float:
    """A DynamoDB number: an int when whole (`3`, `1.0`), else a float (a fractional vCPU count). Most are
    digits, which int() reads several times faster than json.loads (a detail reads a thousand numbers)."""
    try:
        return int(text)
    except ValueError:
        number = float(text)
        return int(number) if number.is_integer() else number


def _raw_value(value: Mapping[str, Any] | None, is_number: bool) -> Any:
    if value is None or "NULL" in value:
        return None
    return _raw_int(value["N"]) if is_number else value["S"]


def _attempt_from_raw(raw: Mapping[str, Mapping[str, Any]]) -> AttemptState:
    values: dict[str, Any] = {}
    for name, attr_name, is_number in _ATTEMPT_FIELDS:
        value = raw.get(attr_name)
        if value is None or "NULL" in value:
            values[name] = None
        elif is_number:
            values[name] = _raw_number(value["N"])
        else:
            values[name] = value["S"]
    return AttemptState(**values)


_TASK_KEY_FIELDS = tuple(
    getattr(TaskItem, name).attr_name for name in ("flow", "run_id", "step", "task_id", "account", "region")
)
_TASK_FIELDS = tuple(
    (name, getattr(TaskItem, name).attr_name, isinstance(getattr(TaskItem, name), NumberAttribute))
    for name in (
        "orchestrator",
        "max_attempts",
        "split_index",
        "job_queue",
        "blocked_reason",
        "blocked_at",
        "last_event_at",
        "log_group",
    )
)


def task_state_from_raw(raw: Mapping[str, Any]) -> TaskState:
    """A task item as DynamoDB returns it -> its TaskState (what records.task_from_item gives, without
    building a PynamoDB model first: the run detail converts a hundred tasks per step)."""
    flow, run_id, step, task_id, account, region = (raw[name]["S"] for name in _TASK_KEY_FIELDS)
    return TaskState(
        key=TaskKey(flow, run_id, step, task_id, account=account, region=region),
        attempts=tuple(_attempt_from_raw(value["M"]) for value in raw.get(_ATTEMPTS, {}).get("L", ())),
        **{name: _raw_value(raw.get(attr_name), is_number) for name, attr_name, is_number in _TASK_FIELDS},
    )


_HEALTH_ATTRIBUTES = [
    RunItem.run_id.attr_name,
    RunItem.account.attr_name,
    RunItem.region.attr_name,
    RunItem.status.attr_name,
    RunItem.started_at.attr_name,
    RunItem.finished_at.attr_name,
    RunItem.failure.attr_name,
    RunItem.usage.attr_name,
]


_USAGE_FIELDS = frozenset(f.name for f in fields(UsageTotals))


def _epoch_ms(raw: Mapping[str, Any] | None) -> int | None:
    text = None if raw is None else raw.get("S")
    if not text:
        return None
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def _finished_run_from_raw(raw: Mapping[str, Any]) -> FinishedRun:
    failure = raw.get(RunItem.failure.attr_name, {}).get("M") or {}
    usage = raw.get(RunItem.usage.attr_name, {}).get("M")
    return FinishedRun(
        run_id=raw[RunItem.run_id.attr_name]["S"],
        account=raw[RunItem.account.attr_name]["S"],
        region=raw[RunItem.region.attr_name]["S"],
        status=raw[RunItem.status.attr_name]["S"],
        started_at=_epoch_ms(raw.get(RunItem.started_at.attr_name)),
        finished_at=_epoch_ms(raw.get(RunItem.finished_at.attr_name)),
        failure_class=failure.get("failure_class", {}).get("S"),
        failure_step=failure.get("step", {}).get("S") or None,
        usage=None
        if usage is None
        else UsageTotals(**{k: int(json.loads(v["N"])) for k, v in usage.items() if k in _USAGE_FIELDS}),
    )


def _run_from_raw(raw: dict[str, Any]) -> RunState:
    return run_from_item(RunItem.from_raw_data(raw))


def _newest_run_of_flow(raw: dict[str, Any]) -> RunKey:
    item = FlowItem.from_raw_data(raw)
    return RunKey(item.flow, item.last_run_id, account=item.last_account, region=item.last_region)


def _all_of(conditions: list[Condition]) -> Condition | None:
    combined: Condition | None = None
    for condition in conditions:
        combined = condition if combined is None else combined & condition
    return combined


def _equal_to(model: type[RunItem] | type[RunTagItem], where: RunFilter, plan: ReadPlan) -> list[Condition]:
    """`attribute = value` for each plain filter given that the plan's key does not answer."""
    fields = ("flow", "user", "project", "branch", "orchestrator", "account")
    return [
        getattr(model, name) == getattr(where, name)
        for name in fields
        if getattr(where, name) is not None and name not in plan.keyed
    ]


def _run_condition(where: RunFilter, plan: ReadPlan) -> Condition | None:
    """The FilterExpression on run items for what the chosen index's key does not select (None: none)."""
    conditions = _equal_to(RunItem, where, plan)
    statuses = sorted(set(where.statuses))
    if statuses and "status" not in plan.keyed:
        conditions.append(RunItem.status.is_in(*statuses))
    conditions += [RunItem.tags.contains(tag) for tag in sorted(set(where.tags))]
    return _all_of(conditions)


def _tag_condition(where: RunFilter, plan: ReadPlan) -> Condition | None:
    """The FilterExpression on run tag items: their copies of the run's attributes (status is not one)."""
    conditions = _equal_to(RunTagItem, where, plan)
    conditions += [RunTagItem.tags.contains(tag) for tag in sorted(set(where.tags)) if tag != plan.keyed_tag]
    return _all_of(conditions)


def _tagged_run_key(entry: RunTagItem) -> RunKey:
    return RunKey(entry.flow, entry.run_id, account=entry.account, region=entry.region)


def _started_sk_of(run: RunState) -> str | None:
    started = iso(run.started_at)
    return None if started is None else started_sk(started, run.key.run_id)


def _raw_position(raw: Mapping[str, Any] | None) -> Position | None:
    if raw is None:
        return None
    return {name: value["S"] for name, value in raw.items()}


def _newest_first(
    query: Callable[..., Any], partition: str, range_condition: Any, condition: Any
) -> Callable[[int, RawKey | None], dict[str, Any]]:
    """One page of a partition, newest first, from a start key: what a run listing reads per request."""

    def call(size: int, start_key: RawKey | None) -> dict[str, Any]:
        iterator = query(
            partition,
            range_key_condition=range_condition,
            scan_index_forward=False,
            filter_condition=condition,
            page_size=size,
            last_evaluated_key=start_key,
        )
        return _one_page(iterator.page_iter)

    return call


class RunReader:
    """Queries behind the API's listings and run detail; DynamoDB errors become StoreUnavailable."""

    def __init__(
        self,
        filter_budget: int = DEFAULT_FILTER_BUDGET,
        keyed: KeyedReads | None = None,
        task_filter_budget: int = TASK_FILTER_BUDGET,
    ) -> None:
        self.filter_budget = filter_budget
        self.task_filter_budget = task_filter_budget
        self.calls = 0  # DynamoDB requests made, for tests and benchmarks
        self._keyed = keyed or KeyedReads()

    # -- run listings ------------------------------------------------------------------------------
    def runs_matching(self, where: RunFilter, limit: int, start: Position | None = None) -> Page[RunState]:
        """One page of the runs `where` selects, newest first, from the index that serves it (run_plan)."""
        plan = plan_read(where)
        if plan.index == "tags":
            return self._tagged_runs(where, plan, limit, start)
        index = _RUN_INDEXES[plan.index]
        _, range_name = _index_key_names(index)
        listing = _index_listing(index, plan.partition)
        condition = _run_condition(where, plan)
        bounds = started_range(where.since, where.until)
        range_condition = None if bounds is None else getattr(RunItem, range_name).between(*bounds)

        call = _newest_first(index.query, plan.partition, range_condition, condition)
        return self._collect(call, listing, limit, start, _run_from_raw, filtered=condition is not None)

    def recent_runs(
        self, limit: int, start: Position | None = None, account: str | None = None
    ) -> Page[RunState]:
        return self.runs_matching(RunFilter(account=account), limit, start)

    def runs_with_status(
        self, status: str, limit: int, start: Position | None = None, account: str | None = None
    ) -> Page[RunState]:
        return self.runs_matching(RunFilter(statuses=(status,), account=account), limit, start)

    def flow_runs(
        self,
        flow: str,
        limit: int,
        start: Position | None = None,
        status: str | None = None,
        account: str | None = None,
    ) -> Page[RunState]:
        statuses = () if status is None else (status,)
        return self.runs_matching(RunFilter(flow=flow, statuses=statuses, account=account), limit, start)

    def _tagged_runs(
        self, where: RunFilter, plan: ReadPlan, limit: int, start: Position | None
    ) -> Page[RunState]:
        """Runs by tag: a page of the tag's items (filtered on their copies of the run's attributes), then
        the runs they point at in one BatchGetItem, kept when they still match (status is only on the run;
        an item left behind by a run whose start moved earlier no longer matches its run and is skipped)."""
        hash_name, range_name = _table_key_names(RunTagItem)
        listing = _Listing((hash_name, range_name), hash_name, plan.partition)
        condition = _tag_condition(where, plan)
        bounds = started_range(where.since, where.until)
        range_condition = None if bounds is None else RunTagItem.sk.between(*bounds)

        call = _newest_first(RunTagItem.query, plan.partition, range_condition, condition)
        filtered = condition is not None
        entries = self._collect(call, listing, limit, start, RunTagItem.from_raw_data, filtered=filtered)
        keys = [_tagged_run_key(entry) for entry in entries.items]
        found = self.runs(keys)
        runs = []
        for entry, key in zip(entries.items, keys, strict=True):
            run = found.get(key)
            if run is not None and where.matches(run) and _started_sk_of(run) == entry.started_sk:
                runs.append(run)
        return Page(runs, entries.next_key)

    def finished_flow_runs(self, flow: str, count: int) -> list[FinishedRun]:
        """The flow's `count` newest finished runs: one Query of `by_flow`, newest first, reading at most
        `count` + RUNNING_ALLOWANCE runs (DynamoDB pages it at 1 MB); the running ones among them are left out
        by a FilterExpression, so a flow with more runs in flight than that gets fewer than `count`. Only the
        attributes a flow's health needs are read (a projection), decoded without PynamoDB's models."""
        budget = count + RUNNING_ALLOWANCE
        condition = RunItem.status.is_in(*sorted(TERMINAL_RUN_STATUSES))
        query = RunItem.by_flow_index.query(
            flow_pk(flow),
            scan_index_forward=False,
            filter_condition=condition,
            page_size=budget,
            attributes_to_get=_HEALTH_ATTRIBUTES,
        )
        pages = query.page_iter
        found: list[dict[str, Any]] = []
        evaluated = 0
        while len(found) < count and evaluated < budget:
            self.calls += 1
            page = guarded(lambda: next(pages, None))
            if page is None:
                break
            found.extend(page.get("Items", []))
            evaluated += int(page.get("ScannedCount", 0))
            if pages.last_evaluated_key is None:
                break
        return [_finished_run_from_raw(raw) for raw in found[:count]]

    # -- flows -------------------------------------------------------------------------------------
    def flows(self, limit: int, start: Position | None = None) -> Page[RunKey]:
        """Flows by name, each as the key of its newest run."""
        hash_name, range_name = _table_key_names(FlowItem)
        listing = _Listing((hash_name, range_name), hash_name, FLOWS_PK)

        def call(size: int, start_key: RawKey | None) -> dict[str, Any]:
            iterator = FlowItem.query(FLOWS_PK, page_size=size, last_evaluated_key=start_key)
            return _one_page(iterator.page_iter)

        return self._collect(call, listing, limit, start, _newest_run_of_flow, filtered=False)

    def runs(self, keys: list[RunKey]) -> dict[RunKey, RunState]:
        """Runs by key in one BatchGetItem (at most 100 keys); missing runs are left out."""
        if not keys:
            return {}
        self.calls += 1
        wanted = list(dict.fromkeys(run_pk(key.account, key.region, key.flow, key.run_id) for key in keys))
        items = guarded(lambda: list(RunItem.batch_get([(pk, RUN_SK) for pk in wanted])))
        found = (run_from_item(i) for i in items if isinstance(i, RunItem))
        return {run.key: run for run in found}

    # -- one run -------------------------------------------------------------------------------------
    def run_locations(self, flow: str, run_id: str, limit: int = MAX_RUN_LOCATIONS) -> list[RunKey]:
        """The keys a (flow, run id) has in the accounts and regions it was seen in: one Query of by_run_id."""
        return self.run_id_locations(run_id, limit, flow)

    def run_id_locations(
        self, run_id: str, limit: int = MAX_RUN_LOCATIONS, flow: str | None = None
    ) -> list[RunKey]:
        """The keys a run id has in every flow (or in `flow`), account and region: one Query of by_run_id."""
        self.calls += 1
        condition = None if flow is None else RunItem.flow == flow
        pages = RunItem.by_run_id_index.query(run_id_pk(run_id), condition, limit=limit).page_iter
        page = guarded(lambda: _one_page(pages))
        keys = (
            RunKey(raw["flow"]["S"], run_id, account=raw["account"]["S"], region=raw["region"]["S"])
            for raw in page.get("Items", [])
        )
        return sorted(keys, key=lambda key: (key.flow, key.account, key.region))

    def job(self, job_id: str) -> JobAttempt | None:
        """The task attempt a Batch job ran (its newest attempt: one Query); None for a job never seen."""
        if not job_id or len(job_id.encode()) > MAX_KEY_BYTES - 8:
            return None
        self.calls += 1
        item = guarded(lambda: _newest_job_attempt(job_pk(job_id)))
        if item is None:
            return None
        key = TaskKey(
            item.flow, item.run_id, item.step, item.task_id, account=item.account, region=item.region
        )
        return JobAttempt(key, int(item.attempt))

    def run_with_tasks(self, key: RunKey) -> tuple[RunState | None, list[TaskState]]:
        """The run and all its tasks: one Query of the run's partition (DynamoDB pages it when large)."""
        run: RunState | None = None
        tasks: list[TaskState] = []
        for raw in self._raw_items(TableItem.query(run_pk(key.account, key.region, key.flow, key.run_id))):
            kind = raw.get(_KIND, {}).get("S")
            if kind == _TASK_KIND:
                tasks.append(task_state_from_raw(raw))
            elif kind == _RUN_KIND:
                run = _run_from_raw(raw)
        return run, tasks

    def run_with_steps(self, key: RunKey) -> tuple[RunState | None, list[StepSummary]]:
        """The run and its step summaries, never its tasks: the sort keys before `TASK#` (a step's shards
        merged into its summary)."""
        run, steps = split_run_head(self._raw_items(run_head_query(key)))
        return (run_from_item(run) if run is not None else None), step_summaries(steps)

    def _raw_items(self, query: Any) -> Iterator[dict[str, Any]]:
        """Every raw item of a Query, page by page; each page is one counted, guarded request."""
        pages = query.page_iter
        while True:
            self.calls += 1
            page = guarded(lambda: next(pages, None))
            if page is None:
                return
            yield from page.get("Items", [])
            if pages.last_evaluated_key is None:
                return

    def step_tasks(
        self, key: RunKey, step: str, limit: int, start: Position | None = None, status: str | None = None
    ) -> Page[TaskState]:
        """One page of a step's tasks in display order, all of them or those in one status.

        A status `by_step_status_keys` does not list (store/keys.py INDEXED_TASK_STATUSES) is a filter on the
        step's pages, as a run listing's filters are: at most `task_filter_budget` tasks examined, so the page
        may be short, even empty, while `next_key` is set."""
        if status is not None and status not in INDEXED_TASK_STATUSES:
            return self._step_tasks_filtered(key, step, limit, start, status)
        read = _step_task_keys(key, step, status)

        def call(size: int, start_key: RawKey | None) -> dict[str, Any]:
            page = read.page(size, start_key)
            before = self._keyed.requests
            # The index holds keys only: read the tasks, all but the look-ahead entry past the page (its key
            # only proves that a next page exists; _collect drops it), so 100 tasks are one BatchGetItem.
            page["Items"] = self._keyed.items_in_order(page.get("Items", []), needed=size - 1)
            self.calls += self._keyed.requests - before
            return page

        return self._collect(call, read.listing, limit, start, task_state_from_raw, filtered=False)

    def _step_tasks_filtered(
        self, key: RunKey, step: str, limit: int, start: Position | None, status: str
    ) -> Page[TaskState]:
        read = _step_task_keys(key, step, None)

        def call(size: int, start_key: RawKey | None) -> dict[str, Any]:
            page = read.page(size, start_key)
            entries = page.get("Items", [])
            before = self._keyed.requests
            tasks = self._keyed.items_in_order(entries)
            self.calls += self._keyed.requests - before
            page["Items"] = [task for task in tasks if task.get("status", {}).get("S") == status]
            page["ScannedCount"] = len(entries)
            return page

        gathered = _gather(call, read.listing, limit, start, self.task_filter_budget)
        self.calls += gathered.requests
        return Page([task_state_from_raw(raw) for raw in gathered.raw_items], gathered.next_key)

    def first_task_pages(
        self, key: RunKey, steps: Sequence[str], limit: int, single: Collection[str] = ()
    ) -> dict[str, Page[TaskState]]:
        """Each step's first page of tasks, as step_tasks(key, step, limit) gives it, in two rounds of requests
        instead of two requests per step one after the other: the steps' pages of task keys (their Queries sent
        together), then the tasks of all those pages (one BatchGetItem per 100, sent together). A step whose
        page lost a task in between (its item deleted after its key was read) is read again on its own.

        The steps in `single` have one task by their summary (start, join, end, each step of a linear flow):
        that task is read whole in the first round, by a Query of the run's partition for its step's sort keys,
        and needs no BatchGetItem; should that Query not find exactly one task, the step is read as above."""
        gathered = all_together(
            [
                partial(_single_task, key, step)
                if step in single and limit
                else _first_keys(key, step, limit)
                for step in steps
            ]
        )
        self.calls += sum(entries.requests for entries in gathered)
        keyed = [entries for step, entries in zip(steps, gathered, strict=True) if step not in single]
        before = self._keyed.requests
        found = self._keyed.items(table_key(entry) for entries in keyed for entry in entries.raw_items)
        self.calls += self._keyed.requests - before
        pages: dict[str, Page[TaskState]] = {}
        for step, entries in zip(steps, gathered, strict=True):
            items = entries.raw_items if step in single else joined(entries.raw_items, found)
            if len(items) < len(entries.raw_items) or (step in single and len(items) != 1):
                pages[step] = self.step_tasks(key, step, limit)
            else:
                pages[step] = Page([task_state_from_raw(item) for item in items], entries.next_key)
        return pages

    def task(self, key: RunKey, step: str, task_id: str) -> TaskState | None:
        """One task by its key (one GetItem)."""
        self.calls += 1
        item = guarded(
            lambda: _get_task(run_pk(key.account, key.region, key.flow, key.run_id), task_sk(step, task_id))
        )
        return None if item is None else task_from_item(item)

    # -- paging --------------------------------------------------------------------------------------
    def _collect[T](
        self,
        call: Callable[[int, RawKey | None], dict[str, Any]],
        listing: _Listing,
        limit: int,
        start: Position | None,
        build: Callable[[dict[str, Any]], T],
        filtered: bool,
    ) -> Page[T]:
        gathered = _gather(call, listing, limit, start, self.filter_budget if filtered else None)
        self.calls += gathered.requests
        return Page([build(raw) for raw in gathered.raw_items], gathered.next_key)


@dataclass(frozen=True, slots=True)
class _Gathered:
    """A page's raw items, the position after it, and the Queries it took."""

    raw_items: list[dict[str, Any]]
    next_key: Position | None
    requests: int


def _gather(
    call: Callable[[int, RawKey | None], dict[str, Any]],
    listing: _Listing,
    limit: int,
    start: Position | None,
    filter_budget: int | None,
) -> _Gathered:
    """The raw items of one page of at most `limit` (at most two calls); `filter_budget` None: not filtered."""
    want = limit + 1  # one more than returned: proves that a next page exists
    raw_items: list[dict[str, Any]] = []
    start_key = listing.check(start)
    evaluated = 0
    requests = 0
    size = want if filter_budget is None else max(FILTER_FIRST_CALL, 2 * want)
    for calls_left in range(MAX_QUERIES_PER_PAGE - 1, -1, -1):
        if filter_budget is not None:
            size = min(size, filter_budget - evaluated)
        requests += 1
        page = guarded(lambda: call(size, start_key))  # noqa: B023 (called right away)
        found = page.get("Items", [])
        raw_items.extend(found)
        evaluated += int(page.get("ScannedCount", len(found)))
        start_key = page.get("LastEvaluatedKey")
        if len(raw_items) >= want or start_key is None or not calls_left:
            break
        if filter_budget is not None:
            if evaluated >= filter_budget:
                break
            size = filter_budget - evaluated  # the second and last call: the rest of the budget
        else:
            size = want - len(raw_items)  # DynamoDB stopped at 1 MB: fetch the rest
    if len(raw_items) > limit:
        raw_items = raw_items[:limit]
        next_key: Position | None = listing.position_of(raw_items[-1])
    else:
        next_key = _raw_position(start_key)
    return _Gathered(raw_items, next_key, requests)


def _first_keys(key: RunKey, step: str, limit: int) -> Callable[[], _Gathered]:
    """The read of a step's first page of task keys, from its index."""
    read = _step_task_keys(key, step, None)
    return partial(_gather, read.page, read.listing, limit, None, None)


def _single_task(key: RunKey, step: str) -> _Gathered:
    """The step's tasks read whole from the run's partition (sort keys `TASK#<step>#...`), at most two: the one
    task of a step whose summary counts one, or a sign that it has more."""
    connection = TableItem._get_connection()
    partition = run_pk(key.account, key.region, key.flow, key.run_id)
    condition = TableItem.sk.startswith(task_sk(step, ""))
    page = guarded(lambda: connection.query(partition, range_key_condition=condition, limit=2))
    return _Gathered(page.get("Items", []), None, 1)


@dataclass(frozen=True, slots=True)
class _StepTaskKeys:
    """Where a step's task keys are listed in display order: an index, its key condition, its positions."""

    index: GlobalSecondaryIndex[Any]
    partition: str
    listing: _Listing

    def page(self, size: int, start_key: RawKey | None) -> dict[str, Any]:
        """One Query of keys: `Items` (the entries), `LastEvaluatedKey` (None after the last)."""
        page = index_page(self.index, self.partition, size, start_key)
        page.setdefault("LastEvaluatedKey", None)
        return page


def _step_task_keys(key: RunKey, step: str, status: str | None) -> _StepTaskKeys:
    """The index and key condition that list a step's tasks, all of them or those in one status."""
    if status is None:
        index: GlobalSecondaryIndex[Any] = TaskItem.by_step_index
        partition = step_tasks_pk(key.account, key.region, key.flow, key.run_id, step)
    else:
        index = TaskItem.by_step_status_index
        partition = step_status_pk(key.account, key.region, key.flow, key.run_id, step, status)
    hash_name, range_name = _index_key_names(index)
    listing = _Listing((*_table_key_names(TaskItem), hash_name, range_name), hash_name, partition)
    return _StepTaskKeys(index, partition, listing)


def _get_task(pk: str, sk: str) -> TaskItem | None:
    try:
        item = TaskItem.get(pk, sk)
    except TaskItem.DoesNotExist:
        return None
    return item if isinstance(item, TaskItem) else None


def _newest_job_attempt(pk: str) -> JobItem | None:
    """One Query of the job's partition, newest attempt first, Limit 1. An item of the former shape (sort key
    `#JOB`, one per job, holding its latest attempt) sorts before every `#JOB#<attempt>`, so it is read only
    while the job has no item of the current shape; when it has both, the current ones hold an attempt at
    least as late (ingest writes a job's latest attempt in the task's joined state, which keeps every
    attempt it has seen), so no migration is needed: the old items expire by TTL."""
    pages = JobItem.query(pk, JobItem.sk.startswith(JOB_SK), scan_index_forward=False, limit=1).page_iter
    found = _one_page(pages).get("Items", [])
    item = JobItem.from_raw_data(found[0]) if found else None
    return item if isinstance(item, JobItem) else None


def _one_page(pages: Iterator[dict[str, Any]]) -> dict[str, Any]:
    """Exactly one Query request: the page, its ScannedCount and LastEvaluatedKey."""
    page = next(pages)
    page.setdefault("LastEvaluatedKey", None)
    return page
