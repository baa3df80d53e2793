"""Status queries: the listings and the run detail the API serves, as domain read models with page tokens.

The store hands out domain states; this service adds what a listing needs beyond one store call: page tokens
bound to the listing (runwatch.paging), each flow's newest run, a run's tasks grouped into steps by the
domain's rules (domain/steps.py). The API maps the results to its response schemas (api/mapping.py), so
nothing here knows the API's shapes, and a new run filter (store.run_queries.RunFilter) passes through
without a change here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from runwatch.domain.run_state import RunKey, RunState
from runwatch.domain.steps import StepState, build_steps
from runwatch.paging import InvalidToken, PageTokens, Position, Query
from runwatch.store.run_queries import InvalidStartKey, Page, RunFilter, RunReader


class RunNotFound(LookupError):
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


@dataclass(frozen=True, slots=True)
class RunWithSteps:
    run: RunState
    steps: list[StepState]


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
        """One run with its steps; without account and region, the one account and region it exists in."""
        key = self.locate(flow, run_id, account, region)
        run, tasks = self.reader.run_with_tasks(key)
        if run is None:
            raise RunNotFound(flow, run_id)
        return RunWithSteps(run, build_steps(tasks))

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
