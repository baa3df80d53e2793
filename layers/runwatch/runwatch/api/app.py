"""The status API: routes, the OpenAPI document and Swagger UI, the dashboard page, and error mapping.

`create_app(queries)` builds a Powertools APIGatewayRestResolver; the Lambda handler and the local server
both call `app.resolve(event, context)` with an API Gateway REST proxy event (v1: `httpMethod`, `path`
without the stage, `queryStringParameters`, `multiValueQueryStringParameters`, `headers`,
`requestContext.stage` / `requestContext.requestId`) and get a proxy response dict back.

Every error is JSON `{"message": ...}`, mapped in one place below: 400 names the bad `parameter`, 404 for
unknown runs and routes, 405 for other methods on known paths, 503 when DynamoDB is unavailable, 500 for
anything else with a `request_id` to quote; tracebacks only go to the log. The API does no authentication itself: API Gateway does (API key or
IAM), and locally there is none.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from importlib import resources
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import content_types
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from runwatch.api.etag import CACHE_CONTROL, conditional_get, serialize
from runwatch.api.pagination import MAX_TOKEN_CHARS, TOKEN_PATTERN, InvalidToken
from runwatch.api.schemas import ErrorBody, FlowPage, Health, RunDetail, RunPage, RunStatus
from runwatch.services.queries import RunNotFound, RunQueries
from runwatch.store.repository import StoreUnavailable

API_TITLE = "runwatch"
API_VERSION = "1.0"
API_DESCRIPTION = (
    "Status of Metaflow runs on AWS Batch and AWS Step Functions: flows, runs, steps, tasks and attempts. "
    "Lists are newest first and paginated: pass a response's `next_token` back to get the next page. "
    "Responses carry a strong `ETag`; send it as `If-None-Match` to get a 304 while nothing changed. "
    "When deployed, every route except `/` and `/health` needs an `x-api-key` header (ApiAuth=API_KEY) "
    "or a SigV4 signature (ApiAuth=IAM)."
)
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_NAME_CHARS = 256  # Metaflow flow names and run ids are far shorter; DynamoDB keys must stay < 2 KB

# Said instead of pydantic's wording, which would leak implementation details into the API.
_PARAMETER_HINTS = {
    "limit": f"limit must be an integer from 1 to {MAX_LIMIT}",
    "status": "status must be one of running, succeeded, failed, timed_out, aborted, unknown",
    "next_token": "next_token must be a token from a previous page of the same listing",
    "flow": f"flow must be 1 to {MAX_NAME_CHARS} characters",
    "run_id": f"run_id must be 1 to {MAX_NAME_CHARS} characters",
}

# Every route is a GET; other methods on these paths are 405 rather than 404 (API Gateway itself only
# forwards GET, so this matters to the local server).
_GET_PATHS = tuple(
    re.compile(re.sub(r"<\w+>", "[^/]+", path))
    for path in (
        "/",
        "/health",
        "/openapi.json",
        "/swagger",
        "/flows",
        "/flows/<f>/runs",
        "/flows/<f>/runs/<r>",
        "/runs",
    )
)

# Deployed routes need one of these; the OpenAPI document says so, so Swagger UI sends the key.
_SECURITY: list[dict[str, list[str]]] = [{"api_key": []}]

_ERROR_REF = "#/components/schemas/ErrorBody"
_ERRORS: dict[int, Any] = {
    # No content key would make Powertools document the route's return model here.
    304: {"description": "Not Modified: the `If-None-Match` tag is current (no body)", "content": {}},
    400: {"description": "A parameter is invalid", "content": {"application/json": {"model": ErrorBody}}},
    503: {
        "description": "The status store is unavailable",
        "content": {"application/json": {"model": ErrorBody}},
    },
}
_NOT_FOUND: dict[int, Any] = {
    404: {"description": "No such run", "content": {"application/json": {"model": ErrorBody}}}
}
# API Gateway and the router only take path segments made of URI-safe characters; any other flow name
# cannot exist, so it is a 404 (a well-formed unknown flow simply has no runs).
_BAD_FLOW_NAME: dict[int, Any] = {
    404: {
        "description": "The flow name has characters no flow name can have",
        "content": {"application/json": {"model": ErrorBody}},
    }
}


def _responses(ok: str, extra: dict[int, Any] | None = None) -> dict[int, Any]:
    """The documented responses of a status route; 200 gets the route's return model."""
    return {200: {"description": ok}, **_ERRORS, **(extra or {})}


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size, 1 to 100")]
NextToken = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_TOKEN_CHARS,
        pattern=TOKEN_PATTERN,
        description="`next_token` of the previous page (opaque)",
    ),
]
StatusFilter = Annotated[RunStatus | None, Query(description="only runs with this status")]
FlowName = Annotated[str, Path(min_length=1, max_length=MAX_NAME_CHARS, description="Metaflow flow name")]
RunId = Annotated[str, Path(min_length=1, max_length=MAX_NAME_CHARS, description="Metaflow run id")]


