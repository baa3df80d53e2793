"""The API's errors: every exception becomes a JSON `{"message": ...}` response here, and only here.

400 names the bad `parameter`, 404 for unknown runs and routes, 409 for a run id found in several accounts
or regions when none was given (naming them), 405 for other methods on known paths, 503
when DynamoDB is unavailable, 500 for anything else with a `request_id` to quote; tracebacks only go to
the log.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import content_types
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from runwatch.api.etag import CACHE_CONTROL, serialize
from runwatch.api.parameters import MAX_LIMIT, MAX_LOG_LIMIT, MAX_NAME_CHARS, MAX_STATS_RUNS, MAX_TASK_LIMIT
from runwatch.api.run_filters import InvalidParameter
from runwatch.logs.source import InvalidLogToken, LogsThrottled, LogStreamNotFound, LogsUnavailable
from runwatch.paging import InvalidToken
from runwatch.services.attempt_logs import AttemptNotFound
from runwatch.services.lookups import BadSearch
from runwatch.services.queries import AmbiguousRun, NotFoundInRun
from runwatch.store.repository import StoreUnavailable

# Said instead of pydantic's wording, which would leak implementation details into the API.
PARAMETER_HINTS = {
    "limit": f"limit must be an integer from 1 to {MAX_LIMIT} ({MAX_TASK_LIMIT} for a step's tasks)",
    "status": "status must be one of running, succeeded, failed, timed_out, aborted, unknown (for a step's "
    "tasks: pending, starting, running, retrying, succeeded, failed, killed)",
    "next_token": "next_token must be a token from a previous page of the same listing",
    "flow": f"flow must be 1 to {MAX_NAME_CHARS} characters",
    "run_id": f"run_id must be 1 to {MAX_NAME_CHARS} characters",
    "step": f"step must be 1 to {MAX_NAME_CHARS} characters",
    "task_id": f"task_id must be 1 to {MAX_NAME_CHARS} characters",
    "attempt": "attempt must be an integer from 0 to 99",
    "account": "account must be an AWS account id of 12 digits",
    "region": "region must be an AWS region name such as us-east-1",
    "user": f"user must be 1 to {MAX_NAME_CHARS} characters",
    "project": f"project must be 1 to {MAX_NAME_CHARS} characters",
    "branch": f"branch must be 1 to {MAX_NAME_CHARS} characters",
    "tag": f"tag must be 1 to {MAX_NAME_CHARS} characters",
    "since": "since must be an ISO 8601 time or epoch milliseconds",
    "until": "until must be an ISO 8601 time or epoch milliseconds",
    "orchestrator": "orchestrator must be batch or step-functions",
    "q": "q must be a run id, a pathspec (Flow/run_id or Flow/run_id/step/task_id), a Batch job id, "
    "an execution ARN or an execution name",
    "job_id": f"job_id must be 1 to {MAX_NAME_CHARS} characters",
    "execution": "execution must be an execution ARN (URL-encoded) or an execution name",
    "runs": f"runs must be an integer from 1 to {MAX_STATS_RUNS}",
}
# The log route's own wording where its parameters differ from the listings'.
LOG_PARAMETER_HINTS = {
    "limit": f"limit must be an integer from 1 to {MAX_LOG_LIMIT}",
    "next_token": "next_token must be the next_token of a previous answer for the same log",
}
_LOG_PATH = re.compile(r"/flows/[^/]+/runs/[^/]+/steps/[^/]+/tasks/[^/]+/attempts/[^/]+/logs")

# Every route is a GET; other methods on these paths are 405 rather than 404 (API Gateway itself only
# forwards GET, so this matters to the local server).
GET_PATHS = tuple(
    re.compile(re.sub(r"<\w+>", "[^/]+", path))
    for path in (
        "/",
        "/health",
        "/openapi.json",
        "/swagger",
        "/flows",
        "/flows/<f>/runs",
        "/flows/<f>/runs/<r>",
        "/flows/<f>/runs/<r>/steps/<s>/tasks",
        "/flows/<f>/runs/<r>/steps/<s>/tasks/<t>",
        "/runs",
        "/flows/<f>/runs/<r>/steps/<s>/tasks/<t>/attempts/<a>/logs",
        "/flows/<f>/stats",
        "/jobs/<j>",
        "/executions/<e>",
        "/search",
        "/config",
    )
)


def error_response(
    status: int,
    message: str,
    *,
    parameter: str | None = None,
    request_id: str | None = None,
    accounts: list[str] | None = None,
) -> Response[str]:
    body: dict[str, str | list[str]] = {"message": message}
    if parameter is not None:
        body["parameter"] = parameter
    if accounts is not None:
        body["accounts"] = accounts
    if request_id is not None:
        body["request_id"] = request_id
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=serialize(body),
        headers={"Cache-Control": CACHE_CONTROL},
    )


def _request_id(app: APIGatewayRestResolver) -> str | None:
    try:
        return str(app.current_event.request_context.request_id)
    except (AttributeError, KeyError, TypeError):
        return None


def _on_log_route(app: APIGatewayRestResolver) -> bool:
    try:
        return _LOG_PATH.fullmatch(app.current_event.path) is not None
    except (AttributeError, KeyError, TypeError):
        return False


def invalid_request(app: APIGatewayRestResolver, exc: RequestValidationError) -> Response[str]:
    errors = exc.errors()
    location = errors[0].get("loc", ()) if errors else ()
    parameter = str(location[-1]) if location else "request"
    hints = {**PARAMETER_HINTS, **LOG_PARAMETER_HINTS} if _on_log_route(app) else PARAMETER_HINTS
    message = hints.get(parameter, f"invalid value for {parameter}")
    return error_response(400, message, parameter=parameter)


def invalid_parameter(exc: InvalidParameter) -> Response[str]:
    return error_response(400, exc.message, parameter=exc.parameter)


def invalid_log_token(exc: InvalidLogToken) -> Response[str]:
    return error_response(400, LOG_PARAMETER_HINTS["next_token"], parameter="next_token")


def log_not_found(exc: LookupError) -> Response[str]:
    # The message names the attempt or the stream, never log content.
    return error_response(404, str(exc))


def logs_throttled(exc: LogsThrottled) -> Response[str]:
    response = error_response(503, "CloudWatch Logs is throttling reads, retry shortly")
    response.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after_s)))
    return response


def logs_unavailable(app: APIGatewayRestResolver, log: Logger, exc: LogsUnavailable) -> Response[str]:
    log.warning("log stream unavailable", error=str(exc))
    response = error_response(503, "the log could not be read, retry shortly", request_id=_request_id(app))
    response.headers["Retry-After"] = "5"
    return response


def invalid_token(log: Logger, exc: InvalidToken) -> Response[str]:
    log.info("invalid page token", reason=str(exc))
    return error_response(400, PARAMETER_HINTS["next_token"], parameter="next_token")


def run_not_found(exc: NotFoundInRun) -> Response[str]:
    return error_response(404, str(exc))


def bad_search(exc: BadSearch) -> Response[str]:
    return error_response(400, PARAMETER_HINTS["q"], parameter="q")


def ambiguous_run(exc: AmbiguousRun) -> Response[str]:
    return error_response(409, str(exc), accounts=exc.accounts)


def route_not_found(app: APIGatewayRestResolver, exc: NotFoundError) -> Response[str]:
    event = app.current_event
    if event.http_method != "GET" and any(p.fullmatch(event.path) for p in GET_PATHS):
        response = error_response(405, "method not allowed")
        response.headers["Allow"] = "GET"
        return response
    return error_response(404, "not found")


def store_unavailable(app: APIGatewayRestResolver, log: Logger, exc: StoreUnavailable) -> Response[str]:
    log.warning("status store unavailable", error=str(exc))
    response = error_response(503, "status store unavailable, retry shortly", request_id=_request_id(app))
    response.headers["Retry-After"] = "1"
    return response


def unexpected(app: APIGatewayRestResolver, log: Logger, exc: Exception) -> Response[str]:
    log.exception("unhandled error")
    return error_response(500, "internal error", request_id=_request_id(app))


def register_error_handlers(app: APIGatewayRestResolver, log: Logger) -> None:
    """Most specific class wins (Powertools walks the exception's MRO), so Exception only catches the rest."""
    handlers: list[tuple[type[Exception], Callable[[Any], Response[str]]]] = [
        (RequestValidationError, functools.partial(invalid_request, app)),
        (InvalidToken, functools.partial(invalid_token, log)),
        (InvalidParameter, invalid_parameter),
        (InvalidLogToken, invalid_log_token),
        (NotFoundInRun, run_not_found),
        (AttemptNotFound, log_not_found),
        (LogStreamNotFound, log_not_found),
        (LogsThrottled, logs_throttled),
        (LogsUnavailable, functools.partial(logs_unavailable, app, log)),
        (AmbiguousRun, ambiguous_run),
        (BadSearch, bad_search),
        (NotFoundError, functools.partial(route_not_found, app)),
        (StoreUnavailable, functools.partial(store_unavailable, app, log)),
        (Exception, functools.partial(unexpected, app, log)),
    ]
    for exc_class, handle in handlers:
        app.exception_handler(exc_class)(handle)
