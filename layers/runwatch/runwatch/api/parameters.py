"""The API's parameters and documented responses, shared by its routes and its error mapping."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from runwatch.api.schemas import ErrorBody, TaskStatus
from runwatch.domain.lookups import MAX_SEARCH_CHARS
from runwatch.paging import MAX_TOKEN_CHARS, TOKEN_PATTERN

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
DEFAULT_LOG_LIMIT = 200
MAX_LOG_LIMIT = 1000
MAX_LOG_TOKEN_CHARS = 4096
DEFAULT_TASK_LIMIT = 100
MAX_TASK_LIMIT = 500
DEFAULT_STATS_RUNS = 50
MAX_STATS_RUNS = 500
MAX_NAME_CHARS = 256  # Metaflow flow names and run ids are far shorter; DynamoDB keys must stay < 2 KB

# Deployed routes need one of these; the OpenAPI document says so, so Swagger UI sends the key.
SECURITY: list[dict[str, list[str]]] = [{"api_key": []}]

ERRORS: dict[int, Any] = {
    # No content key would make Powertools document the route's return model here.
    304: {"description": "Not Modified: the `If-None-Match` tag is current (no body)", "content": {}},
    400: {"description": "A parameter is invalid", "content": {"application/json": {"model": ErrorBody}}},
    503: {
        "description": "The status store is unavailable",
        "content": {"application/json": {"model": ErrorBody}},
    },
}
NOT_FOUND: dict[int, Any] = {
    404: {"description": "No such run", "content": {"application/json": {"model": ErrorBody}}}
}
STEP_NOT_FOUND: dict[int, Any] = {
    404: {"description": "No such run or step", "content": {"application/json": {"model": ErrorBody}}}
}
TASK_NOT_FOUND: dict[int, Any] = {
    404: {"description": "No such run or task", "content": {"application/json": {"model": ErrorBody}}}
}
AMBIGUOUS: dict[int, Any] = {
    409: {
        "description": "The run id exists in more than one account or region and none was given; the "
        "message names them (`accounts` lists the accounts)",
        "content": {"application/json": {"model": ErrorBody}},
    }
}
# API Gateway and the router only take path segments made of URI-safe characters; any other flow name
# cannot exist, so it is a 404 (a well-formed unknown flow simply has no runs).
BAD_FLOW_NAME: dict[int, Any] = {
    404: {
        "description": "The flow name has characters no flow name can have",
        "content": {"application/json": {"model": ErrorBody}},
    }
}


ATTEMPT_LOG_ERRORS: dict[int, Any] = {
    404: {
        "description": "No such attempt, or its log stream does not exist (never created or expired)",
        "content": {"application/json": {"model": ErrorBody}},
    },
    503: {
        "description": "The status store or CloudWatch Logs is unavailable or throttled (see `Retry-After`)",
        "content": {"application/json": {"model": ErrorBody}},
    },
}


def responses(ok: str, extra: dict[int, Any] | None = None) -> dict[int, Any]:
    """The documented responses of a status route; 200 gets the route's return model."""
    return {200: {"description": ok}, **ERRORS, **(extra or {})}


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
TaskLimit = Annotated[int, Query(ge=1, le=MAX_TASK_LIMIT, description="page size, 1 to 500")]
TaskStatusFilter = Annotated[TaskStatus | None, Query(description="only tasks with this status")]
StepName = Annotated[str, Path(min_length=1, max_length=MAX_NAME_CHARS, description="Metaflow step name")]
TaskId = Annotated[str, Path(min_length=1, max_length=MAX_NAME_CHARS, description="Metaflow task id")]
# The run listings' filters. Index-backed ones pick the index a page reads (docs/design.md §3); the others
# are applied to that read, so a page may be short while `next_token` is set.
_RUN_STATUS = "(running|succeeded|failed|timed_out|aborted|unknown)"
RunStatuses = Annotated[
    str | None,
    Query(
        max_length=200,
        pattern=rf"^{_RUN_STATUS}(,{_RUN_STATUS})*$",
        description="only runs in one of these statuses, comma separated (running, succeeded, failed, "
        "timed_out, aborted, unknown). One status alone, with no other index-backed filter, reads the "
        "`by_status` index; otherwise applied to the narrowed read",
    ),
]
UserFilter = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_NAME_CHARS,
        description="only runs of this Metaflow user (index-backed: `by_user`, unless the flow or a project "
        "and branch narrow more)",
    ),
]
ProjectFilter = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_NAME_CHARS,
        description="only runs of this Metaflow project (`@project`); index-backed: `by_project` with "
        "`branch`, `by_project_only` without",
    ),
]
BranchFilter = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_NAME_CHARS,
        description="only runs on this project branch (e.g. prod, user.alice); index-backed with `project`, "
        "otherwise applied to the narrowed read",
    ),
]
TagFilter = Annotated[
    list[str] | None,
    Query(
        description="only runs carrying this tag; repeat for more (every tag given must be on the run, at "
        "most 10). Index-backed (the tag's own items, then the runs they point at) when no project and "
        "branch, flow or user is given; otherwise applied to the narrowed read",
    ),
]
OrchestratorFilter = Annotated[
    Literal["batch", "step-functions"] | None,
    Query(
        description='only runs of this orchestrator: "batch" or "step-functions" (applied to the narrowed read)'
    ),
]
# Epoch milliseconds, or an ISO 8601 date with an optional time and zone.
TIME_PATTERN = r"^(\d{13}|\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:\d{2})?)$"
SinceFilter = Annotated[
    str | None,
    Query(
        max_length=40,
        pattern=TIME_PATTERN,
        description="only runs started at or after this time: ISO 8601 (UTC unless it names a zone) or epoch "
        "milliseconds. A key condition on every index (started_at is its sort key)",
    ),
]
UntilFilter = Annotated[
    str | None,
    Query(
        max_length=40,
        pattern=TIME_PATTERN,
        description="only runs started at or before this time (as `since`; not before `since`). A key "
        "condition on every index",
    ),
]
ACCOUNT_PATTERN = r"^\d{12}$"
REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$"
AccountFilter = Annotated[
    str | None,
    Query(
        pattern=ACCOUNT_PATTERN,
        description="only runs of this AWS account (12 digits; applied to the narrowed read)",
    ),
]
AccountChoice = Annotated[
    str | None,
    Query(
        pattern=ACCOUNT_PATTERN,
        description="the AWS account of the run (12 digits); needed when the run id exists in several",
    ),
]
RegionChoice = Annotated[
    str | None,
    Query(
        pattern=REGION_PATTERN,
        description="the AWS region of the run (e.g. us-east-1); needed when the run id exists in several "
        "regions of the account",
    ),
]
FlowName = Annotated[str, Path(min_length=1, max_length=MAX_NAME_CHARS, description="Metaflow flow name")]
RunId = Annotated[str, Path(min_length=1, max_length=MAX_NAME_CHARS, description="Metaflow run id")]
AttemptNumber = Annotated[int, Path(ge=0, le=99, description="attempt number, 0 for the first")]
LogLimit = Annotated[int, Query(ge=1, le=MAX_LOG_LIMIT, description="lines, 1 to 1000")]
LogToken = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_LOG_TOKEN_CHARS,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="`next_token` of the previous answer (opaque): the lines before it",
    ),
]
JobId = Annotated[
    str, Path(min_length=1, max_length=MAX_NAME_CHARS, description="a Batch job id (a node: `<job id>#<N>`)")
]
Execution = Annotated[
    str,
    Path(
        min_length=1,
        max_length=MAX_SEARCH_CHARS,
        description="a Step Functions execution ARN (URL-encoded) or an execution name",
    ),
]
SearchText = Annotated[
    str,
    Query(
        min_length=1,
        max_length=MAX_SEARCH_CHARS,
        description="a run id, a pathspec (`Flow/run_id` or `Flow/run_id/step/task_id`), a Batch job id or "
        "ARN, an execution ARN or an execution name",
    ),
]
StatsRuns = Annotated[
    int, Query(ge=1, le=MAX_STATS_RUNS, description="the flow's newest finished runs to count, 1 to 500")
]
JOB_NOT_FOUND: dict[int, Any] = {
    404: {"description": "No such Batch job seen", "content": {"application/json": {"model": ErrorBody}}}
}
EXECUTION_NOT_FOUND: dict[int, Any] = {
    404: {"description": "No run of this execution", "content": {"application/json": {"model": ErrorBody}}}
}
