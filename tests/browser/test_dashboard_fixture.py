"""The dashboard in headless Chromium against the canned fixture API (tests/browser/fixture_api.py).

Given the fixture runs, when a user lists, filters and opens runs, then the page shows what the API
says, renders hostile strings as text, asks for an API key on 403 and polls with ETags.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest

from tests.browser.dashboard_page import Dashboard
from tests.browser.fixture_api import XSS, FixtureAPI

pytestmark = pytest.mark.browser

OOM_RUN = ("FanoutFlow", "1795719352434625")
SFN_RUN = ("demo.prod.FanoutFlow", "sfn-5f0b1d2e-8a3c-4e71-b2d9-2c7d1e9f0a41")
XSS_RUN = (XSS, "1795719000000001")
OOM_LINE = "train/3 attempt 1 · oom · OutOfMemoryError: Container killed due to memory usage · exit 137"

Open = Callable[..., Dashboard]
Serve = Callable[..., tuple[FixtureAPI, str]]


def _wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for something the browser does on its own schedule (a poll) -- a wait, not a timing check."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def _attempt(api: FixtureAPI, flow: str, run_id: str, step: str, task_id: str, n: int) -> dict[str, Any]:
    run = next(r for r in api.runs if r["flow"] == flow and r["run_id"] == run_id)
    task = next(t for s in run["steps"] if s["step"] == step for t in s["tasks"] if t["task_id"] == task_id)
    return next(a for a in task["attempts"] if a["attempt"] == n)


def _console_escape(value: str) -> str:
    # The CloudWatch console escapes path parts twice and writes "%" as "$".
    return quote(quote(value, safe=""), safe="").replace("%", "$")


def test_runs_are_listed_newest_first_with_load_more(fixture_api: Serve, dashboard: Open) -> None:
    api, url = fixture_api()
    page = dashboard(url).open()
    page.wait_view("runs")

    assert page.run_rows().count() == 25
    started = [r["started_at"] for r in api.runs[:25]]
    assert page.row_attrs("data-run-id") == [r["run_id"] for r in api.runs[:25]]
    assert started == sorted(started, reverse=True)
    running = page.row(SFN_RUN[1])
    assert running.get_by_test_id("run-status").inner_text() == "Running"
    assert running.get_by_test_id("run-duration").locator("[data-since]").count() == 1  # live duration
    assert page.row(OOM_RUN[1]).get_by_test_id("run-failure").inner_text() == OOM_LINE
    page.screenshot("fixture-runs-list", full_page=False)

    page.page.click("#load-more")
    # A function, not an expression: polling an expression string needs eval, which the page's CSP forbids.
    page.page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=run-row]').length === n", arg=len(api.runs)
    )
    assert page.page.locator("#load-more").count() == 0
    assert page.errors == [] and page.dialogs == []


def test_status_filter_shows_only_that_status(fixture_api: Serve, dashboard: Open) -> None:
    api, url = fixture_api()
    page = dashboard(url).open()
    page.wait_view("runs")

    page.filter_status("failed")
    page.wait_view("runs")

    expected = [r["run_id"] for r in api.runs if r["status"] == "failed"]
    assert page.row_attrs("data-run-id") == expected
    assert set(page.row_attrs("data-status")) == {"failed"}
    assert any(p.startswith("/runs?") and "status=failed" in p for p, _ in api.requests)


def test_flow_filter_queries_the_flow_route(fixture_api: Serve, dashboard: Open) -> None:
    api, url = fixture_api()
    page = dashboard(url).open()
    page.wait_view("runs")
    options = page.page.locator("#filter-flow option").all_inner_texts()
    assert options[0] == "All flows"
    assert set(options[1:]) == {r["flow"] for r in api.runs}

    page.filter_flow("ScoringFlow")
    page.wait_view("runs")

    assert set(page.row_attrs("data-flow")) == {"ScoringFlow"}
    assert page.run_rows().count() == sum(r["flow"] == "ScoringFlow" for r in api.runs)
    assert any(p.startswith("/flows/ScoringFlow/runs?") for p, _ in api.requests)


def test_failed_run_shows_root_cause_steps_attempts_and_links(fixture_api: Serve, dashboard: Open) -> None:
    api, url = fixture_api()
    page = dashboard(url).open()
    page.wait_view("runs")

    page.row(OOM_RUN[1]).get_by_test_id("run-flow").click()
    page.wait_view("run")

    p = page.page
    assert (
        p.evaluate("location.hash")
        == "#/flows/FanoutFlow/runs/1795719352434625?account=123456789012&region=us-east-1"
    )
    assert p.locator("#run-status").get_attribute("data-status") == "failed"
    assert page.failure_text() == OOM_LINE
    assert p.locator("[data-testid=step]").evaluate_all("s => s.map(x => x.dataset.step)") == [
        "start",
        "train",
    ]
    counts = p.locator("[data-step=train] [data-testid=task-counts] [data-status]")
    assert dict(
        zip(
            counts.evaluate_all("c => c.map(x => x.dataset.status)"),
            counts.evaluate_all("c => c.map(x => +x.dataset.count)"),
            strict=True,
        )
    ) == {
        "failed": 1,
        "killed": 2,
        "succeeded": 2,
    }
    oom_rows = p.locator("[data-step=train] [data-testid=attempt-row][data-task-id='3']")
    assert oom_rows.count() == 2
    assert oom_rows.locator("[data-testid=failure-class]").all_inner_texts() == ["oom", "oom"]
    assert oom_rows.locator("[data-testid=exit-code]").all_inner_texts() == ["137", "137"]
    assert p.locator("[data-testid=gantt-bar]").count() >= 10

    # Console links for the spot-reclaimed first attempt of the retried task train/2.
    spot = _attempt(api, *OOM_RUN, "train", "2", 0)
    row = p.locator("[data-step=train] [data-testid=attempt-row][data-task-id='2'][data-attempt='0']")
    assert row.locator("[data-testid=failure-class]").inner_text() == "spot_reclaim"
    assert row.get_by_test_id("log-link").get_attribute("href") == (
        "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups/log-group/"
        f"$252Faws$252Fbatch$252Fjob/log-events/{_console_escape(spot['log_stream'])}"
    )
    assert row.get_by_test_id("job-link").get_attribute("href") == (
        f"https://us-east-1.console.aws.amazon.com/batch/home?region=us-east-1#jobs/detail/{spot['job_id']}"
    )
    assert row.get_by_test_id("log-link").get_attribute("rel") == "noopener noreferrer"
    page.screenshot("fixture-run-failed")
    assert page.errors == [] and page.dialogs == []


def test_running_step_functions_run_links_the_execution(fixture_api: Serve, dashboard: Open) -> None:
    api, url = fixture_api()
    page = dashboard(url).open_run(*SFN_RUN)
    p = page.page

    assert p.locator("#run-status").get_attribute("data-status") == "running"
    assert p.locator("#run-failure").count() == 0
    arn = next(r for r in api.runs if r["run_id"] == SFN_RUN[1])["execution_arn"]
    assert p.get_by_test_id("execution-link").get_attribute("href") == (
        f"https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/{arn}"
    )
    assert p.locator("[data-step=train] [data-testid=task-status]").evaluate_all(
        "b => b.map(x => x.dataset.status)"
    ) == [
        "running",
        "retrying",
        "pending",
    ]
    blocked = p.locator("[data-step=train] [data-testid=blocked-reason]")
    assert blocked.inner_text().startswith("Blocked: CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY")
    assert p.locator("#live").get_attribute("data-state") == "live"
    page.screenshot("fixture-run-running")


def test_strings_from_events_render_as_text(fixture_api: Serve, dashboard: Open) -> None:
    _, url = fixture_api()
    page = dashboard(url).open()
    page.wait_view("runs")
    row = page.row(XSS_RUN[1])
    assert row.get_by_test_id("run-flow").inner_text() == XSS
    assert row.get_by_test_id("run-user").inner_text() == XSS

    row.get_by_test_id("run-flow").click()
    page.wait_view("run")
    p = page.page
    assert p.locator("#run-title [data-testid=run-flow]").inner_text() == XSS
    assert p.get_by_test_id("tag").all_inner_texts() == [XSS, "team:sec"]
    assert p.get_by_test_id("status-reason").inner_text() == XSS
    assert p.get_by_test_id("container-reason").count() == 0  # same as the status reason, shown once
    assert page.failure_text() == f"start/1 attempt 0 · unknown · {XSS} · exit 2"
    assert p.evaluate("document.querySelectorAll('img, [onerror]').length") == 0
    assert page.dialogs == [] and page.errors == []
    page.screenshot("fixture-run-xss")


def test_api_key_prompt_on_403_then_key_is_sent(fixture_api: Serve, dashboard: Open) -> None:
    api, url = fixture_api(api_key="s3cret", prefix="/dev")
    assert url.endswith("/dev/")
    page = dashboard(url).open()
    p = page.page

    p.wait_for_selector("#key-overlay:not([hidden])")
    assert p.evaluate("document.activeElement.id") == "api-key-input"
    page.screenshot("fixture-api-key-prompt", full_page=False)
    api_calls = [(path, h) for path, h in api.requests if path not in ("/dev/", "/dev")]
    assert api_calls and all(path.startswith("/dev/") and "x-api-key" not in h for path, h in api_calls)

    p.fill("#api-key-input", "wrong")
    p.click("#key-save")
    p.wait_for_selector("#key-error:not([hidden])")
    assert "rejected" in p.locator("#key-error").inner_text()
    # Every request refused so far (the list, the flows, /config) is sent again with the wrong key; the
    # first refusal shows the error while others may still be on their way. While the prompt is up nothing
    # else is sent, so wait for the requests to stop before counting.
    count = -1
    for _ in range(100):
        if len(api.requests) == count:
            break
        count = len(api.requests)
        p.wait_for_timeout(300)

    sent_before = len(api.requests)
    p.fill("#api-key-input", "s3cret")
    p.click("#key-save")
    page.wait_view("runs")
    assert p.locator("#key-overlay").is_hidden()
    after = api.requests[sent_before:]
    assert after and all(h.get("x-api-key") == "s3cret" for _, h in after)
    assert p.evaluate("localStorage.getItem('runwatch.apiKey')") == "s3cret"

    # Remembered across reloads: no prompt the second time.
    p.reload()
    page.wait_view("runs")
    assert p.locator("#key-overlay").is_hidden()


def test_polling_sends_if_none_match_and_picks_up_new_runs(fixture_api: Serve, dashboard: Open) -> None:
    api, url = fixture_api()
    page = dashboard(url).open(query="refresh=1")
    page.wait_view("runs")

    _wait_for(lambda: any(p.startswith("/runs?") and "if-none-match" in h for p, h in list(api.requests)))
    assert page.run_rows().count() == 25  # a 304 keeps what is shown

    new = dict(
        api.runs[1],
        run_id="1799999999999999",
        started_at="2099-01-01T00:00:00Z",
        failure=None,
        status="running",
    )
    api.runs = [new, *api.runs]
    page.page.wait_for_selector('[data-testid=run-row][data-run-id="1799999999999999"]')
    assert page.row_attrs("data-run-id")[0] == "1799999999999999"
    assert page.page.locator("#updated-ago").inner_text().startswith("updated")


def test_empty_state(fixture_api: Serve, dashboard: Open) -> None:
    _, url = fixture_api(runs=[])
    page = dashboard(url).open()
    page.wait_view("runs", "empty")
    assert (
        "No runs yet — send events to POST /events or run the demo"
        in page.page.locator("#empty-state").inner_text()
    )


def test_error_state_then_retry(fixture_api: Serve, dashboard: Open) -> None:
    api, url = fixture_api()
    api.down = True
    page = dashboard(url).open()
    page.wait_view("runs", "error")
    assert "503" in page.page.locator("#error-state").inner_text()
    assert page.page.locator("#live").get_attribute("data-state") == "error"

    api.down = False
    page.page.click("#retry-button")
    page.wait_view("runs")
    assert page.run_rows().count() == 25


def test_unknown_run_shows_not_found(fixture_api: Serve, dashboard: Open) -> None:
    _, url = fixture_api()
    page = dashboard(url).open("/flows/FanoutFlow/runs/does-not-exist")
    page.wait_view("run", "not-found")
    assert "Run not found" in page.page.locator("#not-found").inner_text()


def test_phone_width_has_no_horizontal_overflow(fixture_api: Serve, dashboard: Open) -> None:
    _, url = fixture_api()
    page = dashboard(url, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).open()
    page.wait_view("runs")
    assert page.page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot("fixture-runs-phone", full_page=False)
    page.open_run(*OOM_RUN)
    assert page.page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.failure_text() == OOM_LINE


def test_refresh_pauses_while_the_tab_is_hidden(fixture_api: Serve, dashboard: Open) -> None:
    _, url = fixture_api()
    page = dashboard(url).open()
    page.wait_view("runs")
    live = page.page.locator("#live")
    assert live.get_attribute("data-state") == "live"

    page.page.evaluate(
        "Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )
    assert live.get_attribute("data-state") == "idle"
    assert "Paused" in page.page.locator("#refresh-status").inner_text()

    page.page.evaluate(
        "Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )
    page.page.wait_for_selector("#live[data-state=live]")


def test_flow_route_and_run_route_survive_reload(fixture_api: Serve, dashboard: Open) -> None:
    _, url = fixture_api()
    page = dashboard(url).open("/flows/ScoringFlow")
    page.wait_view("runs")
    assert set(page.row_attrs("data-flow")) == {"ScoringFlow"}
    assert page.page.locator("#filter-flow").input_value() == "ScoringFlow"

    page.open_run(*XSS_RUN)
    page.page.reload()
    page.wait_view("run")
    assert page.page.locator("#run-title [data-testid=run-flow]").inner_text() == XSS
    assert page.page.title().startswith(XSS)


SCORE_RUN = (
    "ScoringFlow",
    "sfn-8c1e5b7d-2f4a-7c3e-1d9b-6e2f0a4c8b13_90d3f7a1-6b2e-c4d8-5f1a-3e7b9c2d4a68",
)


def test_failed_attempt_opens_its_log_tail_with_the_traceback_highlighted(
    fixture_api: Serve, dashboard: Open
) -> None:
    api, url = fixture_api()
    page = dashboard(url).open_run(*SCORE_RUN)
    p = page.page
    assert (
        p.locator("#run-failure [data-testid=failure-exception]").inner_text()
        == "KeyError: 'customer_segment'"
    )

    row = p.locator("[data-step=score] [data-testid=attempt-row][data-attempt='1']")
    assert row.get_by_test_id("attempt-exception").inner_text() == "KeyError: 'customer_segment'"
    button = row.get_by_test_id("log-tail-button")
    assert button.get_attribute("aria-expanded") == "false"
    task_cell = p.locator("[data-step=score] td.task")
    assert task_cell.get_attribute("rowspan") == "2"
    button.click()

    tail = p.locator("[data-step=score] [data-testid=log-tail]").nth(1)
    tail.locator("[data-testid=log-lines]").wait_for()
    assert button.get_attribute("aria-expanded") == "true"
    assert task_cell.get_attribute("rowspan") == "3", "the task's cell spans the open log row too"
    highlighted = tail.locator("[data-testid=traceback-line]").all_inner_texts()
    assert highlighted[0].rstrip("\n") == "Traceback (most recent call last):"
    assert highlighted[-1].rstrip("\n") == "KeyError: 'customer_segment'"
    assert len(highlighted) == 6, "header, two frames with their source lines, the exception"
    assert "Task failed." in tail.locator("[data-testid=log-lines]").inner_text()
    assert any("/attempts/1/logs" in path for path, _ in api.requests)
    page.screenshot("fixture-log-tail")

    button.click()
    assert not tail.is_visible() and button.get_attribute("aria-expanded") == "false"
    assert task_cell.get_attribute("rowspan") == "2"
