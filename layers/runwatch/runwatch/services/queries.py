"""Status queries: table items -> the API's response models, with page tokens in and out.

Run summaries come straight from the stored run item (status, failure and times are derived at write time
and stored). A run's detail groups its tasks into steps; task and attempt status and failure class are
derived from the stored attempts with the same domain rules ingest uses.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from runwatch.api.pagination import InvalidToken, PageTokens, Position, key_from_secret
from runwatch.api.schemas import (
    Attempt,
    Failure,
    FlowEntry,
    FlowPage,
    RunDetail,
    RunPage,
    RunSummary,
    Step,
    StepStatus,
    Task,
)
from runwatch.config import ApiSettings, Settings
from runwatch.domain.task_state import TaskState
from runwatch.domain.vocab import TASK_STATUSES
from runwatch.store import models
from runwatch.store.models import FailureAttribute, RunItem
from runwatch.store.records import iso
from runwatch.store.run_queries import InvalidStartKey, Page, RunReader

_DIGITS = re.compile(r"[0-9]+")


class RunNotFound(LookupError):
    def __init__(self, flow: str, run_id: str) -> None:
        super().__init__(f"run {run_id} of flow {flow} not found")
        self.flow = flow
        self.run_id = run_id


# -- mapping ---------------------------------------------------------------------------------------------
def failure_of(attr: FailureAttribute | None) -> Failure | None:
    if attr is None:
        return None
    # An execution-level failure is stored without a task (empty step): the API says null, not "".
    has_task = bool(attr.step)
    return Failure.model_validate(
        {
            "step": attr.step or None,
            "task_id": attr.task_id or None,
            "attempt": int(attr.attempt) if has_task else None,
            "failure_class": attr.failure_class,
            "status_reason": attr.status_reason,
            "exit_code": None if attr.exit_code is None else int(attr.exit_code),
        }
    )


def _summary_fields(item: RunItem) -> dict[str, object]:
    return {
        "flow": item.flow,
        "run_id": item.run_id,
        "status": item.status,
        "orchestrator": item.orchestrator,
        "user": item.user,
        "owner": item.owner,
        "project": item.project,
        "branch": item.branch,
        "tags": list(item.tags or ()),
        "started_at": item.started_at,
        "finished_at": item.finished_at,
        "failure": failure_of(item.failure),
        "region": item.region,
        "account": item.account,
        "execution_arn": item.execution_arn,
        "state_machine": item.state_machine,
    }


def run_summary(item: RunItem) -> RunSummary:
    return RunSummary.model_validate(_summary_fields(item))


def task_of(state: TaskState) -> Task:
    return Task(
        task_id=state.key.task_id,
        # The domain's status strings are the schema's Literals (a unit test keeps the vocabularies equal).
        status=state.status,  # type: ignore[arg-type]
        split_index=state.split_index,
        blocked_reason=state.blocked_reason,
        attempts=[
            Attempt(
                attempt=a.attempt,
                status=a.status,  # type: ignore[arg-type]
                job_id=a.job_id,
                job_queue=state.job_queue,
                failure_class=a.failure_class,  # type: ignore[arg-type]
                status_reason=a.status_reason,
                container_reason=a.container_reason,
                exit_code=a.exit_code,
                created_at=iso(a.created_at),
                started_at=iso(a.started_at),
                stopped_at=iso(a.stopped_at),
                log_stream=a.log_stream,
                log_group=state.log_group,
            )
            for a in state.attempts
        ],
    )


def step_status(task_statuses: Iterable[str]) -> StepStatus:
    """A step's status from its tasks' (see schemas.Step): a failure shows first, then activity."""
    present = set(task_statuses)
    if "failed" in present:
        return "failed"
    if present & {"running", "starting"}:
        return "running"
    if present & {"pending", "retrying"}:
        return "pending"
    if "killed" in present:
        return "killed"
    return "succeeded"


def natural_key(task_id: str) -> tuple[int, int, str]:
    """Digit ids sort as numbers ("2" before "10") and before any other id."""
    if _DIGITS.fullmatch(task_id):
        return (0, int(task_id), "")
    return (1, 0, task_id)


def _task_order(state: TaskState) -> tuple[bool, int, tuple[int, int, str]]:
    return (state.split_index is None, state.split_index or 0, natural_key(state.key.task_id))


def _first_created(states: list[TaskState]) -> int | None:
    times = [a.created_at for s in states for a in s.attempts if a.created_at is not None]
    return min(times) if times else None


def build_steps(tasks: list[TaskState]) -> list[Step]:
    by_step: dict[str, list[TaskState]] = {}
    for state in tasks:
        by_step.setdefault(state.key.step, []).append(state)

    def step_order(name: str) -> tuple[bool, int, str]:
        first = _first_created(by_step[name])
        return (first is None, first or 0, name)

    steps = []
    for name in sorted(by_step, key=step_order):
        states = sorted(by_step[name], key=_task_order)
        counts = Counter(state.status for state in states)
        steps.append(
            Step(
                step=name,
                status=step_status(counts),
                task_counts={status: counts[status] for status in TASK_STATUSES if counts[status]},
                tasks=[task_of(state) for state in states],
            )
        )
    return steps


# -- the service -----------------------------------------------------------------------------------------
class RunQueries:
    """What the API asks: listings with page tokens, and one run in detail."""

    def __init__(self, reader: RunReader, tokens: PageTokens) -> None:
        self.reader = reader
        self.tokens = tokens

    def _start(self, next_token: str | None, query: dict[str, str | None]) -> Position | None:
        return None if next_token is None else self.tokens.read(next_token, query)

    def _token(self, next_key: Position | None, query: dict[str, str | None]) -> str | None:
        return None if next_key is None else self.tokens.issue(query, next_key)

    def _run_page(self, page: Page[RunItem], query: dict[str, str | None]) -> RunPage:
        return RunPage(
            runs=[run_summary(i) for i in page.items], next_token=self._token(page.next_key, query)
        )

    def recent_runs(self, status: str | None, limit: int, next_token: str | None) -> RunPage:
        query: dict[str, str | None] = {"list": "runs", "status": status}
        start = self._start(next_token, query)
        try:
            if status is None:
                page = self.reader.recent_runs(limit, start)
            else:
                page = self.reader.runs_with_status(status, limit, start)
        except InvalidStartKey as exc:
            raise InvalidToken(str(exc)) from None
        return self._run_page(page, query)

    def flow_runs(self, flow: str, status: str | None, limit: int, next_token: str | None) -> RunPage:
        query: dict[str, str | None] = {"list": "flow_runs", "flow": flow, "status": status}
        start = self._start(next_token, query)
        try:
            page = self.reader.flow_runs(flow, limit, start, status)
        except InvalidStartKey as exc:
            raise InvalidToken(str(exc)) from None
        return self._run_page(page, query)

    def flows(self, limit: int, next_token: str | None) -> FlowPage:
        query: dict[str, str | None] = {"list": "flows"}
        start = self._start(next_token, query)
        try:
            page = self.reader.flows(limit, start)
        except InvalidStartKey as exc:
            raise InvalidToken(str(exc)) from None
        runs = self.reader.runs([(f.flow, f.last_run_id) for f in page.items])
        entries = []
        for flow_item in page.items:
            run = runs.get((flow_item.flow, flow_item.last_run_id))
            entries.append(FlowEntry(flow=flow_item.flow, last_run=run_summary(run) if run else None))
        return FlowPage(flows=entries, next_token=self._token(page.next_key, query))

    def run(self, flow: str, run_id: str) -> RunDetail:
        run, tasks = self.reader.run_with_tasks(flow, run_id)
        if run is None:
            raise RunNotFound(flow, run_id)
        return RunDetail.model_validate({**_summary_fields(run), "steps": build_steps(tasks)})


def build_queries(settings: Settings, api: ApiSettings) -> RunQueries:
    """RunQueries on the configured table; no AWS client is created until the first request."""
    models.bind(settings.table_name, host=settings.dynamodb_endpoint, region=settings.region)
    secret = api.page_token_secret or settings.table_name
    return RunQueries(RunReader(), PageTokens(key_from_secret(secret)))