@functools.cache
def dashboard_html() -> str:
    """The dashboard page, shipped inside the package (and so inside the Lambda layer)."""
    return resources.files("runwatch.api").joinpath("dashboard.html").read_text(encoding="utf-8")


def error_response(
    status: int, message: str, *, parameter: str | None = None, request_id: str | None = None
) -> Response[str]:
    body: dict[str, str] = {"message": message}
    if parameter is not None:
        body["parameter"] = parameter
    if request_id is not None:
        body["request_id"] = request_id
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=serialize(body),
        headers={"Cache-Control": CACHE_CONTROL},
    )


class StatusResolver(APIGatewayRestResolver):
    """The Powertools resolver, documenting the errors this API really returns.

    Powertools adds a 422 (request validation) and a 500 "ResponseValidationError" to every operation; here
    request validation errors are 400 ErrorBody and every 500 is an ErrorBody with a request id.
    """

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        # Imported here: Powertools' OpenAPI models take a few hundred ms to build and only the document
        # routes need them, so a cold start serving /runs never pays for them.
        from aws_lambda_powertools.event_handler.openapi.models import Response as OpenAPIResponse

        schema = super().get_openapi_schema(**kwargs)
        internal_error = OpenAPIResponse.model_validate(
            {
                "description": "Internal error",
                "content": {"application/json": {"schema": {"$ref": _ERROR_REF}}},
            }
        )
        for path_item in (schema.paths or {}).values():
            operation = path_item.get
            if operation is not None and operation.responses:
                operation.responses.pop(422, None)
                operation.responses[500] = internal_error
        if schema.components is not None and schema.components.schemas:
            for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
                schema.components.schemas.pop(name, None)
        return schema


