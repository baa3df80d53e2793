"""The signed webhook: body fields, signature a receiver can verify, delivery id stable across retries."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from runwatch.notify.delivery import HttpSender, RetryPolicy
from runwatch.notify.secrets import fixed_endpoint
from runwatch.notify.webhook import DELIVERY_HEADER, SIGNATURE_HEADER, WebhookChannel, signature, verify
from tests.fakes.receiver import Receiver
from tests.unit.notify.samples import failed_run

SECRET = "whsec-test-key"
NOW = 1_800_000_000


def _channel(receiver: Receiver, sleeps: list[float], secret: str | None = SECRET) -> WebhookChannel:
    sender = HttpSender(policy=RetryPolicy(), sleep=sleeps.append)
    return WebhookChannel(fixed_endpoint(receiver.url("/hook"), secret, "webhook"), sender, clock=lambda: NOW)


def test_signature_verifies_on_the_raw_body(receiver: Receiver, sleeps: list[float]) -> None:
    _channel(receiver, sleeps).send(failed_run())

    (request,) = receiver.requests
    header = request.headers[SIGNATURE_HEADER]
    assert header.startswith(f"t={NOW},v1=")
    assert verify(SECRET, header, request.body, now=NOW + 10)
    assert not verify("another-key", header, request.body, now=NOW + 10)
    assert not verify(SECRET, header, request.body + b" ", now=NOW + 10)
    assert not verify(SECRET, header, request.body, now=NOW + 301), "an old timestamp is a replay"
    assert not verify(SECRET, None, request.body, now=NOW)


def _readme_verify() -> Callable[..., bool]:
    """The verification snippet from docs/notifications.md, exactly as a receiver would copy it."""
    doc = (Path(__file__).resolve().parents[3] / "docs" / "notifications.md").read_text()
    section = doc.split("## The webhook", 1)[1]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {}
    exec(snippet, namespace)
    return namespace["verify"]  # type: ignore[return-value]


def test_the_readme_snippet_verifies_what_is_sent(receiver: Receiver, sleeps: list[float]) -> None:
    readme_verify = _readme_verify()
    channel = _channel(receiver, sleeps)
    channel.clock = time.time

    channel.send(failed_run())

    (request,) = receiver.requests
    header = request.headers["X-Runwatch-Signature"]
    assert readme_verify(SECRET, header, request.body)
    assert not readme_verify(SECRET, header, request.body.replace(b"oom", b"ok!"))
    assert not readme_verify("other", header, request.body)
    old = signature(SECRET, int(time.time()) - 301, request.body)
    assert not readme_verify(SECRET, old, request.body), "old timestamps are rejected"


def test_body_carries_the_documented_fields(receiver: Receiver, sleeps: list[float]) -> None:
    _channel(receiver, sleeps).send(failed_run())

    body = receiver.requests[0].json()
    assert {"type", "flow", "run_id", "status", "orchestrator", "user", "project", "branch"} <= body.keys()
    assert {"failure", "task", "occurred_at", "links"} <= body.keys()
    assert body["type"] == "run.failed" and body["status"] == "failed"
    assert body["failure"] == {
        "step": "train",
        "task_id": "17",
        "attempt": 2,
        "failure_class": "oom",
        "reason": "OutOfMemoryError: Container killed",
        "exit_code": 137,
        "exception": None,
        "log_lines": [],
    }
    assert [a["attempt"] for a in body["task"]["attempts"]] == [0, 1, 2]
    assert body["occurred_at"] == "2026-11-18T12:08:43.000Z"
    assert body["links"]["dashboard"].endswith("#/flows/TrainFlow/runs/1795000000000123")
    assert body["failed_tasks"] == 200
    assert receiver.requests[0].headers["Content-Type"] == "application/json"


def test_retries_carry_the_same_delivery_id_and_a_fresh_signature(
    receiver: Receiver, sleeps: list[float]
) -> None:
    receiver.script(500)
    clock = iter([NOW, NOW + 2])
    channel = _channel(receiver, sleeps)
    channel.clock = lambda: next(clock)

    channel.send(failed_run())

    first, second = receiver.requests
    assert first.headers[DELIVERY_HEADER] == second.headers[DELIVERY_HEADER] == failed_run().delivery_id
    assert first.headers[SIGNATURE_HEADER] != second.headers[SIGNATURE_HEADER]
    assert verify(SECRET, second.headers[SIGNATURE_HEADER], second.body, now=NOW + 2)


def test_delivery_id_differs_per_transition() -> None:
    assert failed_run().delivery_id != failed_run(key="run.failed#r1").delivery_id
    assert failed_run().delivery_id != failed_run(run_id="other").delivery_id


def test_unsigned_when_no_secret_is_configured(receiver: Receiver, sleeps: list[float]) -> None:
    _channel(receiver, sleeps, secret=None).send(failed_run())

    assert SIGNATURE_HEADER not in receiver.requests[0].headers
    assert json.loads(receiver.requests[0].body)["run_id"] == "1795000000000123"


def test_signature_format() -> None:
    assert signature("k", 1, b"{}") == "t=1,v1=" + __import__("hmac").new(b"k", b"1.{}", "sha256").hexdigest()
