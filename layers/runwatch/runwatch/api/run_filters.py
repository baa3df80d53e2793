"""The run listings' filter parameters as the API takes them, checked and turned into a RunFilter.

Query strings carry text: `status` is a comma-separated list, `since`/`until` an ISO 8601 time or epoch
milliseconds. Anything that cannot be one is an InvalidParameter naming the parameter (a 400), so a
listing never runs with a filter the client did not mean.
"""

from __future__ import annotations

from datetime import UTC, datetime

from runwatch.domain.times import iso
from runwatch.store.run_plan import RunFilter

RUN_STATUSES = ("running", "succeeded", "failed", "timed_out", "aborted", "unknown")
ORCHESTRATORS = ("batch", "step-functions")
MAX_TAGS = 10
MAX_TAG_CHARS = 256
# Epoch milliseconds from 2001 (13 digits) to 2286; anything else is more likely a mistake than a time.
_EPOCH_MS_DIGITS = 13
_YEAR_10000_MS = 253_402_300_800_000


class InvalidParameter(ValueError):
    """A query parameter whose value cannot be what it names."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


def parse_statuses(text: str | None) -> tuple[str, ...]:
    """`failed,timed_out` -> ("failed", "timed_out"); an unknown or empty status is an InvalidParameter."""
    if text is None:
        return ()
    statuses = tuple(dict.fromkeys(part.strip() for part in text.split(",")))
    unknown = [status for status in statuses if status not in RUN_STATUSES]
    if unknown:
        raise InvalidParameter(
            "status",
            f"status must be one or more of {', '.join(RUN_STATUSES)}, comma separated (not {unknown[0]!r})",
        )
    return statuses


def parse_time(parameter: str, text: str | None) -> str | None:
    """An ISO 8601 time (UTC when it names no zone) or epoch milliseconds -> the store's ISO spelling."""
    if text is None:
        return None
    value = text.strip()
    if value.isascii() and value.isdigit() and len(value) == _EPOCH_MS_DIGITS:
        return iso(int(value))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidParameter(
            parameter,
            f"{parameter} must be an ISO 8601 time (2026-11-30T08:00:00Z) or epoch milliseconds (13 digits)",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        ms = round(moment.timestamp() * 1000)
    except (OverflowError, ValueError):
        ms = -1
    if not 0 <= ms < _YEAR_10000_MS:
        raise InvalidParameter(parameter, f"{parameter} must be a time from 1970 to 9999")
    return iso(ms)


def run_filter(
    *,
    flow: str | None = None,
    status: str | None = None,
    user: str | None = None,
    project: str | None = None,
    branch: str | None = None,
    tag: list[str] | None = None,
    orchestrator: str | None = None,
    account: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> RunFilter:
    """The listing's filter from its query parameters, or InvalidParameter naming the first bad one."""
    if orchestrator is not None and orchestrator not in ORCHESTRATORS:
        raise InvalidParameter("orchestrator", f"orchestrator must be one of {', '.join(ORCHESTRATORS)}")
    tags = tuple(dict.fromkeys(tag or ()))
    if len(tags) > MAX_TAGS:
        raise InvalidParameter("tag", f"at most {MAX_TAGS} tags may be given")
    if any(not 1 <= len(one) <= MAX_TAG_CHARS for one in tags):
        raise InvalidParameter("tag", f"each tag must be 1 to {MAX_TAG_CHARS} characters")
    since_iso, until_iso = parse_time("since", since), parse_time("until", until)
    if since_iso is not None and until_iso is not None and since_iso > until_iso:
        raise InvalidParameter("since", "since must not be after until")
    return RunFilter(
        flow=flow,
        statuses=parse_statuses(status),
        user=user,
        project=project,
        branch=branch,
        tags=tags,
        orchestrator=orchestrator,
        account=account,
        since=since_iso,
        until=until_iso,
    )
