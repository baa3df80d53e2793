"""GET .../attempts/{attempt}/logs through the resolver: the documented body, paging, 404, 400 and 503."""

from __future__ import annotations

from pathlib import Path

import pytest

from runwatch.api.app import create_app
from runwatch.logs.local_source import LocalLogFiles
from runwatch.logs.source import LogPage, LogsThrottled
from runwatch.services.attempt_logs import AttemptLogs
from tests.unit.api.rest import Reply, call
from tests.unit.api.test_app import FakeQueries
from tests.unit.logs.test_attempt_logs import GROUP, KEY, LOG, STREAM, _failed_task, _stored

ROUTE = f"/flows/{KEY.flow}/runs/{KEY.run_id}/steps/{KEY.step}/tasks/{KEY.task_id}/attempts/0/logs"


def _files(tmp_path: Path, lines: list[str]) -> LocalLogFiles:
    path = tmp_path / "logs" / GROUP.removeprefix("/") / f"{STREAM}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return LocalLogFiles(tmp_path)


def _get(target: str, logs: AttemptLogs | None) -> Reply:
    return call(create_app(FakeQueries(), logs), target)  # type: ignore[arg-type]


def test_the_newest_lines_with_the_exception(tmp_path: Path) -> None:
    logs = AttemptLogs(_stored(_failed_task()), _files(tmp_path, LOG))

    reply = _get(ROUTE, logs)

    assert reply.status == 200
    body = reply.json()
    assert body["log_group"] == GROUP and body["log_stream"] == STREAM
    assert body["exception"] == "ValueError: bad input"
    assert body["next_token"] is None
    assert body["lines"][0] == {"ts": "2026-11-18T12:00:00.000Z", "message": "Training on 1000 rows"}
    assert body["lines"][-1] == {"ts": None, "message": "Task failed."}


def test_pages_walk_back_to_the_start_without_gap_or_repeat(tmp_path: Path) -> None:
    lines = [f"line {n}" for n in range(2_500)]
    logs = AttemptLogs(_stored(_failed_task()), _files(tmp_path, lines))

    seen: list[str] = []
    target = f"{ROUTE}?limit=1000"
    while True:
        body = _get(target, logs).json()
        assert len(body["lines"]) <= 1000
        seen[:0] = [line["message"] for line in body["lines"]]
        if body["next_token"] is None:
            break
        target = f"{ROUTE}?limit=1000&next_token={body['next_token']}"
    assert seen == lines


def test_a_response_stays_under_256_kb_whatever_the_lines(tmp_path: Path) -> None:
    # Control characters grow sixfold as JSON escapes: the page must shrink, not the bound give way.
    lines = ["\x01" * 8_000 for _ in range(200)]
    logs = AttemptLogs(_stored(_failed_task()), _files(tmp_path, lines))

    reply = _get(f"{ROUTE}?limit=1000", logs)

    assert reply.status == 200
    assert len((reply.text or "").encode()) < 256 * 1024
    body = reply.json()
    assert body["lines"] and body["next_token"] is not None


@pytest.mark.parametrize(
    "target",
    [
        ROUTE.replace("/attempts/0/", "/attempts/3/"),
        ROUTE.replace(f"/tasks/{KEY.task_id}/", "/tasks/999/"),
    ],
)
def test_unknown_attempt_is_404(tmp_path: Path, target: str) -> None:
    reply = _get(target, AttemptLogs(_stored(_failed_task()), _files(tmp_path, LOG)))
    assert reply.status == 404 and "not found" in reply.json()["message"]


def test_missing_stream_is_404(tmp_path: Path) -> None:
    reply = _get(ROUTE, AttemptLogs(_stored(_failed_task()), LocalLogFiles(tmp_path)))
    assert reply.status == 404
    assert set(reply.json()) == {"message"}


def test_no_log_source_is_404() -> None:
    assert _get(ROUTE, None).status == 404


@pytest.mark.parametrize(
    ("query", "parameter", "message"),
    [
        ("limit=0", "limit", "limit must be an integer from 1 to 1000"),
        ("limit=1001", "limit", "limit must be an integer from 1 to 1000"),
        ("next_token=not%20a%20token", "next_token", "next_token must be"),
        ("next_token=Zm9v", "next_token", "next_token must be"),
    ],
)
def test_bad_parameters_are_400_naming_them(tmp_path: Path, query: str, parameter: str, message: str) -> None:
    reply = _get(f"{ROUTE}?{query}", AttemptLogs(_stored(_failed_task()), _files(tmp_path, LOG)))
    assert reply.status == 400
    body = reply.json()
    assert body["parameter"] == parameter and body["message"].startswith(message)


def test_bad_attempt_number_is_400() -> None:
    reply = _get(ROUTE.replace("/attempts/0/", "/attempts/x/"), None)
    assert reply.status == 400 and reply.json()["parameter"] == "attempt"


class _Throttled:
    def tail(self, group: str, stream: str, limit: int = 200, before_token: str | None = None) -> LogPage:
        raise LogsThrottled("CloudWatch Logs throttled (ThrottlingException): g s", 2.5)


def test_the_log_is_the_one_of_the_run_in_the_given_account(tmp_path: Path) -> None:
    logs = AttemptLogs(_stored(_failed_task()), _files(tmp_path, LOG))

    here = _get(f"{ROUTE}?account={KEY.account}&region={KEY.region}", logs)
    elsewhere = _get(f"{ROUTE}?account=999999999999&region={KEY.region}", logs)

    assert (here.status, elsewhere.status) == (200, 404)


def test_throttling_is_503_with_retry_after() -> None:
    reply = _get(ROUTE, AttemptLogs(_stored(_failed_task()), _Throttled()))
    assert reply.status == 503
    assert reply.headers["Retry-After"] == "3"
    assert "throttl" in reply.json()["message"]
