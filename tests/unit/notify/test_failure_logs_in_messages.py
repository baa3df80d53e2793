"""run.failed messages carry the root cause's exception line; traceback lines only when NOTIFY_LOG_LINES asks."""

from __future__ import annotations

import json
from dataclasses import replace

from runwatch.logs.traceback import FailureExcerpt
from runwatch.notify import sns, webhook
from runwatch.notify.message import compose_run
from runwatch.notify.slack_blocks import check_limits, render
from tests.unit.notify.samples import failed_run
from tests.unit.notify.test_message import LINKS, ROOT, T0, _failed, _run, _task

EXCEPTION = "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"
TRACEBACK = (
    "Traceback (most recent call last):",
    '  File "/metaflow/flow.py", line 40, in train',
    "    model.fit(batch)",
    EXCEPTION,
)


def _compose(excerpt: FailureExcerpt | None, log_lines: int = 0, **attempt: object):  # type: ignore[no-untyped-def]
    root = _task("7", _failed(0, exit_code=1), _failed(1, exit_code=1, **attempt))
    return compose_run("run.failed#r0", "run.failed", _run(), [root], LINKS, T0 + 99, excerpt, log_lines)


def test_the_exception_line_is_told_by_default_and_the_traceback_is_not() -> None:
    notification = _compose(FailureExcerpt(EXCEPTION, TRACEBACK))

    assert notification.failure is not None
    assert notification.failure.exception == EXCEPTION
    assert notification.failure.log_lines == ()
    assert EXCEPTION in sns.text(notification)
    assert "model.fit" not in sns.text(notification)
    assert json.loads(webhook.body(notification))["failure"]["exception"] == EXCEPTION
    slack = json.dumps(render(notification))
    assert "CUDA out of memory" in slack and "model.fit" not in slack


def test_log_lines_are_the_tracebacks_last_lines_when_asked_for() -> None:
    notification = _compose(FailureExcerpt(EXCEPTION, TRACEBACK), log_lines=2)

    assert notification.failure is not None
    assert notification.failure.log_lines == ("    model.fit(batch)", EXCEPTION)
    assert "    model.fit(batch)" in sns.text(notification)
    assert json.loads(webhook.body(notification))["failure"]["log_lines"] == list(TRACEBACK[-2:])
    assert "model.fit(batch)" in json.dumps(render(notification))


def test_an_exception_already_kept_is_told_without_an_excerpt() -> None:
    notification = _compose(None, exception="KeyError: 'label'")
    assert notification.failure is not None and notification.failure.exception == "KeyError: 'label'"

    kept_on_run = _run(failures=(replace(ROOT, exception="ValueError: bad input"),))
    root = _task("7", _failed(0), _failed(1))
    told = compose_run("run.failed#r0", "run.failed", kept_on_run, [root], LINKS, T0 + 99)
    assert told.failure is not None and told.failure.exception == "ValueError: bad input"


def test_no_log_means_no_exception_and_the_message_still_reads() -> None:
    notification = _compose(None)
    assert notification.failure is not None and notification.failure.exception is None
    assert "Exception" not in sns.text(notification)
    assert check_limits(render(notification)) == []


def test_slack_stays_within_block_kit_limits_with_a_20000_character_traceback() -> None:
    huge_line = "x" * 20_000
    traceback = ("Traceback (most recent call last):", f'  File "f.py", line 1, in {huge_line}', huge_line)
    notification = failed_run(
        failure=replace(
            failed_run().failure,  # type: ignore[type-var]
            exception="ValueError: " + "`<&>" * 5_000,
            log_lines=traceback,
        )
    )

    payload = render(notification)

    assert check_limits(payload) == []
    code_blocks = [b["text"]["text"] for b in payload["blocks"] if "```" in b.get("text", {}).get("text", "")]
    assert any(text.endswith("x```") for text in code_blocks), "the end of the traceback is kept"
    assert len(payload["text"]) <= 3000
