"""The flow health route: `GET /flows/{flow}/stats` over services/flow_stats.py."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver

from runwatch.api import schemas
from runwatch.api.mapping import usage_of
from runwatch.api.parameters import (
    BAD_FLOW_NAME,
    DEFAULT_STATS_RUNS,
    SECURITY,
    FlowName,
    StatsRuns,
    responses,
)
from runwatch.domain.flow_health import FlowHealth, duration_s
from runwatch.domain.times import iso
from runwatch.domain.usage import Prices
from runwatch.services.flow_stats import FlowStatsReads


def flow_stats_of(health: FlowHealth, prices: Prices) -> schemas.FlowStats:
    return schemas.FlowStats(
        flow=health.flow,
        runs=health.runs,
        by_status=health.by_status,
        success_rate=health.success_rate,
        duration_s=schemas.DurationSpread(
            p50=health.duration_p50_s, p95=health.duration_p95_s, max=health.duration_max_s
        ),
        failure_classes=health.failure_classes,
        failing_steps=health.failing_steps,
        last_success_at=iso(health.last_success_at),
        last_failure_at=iso(health.last_failure_at),
        usage=usage_of(health.usage, prices),
        recent=[
            schemas.RecentRun(
                run_id=run.run_id,
                account=run.account,
                region=run.region,
                status=run.status,  # type: ignore[arg-type]
                started_at=iso(run.started_at),
                duration_s=duration_s(run),
            )
            for run in health.recent
        ],
    )


def register_stats_routes(app: APIGatewayRestResolver, stats: FlowStatsReads, prices: Prices) -> None:
    @app.get(
        "/flows/<flow>/stats",
        summary="A flow's health over its newest finished runs",
        description="Counts the flow's `runs` newest finished runs (default 50, at most 500): one Query of the "
        "`by_flow` index reading at most `runs` + 100 runs (runs still in flight are passed over; a flow "
        "with more than 100 of them gets fewer runs counted). `success_rate` = succeeded / counted.",
        tags=["status"],
        security=SECURITY,
        responses=responses("The flow's health (an unknown flow has no runs)", BAD_FLOW_NAME),
    )
    def get_flow_stats(flow: FlowName, runs: StatsRuns = DEFAULT_STATS_RUNS) -> schemas.FlowStats:
        return flow_stats_of(stats.stats(flow, runs), prices)
