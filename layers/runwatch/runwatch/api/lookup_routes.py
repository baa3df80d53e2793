"""The lookup routes: a Batch job id, an execution or a search text -> where to look (services/lookups.py)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver

from runwatch.api import schemas
from runwatch.api.mapping import run_summary
from runwatch.api.parameters import (
    AMBIGUOUS,
    EXECUTION_NOT_FOUND,
    JOB_NOT_FOUND,
    SECURITY,
    Execution,
    JobId,
    SearchText,
    responses,
)
from runwatch.domain.usage import Prices
from runwatch.services.lookups import Lookups, Match


def _match(match: Match) -> schemas.SearchMatch:
    return schemas.SearchMatch(
        kind=match.kind,  # type: ignore[arg-type]
        flow=match.run.flow,
        run_id=match.run.run_id,
        account=match.run.account,
        region=match.run.region,
        step=match.step,
        task_id=match.task_id,
        attempt=match.attempt,
    )


def register_lookup_routes(app: APIGatewayRestResolver, lookups: Lookups, prices: Prices) -> None:
    @app.get(
        "/jobs/<job_id>",
        summary="The Metaflow task attempt a Batch job ran",
        description="Any attempt's job, both orchestrators, every retry; a node of a multi-node (@parallel) "
        "job, `<job id>#<N>`, answers with its node's task. One read: a Query of the job's items, newest attempt "
        "first.",
        tags=["lookups"],
        security=SECURITY,
        responses=responses("Where the job belongs", JOB_NOT_FOUND),
    )
    def get_job(job_id: JobId) -> schemas.JobLocation:
        found = lookups.job(job_id)
        task = found.task
        return schemas.JobLocation(
            flow=task.flow,
            run_id=task.run_id,
            step=task.step,
            task_id=task.task_id,
            attempt=found.attempt,
            account=task.account,
            region=task.region,
        )

    @app.get(
        "/executions/<execution>",
        summary="The run of a Step Functions execution",
        description="`execution` is the execution's ARN (URL-encoded) or its name (Metaflow's run id is "
        "`sfn-<name>`). A name that runs in several accounts or regions is a 409; the ARN picks one.",
        tags=["lookups"],
        security=SECURITY,
        responses=responses("The run", {**EXECUTION_NOT_FOUND, **AMBIGUOUS}),
    )
    def get_execution(execution: Execution) -> schemas.RunSummary:
        return run_summary(lookups.execution(execution), prices)

    @app.get(
        "/search",
        summary="Runs and tasks a run id, pathspec, Batch job id or execution names",
        description="`q` may be a run id, `Flow/run_id`, `Flow/run_id/step/task_id`, a Batch job id (or "
        "job ARN), an execution ARN or an execution name. At most 20 matches, each a run or a task; a few "
        "key reads, never a listing.",
        tags=["lookups"],
        security=SECURITY,
        responses=responses("What the query names (maybe nothing)"),
    )
    def search(q: SearchText) -> schemas.SearchResult:
        return schemas.SearchResult(query=q, matches=[_match(m) for m in lookups.search(q)])
