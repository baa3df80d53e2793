"""The status API: `create_app(queries, attempt_logs)` assembles the resolver from its parts.

The Lambda handler and the local server both call `app.resolve(event, context)` with an API Gateway REST
proxy event (v1: `httpMethod`, `path` without the stage, `queryStringParameters`,
`multiValueQueryStringParameters`, `headers`, `requestContext.stage` / `requestContext.requestId`) and get a
proxy response dict back. Errors are mapped in `api/errors.py`, the documents (OpenAPI, Swagger UI, the
dashboard) served by `api/documents.py`, and the status routes are below. The API does no authentication
itself: API Gateway does (API key or IAM), and locally there is none.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver, CORSConfig

from runwatch.api.config import register_config_route
from runwatch.api.documents import StatusResolver, register_document_routes
from runwatch.api.errors import register_error_handlers
from runwatch.api.etag import conditional_get
from runwatch.api.lookup_routes import register_lookup_routes
from runwatch.api.mapping import attempt_log, flow_page, run_detail, run_page, task_of, task_page
from runwatch.api.parameters import (
    AMBIGUOUS,
    ATTEMPT_LOG_ERRORS,
    BAD_FLOW_NAME,
    DEFAULT_LIMIT,
    DEFAULT_LOG_LIMIT,
    DEFAULT_TASK_LIMIT,
    NOT_FOUND,
    SECURITY,
    STEP_NOT_FOUND,
    TASK_NOT_FOUND,
    AccountChoice,
    AccountFilter,
    AttemptNumber,
    BranchFilter,
    FlowName,
    Limit,
    LogLimit,
    LogToken,
    NextToken,
    OrchestratorFilter,
    ProjectFilter,
    RegionChoice,
    RunId,
    RunStatuses,
    SinceFilter,
    StepName,
    TagFilter,
    TaskId,
    TaskLimit,
    TaskStatusFilter,
    UntilFilter,
    UserFilter,
    responses,
)
from runwatch.api.run_filters import run_filter
from runwatch.api.schemas import AttemptLog, FlowPage, Health, RunDetail, RunPage, Task, TaskPage
from runwatch.api.stats_routes import register_stats_routes
from runwatch.domain.task_state import TaskKey
from runwatch.domain.usage import Prices
from runwatch.logs.source import LogStreamNotFound
from runwatch.services.attempt_logs import AttemptLogs
from runwatch.services.flow_stats import FlowStatsReads
from runwatch.services.lookups import Lookups
from runwatch.services.queries import RunQueries

# What the run listings' descriptions say about their filters (docs/api.md has the table).
FILTERED_LISTING = (
    "Every filter given must match (`tag` may be repeated: every tag given must be on the run). Each page "
    "reads one index chosen by the filters, most selective first: `project` with `branch` (`by_project`), "
    "the flow (`by_flow`), `user` (`by_user`), a `tag` (the tag's items), `project` alone "
    "(`by_project_only`), one `status` (`by_status`), else all runs (`recent`). `since`/`until` bound that "
    "index's sort key; the other filters are applied to the narrowed read, at most two Queries examining "
    "at most 1,000 runs per page: a page may then hold fewer runs than `limit`, even none, while "
    "`next_token` is set. A `next_token` is bound to the filters it was issued with."
)


def create_app(
    queries: RunQueries,
    attempt_logs: AttemptLogs | None = None,
    *,
    cors_origin: str | None = None,
    metaflow_ui_url: str | None = None,
    logger: Logger | None = None,
    lookups: Lookups | None = None,
    prices: Prices | None = None,
) -> APIGatewayRestResolver:
    """The resolver with every route; `cors_origin` (e.g. CORS_ORIGIN) allows one other site's pages.
    `attempt_logs` reads attempts' logs (CloudWatch when deployed, files or CloudWatch locally); without
    one, every log is a 404. `metaflow_ui_url` (METAFLOW_UI_URL) is what `/config` tells the dashboard.
    `prices` (PRICE_* settings) price the usage. `lookups` (job ids, executions, search) default to reads of
    the queries' table."""
    cors = (
        CORSConfig(allow_origin=cors_origin, allow_headers=["x-api-key"], max_age=600)
        if cors_origin
        else None
    )
    # Without response_validation_error_http_code Powertools reports an invalid *response* as a request
    # validation error, which would blame the client's parameters for a bug of ours.
    app = StatusResolver(enable_validation=True, response_validation_error_http_code=500, cors=cors)
    app.use(middlewares=[conditional_get])
    register_error_handlers(app, logger or Logger())
    register_document_routes(app)
    prices = prices or Prices()
    register_status_routes(app, queries, prices)
    register_log_routes(app, queries, attempt_logs)
    register_config_route(app, metaflow_ui_url)
    # A routes-only app (route listings, tests of other routes) has no reader: its lookups are never called.
    reader = getattr(queries, "reader", None)
    register_lookup_routes(app, lookups or Lookups(reader), prices)  # type: ignore[arg-type]
    register_stats_routes(app, FlowStatsReads(reader), prices)  # type: ignore[arg-type]
    return app


