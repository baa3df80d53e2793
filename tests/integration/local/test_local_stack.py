"""The local stack as a newcomer runs it: `python -m runwatch_dev.local` in a subprocess, spoken to over HTTP.

Sample events are posted to /events and read back through the API routes; rejected events land in the
dead-letter file; SIGTERM stops the stack with exit code 0 and takes DynamoDB Local with it; DATA_DIR keeps
the table across restarts; a busy port and a bad rules file stop the start with a clear message.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.receiver import Receiver
from tests.integration.local.stack import LocalStackProcess, process_alive, start_local_stack
from tests.unit.ingest.scenarios import failed_run_events

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "events"
FANOUT_RUN = "/flows/FanoutFlow/runs/1795719352434625"

StartStack = Callable[..., LocalStackProcess]


def scenario(name: str) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted((EVENTS / name).glob("*.json"))]


def test_sample_events_are_applied_and_served_by_the_api_routes(local_stack: StartStack) -> None:
    stack = local_stack()

    local_run = stack.post_events(scenario("local_run"))
    sfn_run = stack.post_events(scenario("sfn_run"))
    sfn_failed = stack.post_events(scenario("sfn_failed_run"))
    foreign = stack.post_events(scenario("foreign"))
    again = stack.post_events(scenario("local_run")[0])  # one event, not an array; already applied

    assert local_run.status == 202
    assert local_run.json() == {"accepted": 8, "ignored": 0, "rejected": 0, "errors": []}
    assert sfn_run.json() == {"accepted": 6, "ignored": 0, "rejected": 0, "errors": []}
    assert sfn_failed.json() == {"accepted": 3, "ignored": 0, "rejected": 0, "errors": []}
    # The foreign Batch job is ignored; the foreign execution cannot be told apart without AWS to describe
    # its state machine, so it is parked (accepted) until a Metaflow job of that machine shows up.
    assert foreign.json() == {"accepted": 1, "ignored": 1, "rejected": 0, "errors": []}
    assert again.json() == {"accepted": 1, "ignored": 0, "rejected": 0, "errors": []}

    run = stack.get(FANOUT_RUN)
    assert run.status == 200
    detail = run.json()
    assert detail["status"] == "succeeded"
    assert [step["step"] for step in detail["steps"]] == ["start", "train", "join", "end"]
    runs = stack.get("/runs?limit=100").json()["runs"]
    assert sorted((r["flow"], r["orchestrator"], r["status"]) for r in runs) == [
        ("FanoutFlow", "batch", "succeeded"),
        ("FanoutFlow", "step-functions", "succeeded"),
        ("ScoringFlow", "step-functions", "failed"),
    ]
    assert [f["flow"] for f in stack.get("/flows").json()["flows"]] == ["FanoutFlow", "ScoringFlow"]
    assert len(stack.get("/flows/ScoringFlow/runs?status=failed").json()["runs"]) == 1

    assert stack.get("/health").json() == {"status": "ok"}
    page = stack.get("/")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert stack.get("/openapi.json").json()["openapi"].startswith("3.")
    assert stack.get("/flows/FanoutFlow/runs/0").status == 404
    bad_limit = stack.get("/runs?limit=0")
    assert (bad_limit.status, bad_limit.json()["parameter"]) == (400, "limit")
    # Not a route of template.yaml: API Gateway's own answer.
    assert stack.get("/nowhere").status == 403
    assert stack.request("DELETE", "/runs").status == 403

    # ETags work through the proxy event and back.
    etag = run.headers["ETag"]
    assert stack.get(FANOUT_RUN, headers={"If-None-Match": etag}).status == 304


def test_rejected_events_go_to_the_dead_letter_file_with_their_reason(local_stack: StartStack) -> None:
    stack = local_stack()
    good = scenario("local_run")[0]
    unsupported = {
        "version": "0",
        "id": "e-1",
        "source": "aws.ec2",
        "detail-type": "EC2 Instance State-change",
    }
    incomplete = {**good, "id": "e-2", "detail": {"jobId": "j-1"}}

    reply = stack.post_events([good, unsupported, 42, incomplete])

    assert reply.status == 202
    body = reply.json()
    assert (body["accepted"], body["ignored"], body["rejected"]) == (1, 0, 3)
    assert [error["index"] for error in body["errors"]] == [1, 2, 3]
    assert "unsupported event" in body["errors"][0]["reason"]
    letters = stack.dead_letters()
    assert [letter["reason"] for letter in letters] == [error["reason"] for error in body["errors"]]
    assert [json.loads(letter["body"]) for letter in letters] == [unsupported, 42, incomplete]
    assert all(letter["rejected_at"].endswith("Z") for letter in letters)


def test_bodies_that_are_not_events_are_refused(local_stack: StartStack) -> None:
    stack = local_stack()

    not_json = stack.post_events(b"{not json")
    not_an_event = stack.post_events(b'"hello"')
    too_large = stack.post_events(b"[" + b" " * (1024 * 1024) + b"]")
    wrong_method = stack.get("/events")

    assert not_json.status == 400 and "not JSON" in not_json.json()["message"]
    assert not_an_event.status == 400
    assert too_large.status == 413 and "limit" in too_large.json()["message"]
    assert wrong_method.status == 405
    assert stack.post_events([]).json() == {"accepted": 0, "ignored": 0, "rejected": 0, "errors": []}
    assert stack.dead_letters() == []


def test_sigterm_stops_the_stack_and_its_dynamodb_local(local_stack: StartStack) -> None:
    stack = local_stack()
    java = stack.dynamodb_local_pids()
    assert len(java) == 1 and process_alive(java[0])

    code = stack.stop()

    assert code == 0
    assert not process_alive(java[0])
    assert "stopped" in stack.output()


def test_data_dir_keeps_the_table_and_dead_letters_across_restarts(
    local_stack: StartStack, tmp_path: Path
) -> None:
    first = local_stack(data_dir=tmp_path / "data")
    first.post_events([*scenario("local_run"), {"source": "nowhere"}])
    assert first.stop() == 0

    second = local_stack(data_dir=tmp_path / "data")

    assert second.get(FANOUT_RUN).json()["status"] == "succeeded"
    assert len(second.dead_letters()) == 1
    assert (tmp_path / "data" / "dynamodb").is_dir()


def test_a_busy_port_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        stack = start_local_stack(port=port, wait=False, work_dir=tmp_path)
        code = stack.process.wait(120)

    assert code == 2
    assert f"port {port} on 127.0.0.1 is already in use" in stack.output()
    assert "runwatch is running" not in stack.output()


def test_a_bad_rules_file_stops_the_start_with_the_reason(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - when: {status: [nonsense]}\n    send_to: [nowhere]\n")

    stack = start_local_stack(env={"NOTIFY_RULES": str(rules)}, wait=False, work_dir=tmp_path)
    code = stack.process.wait(120)

    assert code == 2
    assert str(rules) in stack.output()
    assert "runwatch is running" not in stack.output()


def test_a_day_old_failure_sends_nothing_and_a_fresh_one_sends_one_message(local_stack: StartStack) -> None:
    with Receiver() as receiver:
        stack = local_stack(
            env={"NOTIFY_WEBHOOK_URL": receiver.url("/hook"), "NOTIFY_WEBHOOK_SECRET": "s3cret"}
        )
        assert "notifications: on (webhook)" in stack.output()

        stack.post_events(failed_run_events("AgeFlow", "1795000000000100", failed_ago_ms=24 * 3_600_000))
        stack.wait_for_output(r"POST /events 202")
        stack.post_events(failed_run_events("AgeFlow", "1795000000000200", failed_ago_ms=60_000))
        delivered = _wait_for(lambda: [r for r in receiver.requests if r.path == "/hook"])
        # The stream is read in order: the day-old run's records were handled before the fresh run's.
        assert stack.get("/flows/AgeFlow/runs/1795000000000100").json()["status"] == "failed"

    (payload,) = [r.json() for r in delivered]
    assert (payload["type"], payload["flow"], payload["run_id"]) == (
        "run.failed",
        "AgeFlow",
        "1795000000000200",
    )
    assert any(link.startswith(stack.url) for link in payload["links"].values())  # the local dashboard


def _wait_for(found: Callable[[], list[Any]], timeout: float = 60.0) -> list[Any]:
    """Poll a real asynchronous process (the stream poller in the subprocess) until it has delivered."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = found()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"nothing delivered within {timeout:.0f} s")
