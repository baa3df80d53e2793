"""Flow health: the flow's newest finished runs, read once with a bound, summarised by domain/flow_health.py."""

from __future__ import annotations

from typing import Protocol

from runwatch.domain.flow_health import FinishedRun, FlowHealth, flow_health


class FinishedRuns(Protocol):
    """runwatch.store.run_queries.RunReader."""

    def finished_flow_runs(self, flow: str, count: int) -> list[FinishedRun]: ...


class FlowStatsReads:
    def __init__(self, reader: FinishedRuns) -> None:
        self.reader = reader

    def stats(self, flow: str, runs: int) -> FlowHealth:
        """The health of the flow over its `runs` newest finished runs (fewer if it has fewer)."""
        return flow_health(flow, self.reader.finished_flow_runs(flow, runs))