def register_status_routes(
    app: APIGatewayRestResolver, queries: RunQueries, prices: Prices | None = None
) -> None:
    prices = prices or Prices()

    @app.get("/health", summary="Liveness", tags=["meta"])
    def health() -> Health:
        return Health(status="ok")

    @app.get(
        "/flows",
        summary="Flows with their newest run, by name",
        tags=["status"],
        security=SECURITY,
        responses=responses("A page of flows"),
    )
    def list_flows(limit: Limit = DEFAULT_LIMIT, next_token: NextToken = None) -> FlowPage:
        return flow_page(queries.flows(limit, next_token), prices)

    @app.get(
        "/flows/<flow>/runs",
        summary="Runs of one flow, newest first",
        description=FILTERED_LISTING + " The flow's own index (`by_flow`) serves it unless `project` and "
        "`branch` are given.",
        tags=["status"],
        security=SECURITY,
        responses=responses("A page of runs", BAD_FLOW_NAME),
    )
    def list_flow_runs(
        flow: FlowName,
        status: RunStatuses = None,
        user: UserFilter = None,
        project: ProjectFilter = None,
        branch: BranchFilter = None,
        tag: TagFilter = None,
        orchestrator: OrchestratorFilter = None,
        account: AccountFilter = None,
        since: SinceFilter = None,
        until: UntilFilter = None,
        limit: Limit = DEFAULT_LIMIT,
        next_token: NextToken = None,
    ) -> RunPage:
        where = run_filter(
            flow=flow,
            status=status,
            user=user,
            project=project,
            branch=branch,
            tag=tag,
            orchestrator=orchestrator,
            account=account,
            since=since,
            until=until,
        )
        return run_page(queries.runs(where, limit, next_token), prices)

    @app.get(
        "/flows/<flow>/runs/<run_id>",
        summary="One run with its steps, tasks and attempts",
        description="A run is (account, region, flow, run id): Metaflow run ids of two accounts can be the "
        "same. Without `account` and `region` the run id must exist in one account and region only; "
        "otherwise the answer is 409 naming the accounts.",
        tags=["status"],
        security=SECURITY,
        responses=responses("The run", {**NOT_FOUND, **AMBIGUOUS}),
    )
    def get_run(
        flow: FlowName, run_id: RunId, account: AccountChoice = None, region: RegionChoice = None
    ) -> RunDetail:
        return run_detail(queries.run(flow, run_id, account, region), prices)

    @app.get(
        "/flows/<flow>/runs/<run_id>/steps/<step>/tasks",
        summary="One step's tasks in display order, a page at a time",
        description="Tasks by split_index, then task id (numerically when digits), as in the run detail. "
        "With `status`, only the tasks in that status, in the same order; every page is one bounded read. "
        "`running`, `retrying`, `failed` and `killed` are indexed, so their pages are full; `pending`, "
        "`starting` and `succeeded` examine at most 500 tasks a page, which may then be short, even empty, "
        "while `next_token` is set.",
        tags=["status"],
        security=SECURITY,
        responses=responses("A page of tasks", {**STEP_NOT_FOUND, **AMBIGUOUS}),
    )
    def list_step_tasks(
        flow: FlowName,
        run_id: RunId,
        step: StepName,
        status: TaskStatusFilter = None,
        account: AccountChoice = None,
        region: RegionChoice = None,
        limit: TaskLimit = DEFAULT_TASK_LIMIT,
        next_token: NextToken = None,
    ) -> TaskPage:
        run = queries.locate(flow, run_id, account, region)
        return task_page(queries.step_tasks(run, step, status, limit, next_token), prices)

    @app.get(
        "/flows/<flow>/runs/<run_id>/steps/<step>/tasks/<task_id>",
        summary="One task with its attempts",
        tags=["status"],
        security=SECURITY,
        responses=responses("The task", {**TASK_NOT_FOUND, **AMBIGUOUS}),
    )
    def get_task(
        flow: FlowName,
        run_id: RunId,
        step: StepName,
        task_id: TaskId,
        account: AccountChoice = None,
        region: RegionChoice = None,
    ) -> Task:
        run = queries.locate(flow, run_id, account, region)
        return task_of(queries.task(run, step, task_id), prices)

    @app.get(
        "/runs",
        summary="Recent runs of all flows, newest first",
        description=FILTERED_LISTING,
        tags=["status"],
        security=SECURITY,
        responses=responses("A page of runs"),
    )
    def list_runs(
        status: RunStatuses = None,
        user: UserFilter = None,
        project: ProjectFilter = None,
        branch: BranchFilter = None,
        tag: TagFilter = None,
        orchestrator: OrchestratorFilter = None,
        account: AccountFilter = None,
        since: SinceFilter = None,
        until: UntilFilter = None,
        limit: Limit = DEFAULT_LIMIT,
        next_token: NextToken = None,
    ) -> RunPage:
        where = run_filter(
            status=status,
            user=user,
            project=project,
            branch=branch,
            tag=tag,
            orchestrator=orchestrator,
            account=account,
            since=since,
            until=until,
        )
        return run_page(queries.runs(where, limit, next_token), prices)


