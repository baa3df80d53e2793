"""Slack Block Kit messages stay within Slack's limits whatever the input, and never turn user text into markup."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runwatch.notify.delivery import HttpSender, RetryPolicy
from runwatch.notify.message import AttemptReport, FailureReport, TaskReport
from runwatch.notify.secrets import fixed_endpoint
from runwatch.notify.slack import SlackChannel
from runwatch.notify.slack_blocks import MAX_SECTION_TEXT, check_limits, cut, escape, render
from tests.fakes.receiver import Receiver
from tests.unit.notify.samples import T0, failed_run

HUGE = "Traceback (most recent call last):\n" + "  File <x.py>, line 1 & more\n" * 5_000


def _all_text(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False)


def _mrkdwn_texts(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "mrkdwn" else []
        return own + [t for value in node.values() for t in _mrkdwn_texts(value)]
    if isinstance(node, list):
        return [t for value in node for t in _mrkdwn_texts(value)]
    return []


def test_a_failed_run_shows_root_cause_counts_history_and_links() -> None:
    payload = render(failed_run())

    assert check_limits(payload) == []
    assert payload["text"].startswith("TrainFlow/1795000000000123 failed: oom in train/17, exit code 137")
    assert payload["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": ":x: TrainFlow/1795000000000123 failed", "emoji": True},
    }
    fields = [f["text"] for f in payload["blocks"][1]["fields"]]
    assert fields[:5] == [
        "*Status*\nfailed",
        "*Orchestrator*\nbatch",
        "*Project / branch*\nchurn / prod",
        "*User*\nalice",
        "*Duration*\n1h 02m",
    ]
    text = _all_text(payload)
    assert "*Root cause:* `train/17` attempt 2: *oom*, exit code 137" in text
    assert "*199* other tasks failed or were killed." in text
    assert "• #0 failed: oom, exit code 137" in text
    buttons = payload["blocks"][-1]["elements"]
    assert [b["text"]["text"] for b in buttons] == ["Open in runwatch", "Logs"]
    assert buttons[0]["url"].endswith("#/flows/TrainFlow/runs/1795000000000123")


def test_limits_hold_with_huge_reasons_many_attempts_tags_and_names() -> None:
    attempts = tuple(AttemptReport(n, "failed", "oom", HUGE, 137, T0, T0 + 1) for n in range(300))
    notification = failed_run(
        flow="F" * 500,
        run_id="r" * 500,
        user="u" * 3000,
        project="p" * 3000,
        branch="b" * 3000,
        tags=tuple(f"tag{n}:" + "x" * 4000 for n in range(60)),
        failure=FailureReport("s" * 2000, "t" * 2000, 299, "oom", HUGE, 137),
        task=TaskReport("s" * 2000, "t" * 2000, "failed", attempts),
        failed_tasks=10_000,
        message="m" * 10_000,
        hint="h" * 10_000,
        links=(("dashboard", "https://x/" + "a" * 5000), ("logs", "https://logs.example.com/ok")),
    )

    payload = render(notification)

    assert check_limits(payload) == []
    assert len(payload["blocks"]) <= 50
    assert "… 290 earlier attempts" in _all_text(payload)
    # An over-long URL is dropped rather than breaking the message.
    assert [b["url"] for b in payload["blocks"][-1]["elements"]] == ["https://logs.example.com/ok"]


@pytest.mark.parametrize(
    ("kind", "extra", "title"),
    [
        ("run.timed_out", {"status": "timed_out"}, ":hourglass: TrainFlow/1795000000000123 timed out"),
        (
            "run.aborted",
            {"status": "aborted", "failure": None},
            ":no_entry_sign: TrainFlow/1795000000000123 was aborted",
        ),
        ("run.succeeded", {"status": "succeeded", "failure": None, "task": None, "failed_tasks": 0}, None),
        (
            "task.retrying",
            {"status": "running", "message": "attempt 2 failed (oom); Metaflow is retrying it"},
            None,
        ),
        ("task.stuck", {"status": "running", "failure": None, "hint": "the queue has no capacity"}, None),
        (
            "run.late",
            {"status": "running", "failure": None, "task": None, "message": "3x its usual time"},
            None,
        ),
    ],
)
def test_every_notification_type_renders_within_limits(kind: str, extra: dict, title: str | None) -> None:
    payload = render(failed_run(type=kind, **extra))

    assert check_limits(payload) == []
    if title:
        assert payload["blocks"][0]["text"]["text"] == title


def test_retrying_names_the_failed_attempt_not_a_root_cause() -> None:
    payload = render(failed_run(type="task.retrying", status="running", failed_tasks=0))

    text = _all_text(payload)
    assert (
        payload["blocks"][0]["text"]["text"]
        == ":repeat: TrainFlow/1795000000000123: train/17 is retrying after oom"
    )
    assert "*Failed attempt:*" in text and "Root cause" not in text and "other tasks" not in text


def test_user_text_cannot_inject_links_or_mentions() -> None:
    evil = "<!channel> <https://evil.example|click> & friends"
    payload = render(failed_run(failure=FailureReport("train", "1", 0, "user_code", evil, 1), flow="<@U123>"))

    # mrkdwn texts and the fallback are parsed by Slack; plain_text (the header) never is.
    text = "\n".join([payload["text"], *_mrkdwn_texts(payload)])
    assert "<!channel>" not in text and "<https://evil" not in text and "<@U123>" not in text
    assert "&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; friends" in text
    assert "&lt;@U123&gt;" in payload["text"]


def test_cut_never_leaves_half_an_entity() -> None:
    assert cut(escape("a" * 10 + "<b"), 13) == "a" * 10 + "…"
    assert cut("short", 10) == "short"


def test_check_limits_reports_what_slack_would_reject() -> None:
    payload = {
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "x" * (MAX_SECTION_TEXT + 1)}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": "x"}] * 11},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "x"}] * 11},
        ]
        * 13
    }

    problems = check_limits(payload)

    assert "missing top-level text fallback" in problems
    assert "52 > 50 blocks" in problems
    assert any("header text > 150" in p for p in problems)
    assert any("section text > 3000" in p for p in problems)
    assert any("11 > 10 fields" in p for p in problems)
    assert any("11 context elements" in p for p in problems)


@settings(max_examples=60, deadline=None)
@given(
    reason=st.text(max_size=6000),
    names=st.text(min_size=1, max_size=400),
    tags=st.lists(st.text(max_size=300), max_size=40),
    attempts=st.integers(0, 40),
)
def test_any_input_renders_within_limits(reason: str, names: str, tags: list[str], attempts: int) -> None:
    task = TaskReport(
        names, names, "failed", tuple(AttemptReport(n, "failed", "oom", reason, 1) for n in range(attempts))
    )
    notification = failed_run(
        flow=names,
        run_id=names,
        user=names,
        tags=tuple(tags),
        failure=FailureReport(names, names, 0, "user_code", reason, None),
        task=task,
        message=reason or None,
    )

    assert check_limits(render(notification)) == []


def test_slack_channel_posts_the_rendered_message(receiver: Receiver, sleeps: list[float]) -> None:
    sender = HttpSender(policy=RetryPolicy(), sleep=sleeps.append)
    channel = SlackChannel(fixed_endpoint(receiver.url("/services/T/B/secret"), None, "slack"), sender)

    channel.send(replace(failed_run(), failed_tasks=1))

    (request,) = receiver.requests
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.json() == render(replace(failed_run(), failed_tasks=1))
