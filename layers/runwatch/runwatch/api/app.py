"""The status API: `create_app(queries)` assembles the resolver from its parts.

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

from runwatch.api.documents import StatusResolver, register_document_routes
from runwatch.api.errors import register_error_handlers
from runwatch.api.etag import conditional_get
from runwatch.api.mapping import flow_page, run_detail, run_page
from runwatch.api.parameters import (
    AMBIGUOUS,
    BAD_FLOW_NAME,
    DEFAULT_LIMIT,
    NOT_FOUND,
    SECURITY,
    AccountChoice,
    AccountFilter,
    FlowName,
    Limit,
    NextToken,
    RegionChoice,
    RunId,
    StatusFilter,
    responses,
)
from runwatch.api.schemas import FlowPage, Health, RunDetail, RunPage
from runwatch.services.queries import RunQueries
from runwatch.store.run_queries import RunFilter


def create_app(
    queries: RunQueries, *, cors_origin: str | None = None, logger: Logger | None = None
) -> APIGatewayRestResolver:
    """The resolver with every route; `cors_origin` (e.g. CORS_ORIGIN) allows one other site's pages."""
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
    register_status_routes(app, queries)
    return app


def register_status_routes(app: APIGatewayRestResolver, queries: RunQueries) -> None:
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
        return flow_page(queries.flows(limit, next_token))

    @app.get(
        "/flows/<flow>/runs",
        summary="Runs of one flow, newest first",
        description="With `status`, a page may hold fewer runs than `limit`, even none, while `next_token` "
        "is set: each request examines a bounded number of the flow's runs.",
        tags=["status"],
        security=SECURITY,
        responses=responses("A page of runs", BAD_FLOW_NAME),
    )
    def list_flow_runs(
        flow: FlowName,
        status: StatusFilter = None,
        account: AccountFilter = None,
        limit: Limit = DEFAULT_LIMIT,
        next_token: NextToken = None,
    ) -> RunPage:
        where = RunFilter(flow=flow, status=status, account=account)
        return run_page(queries.runs(where, limit, next_token))

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
        return run_detail(queries.run(flow, run_id, account, region))

    @app.get(
        "/runs",
        summary="Recent runs of all flows, newest first",
        description="With `account` (or `status` and `account`), a page may hold fewer runs than `limit`, "
        "even none, while `next_token` is set: each request examines a bounded number of runs.",
        tags=["status"],
        security=SECURITY,
        responses=responses("A page of runs"),
    )
    def list_runs(
        status: StatusFilter = None,
        account: AccountFilter = None,
        limit: Limit = DEFAULT_LIMIT,
        next_token: NextToken = None,
    ) -> RunPage:
        return run_page(queries.runs(RunFilter(status=status, account=account), limit, next_token))