def register_log_routes(
    app: APIGatewayRestResolver, queries: RunQueries, attempt_logs: AttemptLogs | None
) -> None:
    @app.get(
        "/flows/<flow>/runs/<run_id>/steps/<step>/tasks/<task_id>/attempts/<attempt>/logs",
        summary="The newest lines of one attempt's log, and its final exception",
        description="Lines are oldest first; `next_token` asks for the lines before them. A response holds "
        "at most `limit` lines and stays under 256 KB. The first read of a failed attempt's log keeps its "
        "exception line on the attempt (and the run's root cause). Lines are as the task printed them, with "
        "Metaflow's `[MFLOG|...]` decoration removed (its time becomes the line's `ts`).",
        tags=["status"],
        security=SECURITY,
        responses=responses("A page of the attempt's log", {**ATTEMPT_LOG_ERRORS, **AMBIGUOUS}),
    )
    def get_attempt_log(
        flow: FlowName,
        run_id: RunId,
        step: StepName,
        task_id: TaskId,
        attempt: AttemptNumber,
        account: AccountChoice = None,
        region: RegionChoice = None,
        limit: LogLimit = DEFAULT_LOG_LIMIT,
        next_token: LogToken = None,
    ) -> AttemptLog:
        run = queries.locate(flow, run_id, account, region)
        key = TaskKey(flow, run_id, step, task_id, account=run.account, region=run.region)
        if attempt_logs is None:
            raise LogStreamNotFound("logs are not available here")
        return attempt_log(attempt_logs.tail(key, attempt, limit, next_token))
