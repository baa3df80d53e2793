"""Status queries: the listings and the run detail the API serves, as domain read models with page tokens.

The store hands out domain states; this service adds what a listing needs beyond one store call: page tokens
bound to the listing (runwatch.paging), each flow's newest run, a run's steps from their kept summaries
(domain/step_summary.py) ordered and rated by the domain's rules (domain/steps.py), each with its first
page of tasks: a run's detail costs one Query, then one round of requests for the steps' task keys (a step
of one task: its task) and one for their tasks (store.run_queries.RunReader.first_task_pages), whatever the
number of tasks. The API maps the results to its response schemas (api/mapping.py), so
nothing here knows the API's shapes, and a new run filter (store.run_queries.RunFilter) passes through
without a change here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from runwatch.domain.run_state import RunKey, RunState
from runwatch.domain.step_summary import StepSummary
from runwatch.domain.steps import step_status
from runwatch.domain.task_state import TaskState
from runwatch.paging import InvalidToken, PageTokens, Position, Query
from runwatch.store.run_plan import RunFilter
from runwatch.store.run_queries import InvalidStartKey, Page, RunReader


class NotFoundInRun(LookupError):
    """A run, or a step or task of it, that the table does not hold (the API's 404)."""


class RunNotFound(NotFoundInRun):
    def __init__(self, flow: str, run_id: str) -> None:
        super().__init__(f"run {run_id} of flow {flow} not found")
        self.flow = flow
        self.run_id = run_id


class AmbiguousRun(LookupError):
    """A run id that exists in more than one account or region, asked for without saying which."""

    def __init__(self, flow: str, run_id: str, candidates: list[RunKey]) -> None:
        accounts = sorted({key.account for key in candidates})
        places = ", ".join(f"{key.account}/{key.region}" for key in candidates)
        super().__init__(
            f"run {run_id} of flow {flow} exists in more than one account or region ({places}): "
            "give account and region"
        )
        self.accounts = accounts
        self.candidates = candidates


@dataclass(frozen=True, slots=True)
class Listing[T]:
    """One page of a listing, and the token of the next page (None on the last)."""

    items: list[T]
    next_token: str | None


@dataclass(frozen=True, slots=True)
class FlowLastRun:
    flow: str
    last_run: RunState | None  # None once the newest run has expired


class StepNotFound(NotFoundInRun):
    def __init__(self, flow: str, run_id: str, step: str) -> None:
        super().__init__(f"step {step} of run {run_id} of flow {flow} not found")


class TaskNotFound(NotFoundInRun):
    def __init__(self, flow: str, run_id: str, step: str, task_id: str) -> None:
        super().__init__(f"task {task_id} of step {step} of run {run_id} of flow {flow} not found")


INLINE_TASKS = 100  # tasks shown in a run's detail per step; the rest are paged


@dataclass(frozen=True, slots=True)
class StepDetail:
    """A step's summary, its status, and the first page of its tasks."""

    summary: StepSummary
    status: str
    tasks: list[TaskState]
    tasks_next_token: str | None


@dataclass(frozen=True, slots=True)
class RunWithSteps:
    run: RunState
    steps: list[StepDetail]


def _step_order(summary: StepSummary) -> tuple[bool, int, str]:
    """Steps by their first attempt's creation (none yet: last), ties by name: as domain/steps.py orders."""
    first = summary.bounds.first_created_at
    return (first is None, first or 0, summary.step)


def _step_query(key: RunKey, step: str, status: str | None) -> Query:
    return {
        "list": "step_tasks",
        "account": key.account,
        "region": key.region,
        "flow": key.flow,
        "run_id": key.run_id,
        "step": step,
        "status": status,
    }


# -- the service -----------------------------------------------------------------------------------------
class RunQueries:
    """What the API asks: listings with page tokens, and one run in detail."""

    def __init__(self, reader: RunReader, tokens: PageTokens) -> None:
        self.reader = reader
        self.tokens = tokens

    def _page[T](
        self, fetch: Callable[[Position | None], Page[T]], query: Query, next_token: str | None
    ) -> Page[T]:
        """The page a token continues (the first without one); a position not of this listing is refused."""
        start = None if next_token is None else self.tokens.read(next_token, query)
        try:
            return fetch(start)
        except InvalidStartKey as exc:
            raise InvalidToken(str(exc)) from None

    def _token(self, next_key: Position | None, query: Query) -> str | None:
        return None if next_key is None else self.tokens.issue(query, next_key)

    def runs(self, where: RunFilter, limit: int, next_token: str | None) -> Listing[RunState]:
        """Runs `where` selects, newest first."""
        query = where.describe()
        page = self._page(lambda start: self.reader.runs_matching(where, limit, start), query, next_token)
        return Listing(page.items, self._token(page.next_key, query))

    def flows(self, limit: int, next_token: str | None) -> Listing[FlowLastRun]:
        """Flows by name, each with its newest run."""
        query: Query = {"list": "flows"}
        page = self._page(lambda start: self.reader.flows(limit, start), query, next_token)
        runs = self.reader.runs(page.items)
        entries = [FlowLastRun(key.flow, runs.get(key)) for key in page.items]
        return Listing(entries, self._token(page.next_key, query))

    def run(
        self, flow: str, run_id: str, account: str | None = None, region: str | None = None
    ) -> RunWithSteps:
        """The run, its steps' summaries and each step's first INLINE_TASKS tasks.

        Without account and region, the run is the one account and region its id exists in (see locate).
        """
        key = self.locate(flow, run_id, account, region)
        run, summaries = self._run_and_steps(key)
        shown = [summary for summary in sorted(summaries, key=_step_order) if summary.task_total]
        single = {summary.step for summary in shown if summary.task_total == 1}
        pages = self.reader.first_task_pages(key, [summary.step for summary in shown], INLINE_TASKS, single)
        steps = []
        for summary in shown:
            page = pages[summary.step]
            token = self._token(page.next_key, _step_query(key, summary.step, None))
            steps.append(StepDetail(summary, step_status(summary.task_counts), page.items, token))
        return RunWithSteps(run, steps)

    def step_tasks(
        self, run: RunKey, step: str, status: str | None, limit: int, next_token: str | None
    ) -> Listing[TaskState]:
        """A step's tasks in display order (only those in `status` if given), one page."""
        _, summaries = self._run_and_steps(run)
        summary = next((s for s in summaries if s.step == step and s.task_total), None)
        if summary is None:
            raise StepNotFound(run.flow, run.run_id, step)
        query = _step_query(run, step, status)
        if status is not None and not summary.task_counts.get(status):
            # The step's counts say none: no task is examined (a token given is still checked).
            page: Page[TaskState] = self._page(lambda start: Page([], None), query, next_token)
        else:
            page = self._page(
                lambda start: self.reader.step_tasks(run, step, limit, start, status), query, next_token
            )
        return Listing(page.items, self._token(page.next_key, query))

    def task(self, run: RunKey, step: str, task_id: str) -> TaskState:
        """One task with its attempts."""
        self._run_and_steps(run)
        found = self.reader.task(run, step, task_id)
        if found is None:
            raise TaskNotFound(run.flow, run.run_id, step, task_id)
        return found

    def _run_and_steps(self, key: RunKey) -> tuple[RunState, list[StepSummary]]:
        run, summaries = self.reader.run_with_steps(key)
        if run is None:
            raise RunNotFound(key.flow, key.run_id)
        return run, summaries

    def locate(self, flow: str, run_id: str, account: str | None, region: str | None) -> RunKey:
        """The run's key: given outright, or the only match of by_run_id; AmbiguousRun when several match."""
        if account is not None and region is not None:
            return RunKey(flow, run_id, account=account, region=region)
        found = [
            key
            for key in self.reader.run_locations(flow, run_id)
            if account in (None, key.account) and region in (None, key.region)
        ]
        if not found:
            raise RunNotFound(flow, run_id)
        if len(found) > 1:
            raise AmbiguousRun(flow, run_id, found)
        return found[0]
