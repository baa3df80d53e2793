"""A failed attempt's log: its tail for the API, and its final exception line kept on the attempt.

Where the log is comes from the ingest path for free (the Batch event names the attempt's stream and the
job's log group), so nothing here runs per event. The log itself is read only when someone needs it: the
notifier, once a task has failed for good and before it sends `run.failed`, and the API, on the first read
of a failed attempt's log. The exception line found then is joined into the task (and the run's root
cause) like any other observation, so it is read once and survives every later event. A missing stream or
a denied read leaves the exception unknown and is counted; log content never reaches application logs or
metrics, since a stream can hold secrets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Final, Protocol

from runwatch.domain.run_state import RunState, run_key_of, run_observation_of_task
from runwatch.domain.task_state import AttemptState, TaskKey, TaskState
from runwatch.logs.source import (
    DEFAULT_TAIL_LINES,
    LogLine,
    LogsAccessDenied,
    LogSource,
    LogStreamNotFound,
    LogsUnavailable,
)
from runwatch.logs.traceback import MAX_EXCEPTION_CHARS, FailureExcerpt, find_failure
from runwatch.services.ingest.joins import Joins, StateStore

# A response's lines as JSON text (escapes included) stay under this, so the whole body stays under 256 KB.
MAX_LINES_JSON_BYTES: Final = 240 * 1024
# Counter names: how often a failure's log was read, and why it could not be.
READ: Final = "failure_logs_read"
MISSING: Final = "failure_logs_missing"
DENIED: Final = "failure_logs_denied"
UNAVAILABLE: Final = "failure_logs_unavailable"


class Counters(Protocol):
    def add(self, name: str, value: int = 1) -> None: ...


class _NoCounters:
    def add(self, name: str, value: int = 1) -> None:
        return None


class AttemptNotFound(LookupError):
    """No such task or attempt in the table."""


@dataclass(frozen=True, slots=True)
class AttemptLogTail:
    """One page of an attempt's log; `exception` is the attempt's final exception line when known."""

    log_group: str
    log_stream: str
    lines: tuple[LogLine, ...]
    exception: str | None
    next_token: str | None
    traceback: tuple[str, ...] = ()


def _attempt(task: TaskState, number: int) -> AttemptState | None:
    return next((a for a in task.attempts if a.attempt == number), None)


def _location(task: TaskState, attempt: AttemptState) -> tuple[str, str] | None:
    if not attempt.log_stream or not task.log_group:
        return None
    return task.log_group, attempt.log_stream


def bounded_exception(text: str) -> str:
    return text if len(text) <= MAX_EXCEPTION_CHARS else text[: MAX_EXCEPTION_CHARS - 1] + "…"


class AttemptLogs:
    """Reads attempts' logs from `source` and keeps their exception lines in `store`."""

    def __init__(
        self,
        store: StateStore,
        source: LogSource,
        counters: Counters | None = None,
        tail_lines: int = DEFAULT_TAIL_LINES,
    ) -> None:
        self.store = store
        self.source = source
        self.counters = counters or _NoCounters()
        self.tail_lines = tail_lines

    # -- the API ---------------------------------------------------------------------------------------
    def tail(self, key: TaskKey, attempt: int, limit: int, next_token: str | None) -> AttemptLogTail:
        """The newest `limit` lines of the attempt's log, or those before `next_token`.

        Raises AttemptNotFound, LogStreamNotFound (no stream known or none in the source), LogsThrottled,
        LogsUnavailable and InvalidLogToken.
        """
        loaded = self.store.load_task(key)
        task = loaded.state if loaded else None
        found = _attempt(task, attempt) if task else None
        if task is None or found is None:
            raise AttemptNotFound(f"attempt {attempt} of task {key.step}/{key.task_id} not found")
        location = _location(task, found)
        if location is None:
            raise LogStreamNotFound(f"attempt {attempt} of task {key.step}/{key.task_id} has no log stream")
        page = self.source.tail(*location, limit=limit, before_token=next_token)
        fitting = _lines_fitting(page.lines, MAX_LINES_JSON_BYTES)
        if fitting < len(page.lines):  # escapes grew the lines past the bound: ask for fewer
            page = self.source.tail(*location, limit=fitting, before_token=next_token)
        excerpt = find_failure(line.message for line in page.lines)
        exception = found.exception
        if exception is None and next_token is None and found.status == "failed" and excerpt.exception:
            exception = bounded_exception(excerpt.exception)
            self.keep(task, attempt, exception)
        return AttemptLogTail(*location, page.lines, exception, page.older_token, excerpt.traceback)

    # -- the notifier ----------------------------------------------------------------------------------
    def excerpt(self, task: TaskState, attempt: int) -> FailureExcerpt | None:
        """The failure the attempt's log tail shows, its exception line kept on the attempt; None when
        the log cannot be read (counted) or the attempt has no stream."""
        found = _attempt(task, attempt)
        location = _location(task, found) if found else None
        if found is None or location is None:
            self.counters.add(MISSING)
            return None
        try:
            page = self.source.tail(*location, limit=self.tail_lines)
        except LogsUnavailable as error:
            self.counters.add(_counter_of(error))
            return None
        self.counters.add(READ)
        excerpt = find_failure(line.message for line in page.lines)
        if excerpt.exception and found.exception is None:
            self.keep(task, attempt, bounded_exception(excerpt.exception))
        return excerpt

    # -- keeping the exception line --------------------------------------------------------------------
    def keep(self, task: TaskState, attempt: int, exception: str) -> TaskState:
        """Join the exception line into the stored task and into its run's root cause."""
        found = _attempt(task, attempt)
        if found is None:
            return task
        observation = replace(task, attempts=(replace(found, exception=exception),))
        joins = Joins(self.store)
        joined, _ = joins.task(observation)
        run = self.store.load_run(run_key_of(task.key))
        if run is not None and joined.final_failure is not None:
            state: RunState = run.state
            joins.run(run_observation_of_task(joined, state))
        return joined


def _lines_fitting(lines: tuple[LogLine, ...], budget: int) -> int:
    """How many of the newest lines fit in `budget` bytes of JSON (at least one)."""
    used = 0
    for count, line in enumerate(reversed(lines)):
        used += len(json.dumps(line.message, ensure_ascii=False).encode()) + 48  # "ts", "message", braces
        if used > budget:
            return max(count, 1)
    return len(lines)


def _counter_of(error: LogsUnavailable) -> str:
    if isinstance(error, LogStreamNotFound):
        return MISSING
    if isinstance(error, LogsAccessDenied):
        return DENIED
    return UNAVAILABLE
