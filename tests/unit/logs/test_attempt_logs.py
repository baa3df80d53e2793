"""The failed attempt's log as the API and the notifier read it: tail, exception kept once, errors counted."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from runwatch.domain.run_state import RunState, merge_run, run_key_of, run_observation_of_task
from runwatch.domain.task_state import AttemptState, TaskKey, TaskState, merge_task
from runwatch.logs.local_source import LocalLogFiles
from runwatch.logs.source import LogPage, LogsAccessDenied, LogStreamNotFound
from runwatch.services.attempt_logs import (
    DENIED,
    MISSING,
    READ,
    AttemptLogs,
    AttemptNotFound,
)
from tests.fakes.memory_store import MemoryStore

GROUP = "/aws/batch/job"
STREAM = "metaflow/default/0a1b2c3d"
KEY = TaskKey("TrainFlow", "42", "train", "7", account="123456789012", region="us-east-1")
LOG = [
    "[MFLOG|0|2026-11-18T12:00:00.000000Z|task|a1]Training on 1000 rows",
    "[MFLOG|0|2026-11-18T12:00:01.000000Z|task|a2]    Internal error",
    "Traceback (most recent call last):",
    '  File "train.py", line 12, in train',
    "    raise ValueError('bad input')",
    "ValueError: bad input",
    "Task failed.",
]


class Counts:
    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()

    def add(self, name: str, value: int = 1) -> None:
        self.seen[name] += value


def _failed_task(stream: str | None = STREAM) -> TaskState:
    attempt = AttemptState(
        attempt=0,
        batch_status="FAILED",
        job_id="job-7",
        created_at=1_000,
        started_at=2_000,
        stopped_at=3_000,
        status_reason="Essential container in task exited",
        exit_code=1,
        log_stream=stream,
    )
    return TaskState(KEY, "batch", (attempt,), max_attempts=1, last_event_at=3_000, log_group=GROUP)


def _stored(task: TaskState) -> MemoryStore:
    store = MemoryStore()
    store.save_task(task, None)
    run = RunState(run_key_of(KEY), "batch", first_seen_at=1_000)
    store.save_run(merge_run(run, run_observation_of_task(task, run)), None)
    return store


def _log_files(tmp_path: Path, lines: list[str]) -> LocalLogFiles:
    path = tmp_path / "logs" / GROUP.removeprefix("/") / f"{STREAM}.log"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n")
    return LocalLogFiles(tmp_path)


def _stored_exception(store: MemoryStore) -> tuple[str | None, str | None]:
    task = store.tasks[KEY].state
    failure = store.runs[run_key_of(KEY)].state.failure
    return task.attempts[0].exception, failure.exception if failure else None


def test_first_read_of_a_failed_attempt_returns_its_tail_and_keeps_the_exception(tmp_path: Path) -> None:
    store = _stored(_failed_task())
    logs = AttemptLogs(store, _log_files(tmp_path, LOG))

    tail = logs.tail(KEY, 0, limit=200, next_token=None)

    assert (tail.log_group, tail.log_stream) == (GROUP, STREAM)
    assert [line.message for line in tail.lines][:2] == ["Training on 1000 rows", "    Internal error"]
    assert tail.lines[0].ts_ms is not None, "the decoration's time is kept"
    assert tail.exception == "ValueError: bad input"
    assert tail.traceback[0] == "Traceback (most recent call last):"
    assert tail.next_token is None
    assert _stored_exception(store) == ("ValueError: bad input", "ValueError: bad input")


def test_a_later_page_is_read_but_keeps_nothing(tmp_path: Path) -> None:
    store = _stored(_failed_task())
    logs = AttemptLogs(store, _log_files(tmp_path, LOG))

    newest = logs.tail(KEY, 0, limit=2, next_token=None)
    assert newest.exception is None and newest.next_token is not None
    older = logs.tail(KEY, 0, limit=200, next_token=newest.next_token)

    assert [line.message for line in older.lines] == [
        "Training on 1000 rows",
        "    Internal error",
        "Traceback (most recent call last):",
        '  File "train.py", line 12, in train',
        "    raise ValueError('bad input')",
    ]
    assert _stored_exception(store) == (None, None)


def test_unknown_attempt_and_attempt_without_stream(tmp_path: Path) -> None:
    logs = AttemptLogs(_stored(_failed_task(stream=None)), _log_files(tmp_path, LOG))
    with pytest.raises(AttemptNotFound):
        logs.tail(KEY, 1, limit=10, next_token=None)
    with pytest.raises(AttemptNotFound):
        logs.tail(replace(KEY, task_id="8"), 0, limit=10, next_token=None)
    with pytest.raises(LogStreamNotFound):
        logs.tail(KEY, 0, limit=10, next_token=None)


def test_excerpt_for_the_notifier_reads_once_and_counts(tmp_path: Path) -> None:
    store = _stored(_failed_task())
    counts = Counts()
    logs = AttemptLogs(store, _log_files(tmp_path, LOG), counts)

    excerpt = logs.excerpt(_failed_task(), 0)

    assert excerpt is not None and excerpt.exception == "ValueError: bad input"
    assert counts.seen == Counter({READ: 1})
    assert _stored_exception(store) == ("ValueError: bad input", "ValueError: bad input")


class _Failing:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def tail(self, group: str, stream: str, limit: int = 200, before_token: str | None = None) -> LogPage:
        raise self.error


@pytest.mark.parametrize(
    ("error", "counter"),
    [(LogStreamNotFound("gone"), MISSING), (LogsAccessDenied("no"), DENIED)],
)
def test_unreadable_log_leaves_the_exception_null_and_is_counted(error: Exception, counter: str) -> None:
    store = _stored(_failed_task())
    counts = Counts()

    assert AttemptLogs(store, _Failing(error), counts).excerpt(_failed_task(), 0) is None

    assert counts.seen == Counter({counter: 1})
    assert _stored_exception(store) == (None, None)


def test_kept_exception_survives_any_later_or_earlier_event() -> None:
    task = _failed_task()
    with_exception = replace(task, attempts=(replace(task.attempts[0], exception="ValueError: bad input"),))
    duplicate = replace(task, last_event_at=4_000)
    assert merge_task(with_exception, duplicate).attempts[0].exception == "ValueError: bad input"
    assert merge_task(duplicate, with_exception) == merge_task(with_exception, duplicate)

    run = RunState(run_key_of(KEY), "batch")
    plain = run_observation_of_task(task, run)
    known = run_observation_of_task(with_exception, run)
    joined = merge_run(plain, known)
    assert joined == merge_run(known, plain)
    assert len(joined.failures) == 1
    assert joined.failure is not None and joined.failure.exception == "ValueError: bad input"
