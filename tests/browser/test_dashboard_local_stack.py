"""The dashboard in headless Chromium against the real local stack (`python -m runwatch_dev.local`).

The demo's runs are posted through POST /events (the same ingest path as the live demo, without waiting
for its clock), then the page must list them, open the failed one and show its root cause.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runwatch_dev.local.demo import build_demo
from runwatch_dev.local.demo_logs import write_demo_logs
from tests.browser.dashboard_page import Dashboard
from tests.integration.local.stack import LocalStackProcess, start_local_stack


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStackProcess]:
    started = start_local_stack(port=0, demo=False, work_dir=tmp_path)
    yield started
    assert started.stop() == 0


def test_lists_the_demo_runs_and_shows_the_root_cause_of_the_failed_one(
    stack: LocalStackProcess, dashboard: Callable[..., Dashboard]
) -> None:
    demo = build_demo(int(time.time() * 1000) - 600_000)
    events = [*demo.history, *(scheduled.event for scheduled in demo.schedule)]
    reply = stack.post_events(events).json()
    assert reply["rejected"] == 0 and reply["accepted"] == len(events)

    page = dashboard(stack.url).open()
    page.wait_view("runs")
    listed = dict(zip(page.row_attrs("data-run-id"), page.row_attrs("data-status"), strict=True))
    for run in demo.runs:
        assert listed.get(run.run_id) == run.status, run.story
    page.screenshot("local-stack-runs")

    failed = next(run for run in demo.runs if run.status == "failed" and run.live)
    page.filter_status("failed")
    page.page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=run-row]')].every(r => r.dataset.status === 'failed')"
    )
    page.row(failed.run_id).get_by_test_id("run-flow").click()
    page.wait_view("run")
    assert page.page.locator("#run-status").get_attribute("data-status") == "failed"
    text = page.failure_text()
    assert f"· {failed.failure_class} ·" in text and "OutOfMemoryError" in text and "exit 137" in text
    killed_or_failed = page.page.locator(
        "[data-testid=attempt-row] [data-testid=failure-class]"
    ).all_inner_texts()
    assert killed_or_failed.count("oom") >= 2  # both attempts of the task, each with its class
    assert page.page.locator("[data-testid=gantt-bar]").count() > 0
    page.screenshot("local-stack-failed-run")
    assert page.dialogs == [] and page.errors == []


def test_the_failed_attempts_log_opens_from_the_data_dir(
    tmp_path: Path, dashboard: Callable[..., Dashboard]
) -> None:
    data_dir = tmp_path / "data"
    stack = start_local_stack(port=0, demo=False, data_dir=data_dir, work_dir=tmp_path)
    try:
        demo = build_demo(int(time.time() * 1000) - 600_000)
        events = [*demo.history, *(scheduled.event for scheduled in demo.schedule)]
        assert write_demo_logs(events, data_dir) > 0  # what the demo writes when it plays
        assert stack.post_events(events).json()["rejected"] == 0
        buggy = next(run for run in demo.runs if run.failure_class == "user_code")

        page = dashboard(stack.url).open_run(buggy.flow, buggy.run_id)
        buggy_attempts = page.page.locator(
            "[data-testid=attempt-row]:has([data-testid=failure-class]:text-is('user_code'))"
        )
        assert buggy_attempts.count() == 3  # three attempts, each with its log
        buggy_attempts.last.get_by_test_id("log-tail-button").click()
        tail = page.page.locator("[data-testid=log-tail]:visible")
        tail.locator("[data-testid=log-lines]").wait_for()
        highlighted = tail.locator("[data-testid=traceback-line]").all_inner_texts()
        assert highlighted[0].startswith("Traceback (most recent call last):")
        assert highlighted[-1].rstrip("\n") == "KeyError: 'customer_segment'"
        # The first read kept the exception: the root cause box shows it after the next refresh.
        page.page.reload()
        page.wait_view("run")
        exception = page.page.locator("#run-failure [data-testid=failure-exception]")
        assert exception.inner_text() == "KeyError: 'customer_segment'"
        page.screenshot("local-stack-log-tail")
        assert page.dialogs == [] and page.errors == []
    finally:
        assert stack.stop() == 0


def test_event_strings_render_as_text(stack: LocalStackProcess, dashboard: Callable[..., Dashboard]) -> None:
    from runwatch_dev.local.synth import EventFactory, RunSpec

    hostile = "<img src=x onerror=alert(1)>"
    spec = RunSpec("TrainFlow", "1795000000000042", user="mallory", tags=(hostile,))
    now = int(time.time() * 1000)
    event: dict[str, Any] = EventFactory().batch_job(
        spec,
        "start",
        "1",
        job_id="j1",
        status="FAILED",
        retry_count=2,
        at_ms=now,
        created_ms=now - 60_000,
        started_ms=now - 30_000,
        stopped_ms=now,
        outcome="user_code",
    )
    event["detail"]["statusReason"] = hostile
    assert stack.post_events([event]).json()["accepted"] == 1

    page = dashboard(stack.url).open_run("TrainFlow", "1795000000000042")
    assert hostile in page.failure_text()
    assert page.page.get_by_test_id("tag").inner_text() == hostile
    assert page.page.locator("#view img").count() == 0
    assert page.dialogs == [] and page.errors == []


def test_the_live_demo_shows_progress(tmp_path: Path, dashboard: Callable[..., Dashboard]) -> None:
    stack = start_local_stack(port=0, demo=True, work_dir=tmp_path)
    try:
        page = dashboard(stack.url).open(query="refresh=1")
        page.wait_view("runs")
        page.page.wait_for_function(
            "() => document.querySelectorAll('[data-testid=run-row][data-status=running]').length > 0",
            timeout=60_000,
        )
        first = page.run_rows().count()
        page.page.wait_for_function(
            f"() => document.querySelectorAll('[data-testid=run-row]').length > {first}", timeout=90_000
        )
        page.screenshot("local-stack-live-demo")
        assert page.dialogs == [] and page.errors == []
    finally:
        assert stack.stop() == 0