def create_app(
    queries: RunQueries, *, cors_origin: str | None = None, logger: Logger | None = None
) -> APIGatewayRestResolver:
    """The resolver with every route; `cors_origin` (e.g. CORS_ORIGIN) allows one other site's pages."""
    log = logger or Logger()
    cors = (
        CORSConfig(allow_origin=cors_origin, allow_headers=["x-api-key"], max_age=600)
        if cors_origin
        else None
    )
    # Without response_validation_error_http_code Powertools reports an invalid *response* as a request
    # validation error, which would blame the client's parameters for a bug of ours.
    app = StatusResolver(enable_validation=True, response_validation_error_http_code=500, cors=cors)
    app.use(middlewares=[conditional_get])

    def request_id() -> str | None:
        try:
            return str(app.current_event.request_context.request_id)
        except (AttributeError, KeyError, TypeError):
            return None

    # -- errors: the one place exceptions become HTTP ----------------------------------------------
    def invalid_request(exc: RequestValidationError) -> Response[str]:
        errors = exc.errors()
        location = errors[0].get("loc", ()) if errors else ()
        parameter = str(location[-1]) if location else "request"
        message = _PARAMETER_HINTS.get(parameter, f"invalid value for {parameter}")
        return error_response(400, message, parameter=parameter)

    def invalid_token(exc: InvalidToken) -> Response[str]:
        log.info("invalid page token", reason=str(exc))
        return error_response(400, _PARAMETER_HINTS["next_token"], parameter="next_token")

    def run_not_found(exc: RunNotFound) -> Response[str]:
        return error_response(404, str(exc))

    def route_not_found(exc: NotFoundError) -> Response[str]:
        event = app.current_event
        if event.http_method != "GET" and any(p.fullmatch(event.path) for p in _GET_PATHS):
            response = error_response(405, "method not allowed")
            response.headers["Allow"] = "GET"
            return response
        return error_response(404, "not found")

    def store_unavailable(exc: StoreUnavailable) -> Response[str]:
        log.warning("status store unavailable", error=str(exc))
        response = error_response(503, "status store unavailable, retry shortly", request_id=request_id())
        response.headers["Retry-After"] = "1"
        return response

    def unexpected(exc: Exception) -> Response[str]:
        log.exception("unhandled error")
        return error_response(500, "internal error", request_id=request_id())

    # Most specific class wins (Powertools walks the exception's MRO), so Exception only catches the rest.
    handlers: list[tuple[type[Exception], Callable[[Any], Response[str]]]] = [
        (RequestValidationError, invalid_request),
        (InvalidToken, invalid_token),
        (RunNotFound, run_not_found),
        (NotFoundError, route_not_found),
        (StoreUnavailable, store_unavailable),
        (Exception, unexpected),
    ]
    for exc_class, handle in handlers:
        app.exception_handler(exc_class)(handle)

    # -- open routes -----------------------------------------------------------------------------------
    @app.get("/health", summary="Liveness", tags=["meta"])
    def health() -> Health:
        return Health(status="ok")

    @app.get("/", include_in_schema=False)
    def dashboard() -> Response[str]:
        return Response(status_code=200, content_type="text/html; charset=utf-8", body=dashboard_html())

    # The document is generated on first use, once per stage path (it takes a few hundred milliseconds).
    openapi_documents: dict[str, str] = {}

    def openapi_json() -> str:
        base_path = app._get_base_path() or "/"
        if base_path not in openapi_documents:
            from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, Server

            openapi_documents[base_path] = app.get_openapi_json_schema(
                title=API_TITLE,
                version=API_VERSION,
                description=API_DESCRIPTION,
                servers=[Server(url=base_path)],
                security_schemes={"api_key": APIKey(name="x-api-key", in_=APIKeyIn.header)},
            )
        return openapi_documents[base_path]

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_document() -> Response[str]:
        return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=openapi_json())

    @app.get("/swagger", include_in_schema=False)
    def swagger_ui() -> Response[str]:
        # Powertools' page and bundled assets, without enable_swagger's eager imports; "</" is escaped so
        # the inlined document cannot close the <script> it sits in.
        from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

        assets = resources.files("aws_lambda_powertools.event_handler.openapi.swagger_ui")
        body = generate_swagger_html(
            openapi_json().replace("</", "<\\/"),
            assets.joinpath("swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
            assets.joinpath("swagger-ui.min.css").read_text(encoding="utf-8"),
            "",
            None,
        )
        return Response(status_code=200, content_type="text/html; charset=utf-8", body=body)

    # -- status routes ----------------------------------------------------------------------------------
    @app.get(
        "/flows",
        summary="Flows with their newest run, by name",
        tags=["status"],
        security=_SECURITY,
        responses=_responses("A page of flows"),
    )
    def list_flows(limit: Limit = DEFAULT_LIMIT, next_token: NextToken = None) -> FlowPage:
        return queries.flows(limit, next_token)

    @app.get(
        "/flows/<flow>/runs",
        summary="Runs of one flow, newest first",
        description="With `status`, a page may hold fewer runs than `limit`, even none, while `next_token` "
        "is set: each request examines a bounded number of the flow's runs.",
        tags=["status"],
        security=_SECURITY,
        responses=_responses("A page of runs", _BAD_FLOW_NAME),
    )
    def list_flow_runs(
        flow: FlowName,
        status: StatusFilter = None,
        limit: Limit = DEFAULT_LIMIT,
        next_token: NextToken = None,
    ) -> RunPage:
        return queries.flow_runs(flow, status, limit, next_token)

    @app.get(
        "/flows/<flow>/runs/<run_id>",
        summary="One run with its steps, tasks and attempts",
        tags=["status"],
        security=_SECURITY,
        responses=_responses("The run", _NOT_FOUND),
    )
    def get_run(flow: FlowName, run_id: RunId) -> RunDetail:
        return queries.run(flow, run_id)

    @app.get(
        "/runs",
        summary="Recent runs of all flows, newest first",
        tags=["status"],
        security=_SECURITY,
        responses=_responses("A page of runs"),
    )
    def list_runs(
        status: StatusFilter = None, limit: Limit = DEFAULT_LIMIT, next_token: NextToken = None
    ) -> RunPage:
        return queries.recent_runs(status, limit, next_token)

    return app
