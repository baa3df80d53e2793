"""Finding runs in the dashboard (headless Chromium, fixture API): the filter bar lives in the URL and in the
requests, the "me" preset, the search box for every kind of input, the flow's health page, the compute a
run used, and links to the Metaflow UI only when the stack names one.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.dashboard_page import Dashboard
from tests.browser.fixture_api import OTHER_ACCOUNT, FixtureAPI, build_runs, health_runs

pytestmark = pytest.mark.browser

OOM_RUN = ("FanoutFlow", "1795719352434625")
SFN_RUN = ("demo.prod.FanoutFlow", "sfn-5f0b1d2e-8a3c-4e71-b2d9-2c7d1e9f0a41")
SPOT_JOB = "b1-2"  # FanoutFlow/1795719352434625, train/2 attempt 0 (the spot reclaim)

Open = Callable[..., Dashboard]
Serve = Callable[..., tuple[FixtureAPI, str]]


def _list_requests(api: FixtureAPI) -> list[dict[str, list[str]]]:
    """The query of every run-list request the page made, oldest first."""
    out = []
    for raw, _ in api.requests:
        parts = urlsplit(raw)
        if parts.path == "/runs" or re.fullmatch(r"/flows/[^/]+/runs", parts.path):
            out.append(parse_qs(parts.query))
    return out


def _started(run: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(run["started_at"].replace("Z", "+00:00"))


# -- the filter bar ------------------------------------------------------------------------------------------
def test_filters_are_in_the_url_and_the_requests_and_a_shared_link_restores_them(
    fixture_api: Serve, dashboard: Open
) -> None:
    api, url = fixture_api()
    page = dashboard(url).open()
    page.wait_view("runs")

    page.filter_status("failed", "succeeded")
    page.page.fill("#filter-user", "alice")
    page.page.press("#filter-user", "Enter")
    page.page.select_option("#filter-time", "7d")
    page.page.wait_for_function("() => location.hash.includes('time=7d')")
    page.wait_view("runs")

    params = page.hash_params()
    assert params == {"status": ["succeeded,failed"], "user": ["alice"], "time": ["7d"]}
    sent = _list_requests(api)[-1]
    assert sent["status"] == ["succeeded,failed"] and sent["user"] == ["alice"]
    since = datetime.fromisoformat(sent["since"][0].replace("Z", "+00:00"))
    assert abs(since - (datetime.now(UTC) - timedelta(days=7))) < timedelta(minutes=5)
    week = datetime.now(UTC) - timedelta(days=7)
    expected = [
        r["run_id"]
        for r in api.runs
        if r["status"] in ("failed", "succeeded") and r["user"] == "alice" and _started(r) >= week
    ]
    assert expected and page.row_attrs("data-run-id") == expected[:25]
    page.screenshot("finding-filters", full_page=False)

    # The link, opened elsewhere, shows the same list with the same controls.
    link = page.page.url
    other = dashboard(url)
    other.page.goto(link)
    other.wait_view("runs")
    assert other.row_attrs("data-run-id") == expected[:25]
    assert other.page.locator("#filter-user").input_value() == "alice"
    assert other.page.locator("#filter-time").input_value() == "7d"
    checked = other.page.locator("#filter-status input:checked").evaluate_all("bs => bs.map(b => b.value)")
    assert checked == ["succeeded", "failed"]
    assert other.page.locator("#filter-status-text").inner_text() == "Succeeded, Failed"

    # Back undoes the last filter.
    page.page.go_back()
    page.page.wait_for_function("() => !location.hash.includes('time=')")
    page.wait_view("runs")
    assert page.page.locator("#filter-time").input_value() == ""
    assert page.hash_params() == {"status": ["succeeded,failed"], "user": ["alice"]}
    assert "since" not in _list_requests(api)[-1]
    assert page.errors == []


def test_tags_project_branch_and_account_filter_the_list(fixture_api: Serve, dashboard: Open) -> None:
    api, url = fixture_api()
    page = dashboard(url).open("/runs?tag=team:ml&project=demo&branch=prod")
    page.wait_view("runs")
    sent = _list_requests(api)[-1]
    assert (sent["tag"], sent["project"], sent["branch"]) == (["team:ml"], ["demo"], ["prod"])
    expected = [
        r["run_id"]
        for r in api.runs
        if "team:ml" in r["tags"] and r["project"] == "demo" and r["branch"] == "prod"
    ]
    assert len(expected) > 1 and page.row_attrs("data-run-id") == expected
    assert page.page.locator("#filter-tag").input_value() == "team:ml"

    page.open("/runs?tag=team:ml&account=" + OTHER_ACCOUNT)
    page.wait_view("runs")
    assert _list_requests(api)[-1]["account"] == [OTHER_ACCOUNT]
    in_account = [r["run_id"] for r in api.runs if "team:ml" in r["tags"] and r["account"] == OTHER_ACCOUNT]
    assert in_account and page.row_attrs("data-run-id") == in_account

    page.page.fill("#filter-account", "12345")
    page.page.press("#filter-account", "Enter")
    assert page.page.locator("#filter-error").inner_text() == "An account id has 12 digits."
    assert page.hash_params()["account"] == [OTHER_ACCOUNT]  # nothing applied


def test_a_custom_time_range_is_sent_as_since_and_until(fixture_api: Serve, dashboard: Open) -> None:
    api, url = fixture_api()
    page = dashboard(url, timezone_id="UTC").open()
    page.wait_view("runs")
    page.page.select_option("#filter-time", "custom")
    page.page.fill("#filter-since", "2026-11-01T08:00")
    page.page.fill("#filter-until", "2026-11-02T18:30")
    page.page.click("#apply-filters")
    page.page.wait_for_function("() => location.hash.includes('until=')")
    assert page.hash_params() == {"since": ["2026-11-01T08:00Z"], "until": ["2026-11-02T18:30Z"]}
    # The hash changes before the page's request reaches the fixture API: wait for a request with `until`.
    deadline = time.monotonic() + 10
    while not any("until" in query for query in _list_requests(api)) and time.monotonic() < deadline:
        time.sleep(0.05)
    sent = [query for query in _list_requests(api) if "until" in query][-1]
    assert (sent["since"], sent["until"]) == (["2026-11-01T08:00Z"], ["2026-11-02T18:30Z"])


def test_the_me_preset_is_remembered_in_this_browser(fixture_api: Serve, dashboard: Open) -> None:
    api, url = fixture_api()
    page = dashboard(url).open()
    page.wait_view("runs")
    assert page.page.locator("#filter-me").inner_text() == "Me"
    assert page.page.locator("#me-change").is_hidden()

    page.page.click("#filter-me")
    page.page.fill("#me-input", "bob")
    page.page.click("#me-save")
    page.page.wait_for_function("() => location.hash.includes('user=bob')")
    page.wait_view("runs")
    assert set(page.row_attrs("data-run-id")) == {r["run_id"] for r in api.runs if r["user"] == "bob"}
    assert page.page.locator("#filter-me").get_attribute("aria-pressed") == "true"
    assert page.page.evaluate("() => localStorage.getItem('runwatch.me')") == "bob"

    # A later visit (same browser): one click shows bob's runs, another shows everyone's.
    again = Dashboard(page.page.context.new_page(), url).open()
    again.wait_view("runs")
    me = again.page.locator("#filter-me")
    assert me.inner_text() == "Me (bob)" and me.get_attribute("aria-pressed") == "false"
    assert again.page.locator("#me-change").is_visible()
    me.click()
    again.page.wait_for_function("() => location.hash.includes('user=bob')")
    again.wait_view("runs")
    assert me.get_attribute("aria-pressed") == "true"
    me.click()
    again.page.wait_for_function("() => !location.hash.includes('user=')")
    again.wait_view("runs")  # the hash changes before the page asks for the listing
    assert _list_requests(api)[-1].get("user") is None


# -- the search box ------------------------------------------------------------------------------------------
def _search(page: Dashboard, text: str) -> None:
    page.page.fill("#search-input", text)
    page.page.press("#search-input", "Enter")


@pytest.mark.parametrize(
    ("query", "focus"),
    [
        (OOM_RUN[1], None),
        ("/".join(OOM_RUN), None),
        ("/".join([*OOM_RUN, "train", "3"]), "train/3"),
        (SPOT_JOB, "train/2"),
    ],
    ids=["run-id", "pathspec", "task-pathspec", "batch-job"],
)
def test_search_jumps_to_the_run_or_task(
    fixture_api: Serve, dashboard: Open, query: str, focus: str | None
) -> None:
    api, url = fixture_api()
    page = dashboard(url).open()
    page.wait_view("runs")
    _search(page, query)
    page.page.wait_for_function("() => location.hash.startsWith('#/flows/FanoutFlow/runs/')")
    page.wait_view("run")

    assert page.page.locator("#run-title [data-testid=run-id]").inner_text() == OOM_RUN[1]
    assert any(p.startswith("/search?q=") for p, _ in api.requests)
    if focus:
        box = page.page.locator("#task-focus")
        assert box.get_attribute("data-state") == "ready"
        assert box.locator("#focus-h").inner_text() == "Task " + focus
        assert box.get_by_test_id("attempt-row").first.get_attribute("data-task-id") == focus.split("/")[1]
    else:
        assert page.page.locator("#task-focus").count() == 0


def test_search_by_execution_arn_opens_the_step_functions_run(fixture_api: Serve, dashboard: Open) -> None:
    api, url = fixture_api()
    arn = next(r for r in api.runs if r["run_id"] == SFN_RUN[1])["execution_arn"]
    page = dashboard(url).open()
    page.wait_view("runs")
    _search(page, arn)
    page.page.wait_for_function("() => location.hash.includes('/runs/sfn-5f0b1d2e')")
    page.wait_view("run")
    assert page.page.locator("#run-title [data-testid=run-flow]").inner_text() == SFN_RUN[0]


def test_search_says_when_nothing_matches(fixture_api: Serve, dashboard: Open) -> None:
    _, url = fixture_api()
    page = dashboard(url).open()
    page.wait_view("runs")
    _search(page, "no-such-job-4c7599ae")
    message = page.page.get_by_test_id("search-not-found")
    message.wait_for()
    assert "no-such-job-4c7599ae" in message.inner_text()
    assert page.page.evaluate("() => location.hash") == ""
    page.page.keyboard.press("Escape")
    assert page.page.locator("#search-results").is_hidden()


def test_search_offers_a_choice_when_several_runs_match(fixture_api: Serve, dashboard: Open) -> None:
    runs = build_runs()
    oom = next(r for r in runs if r["run_id"] == OOM_RUN[1])
    _, url = fixture_api(runs=[*runs, {**oom, "account": OTHER_ACCOUNT}])
    page = dashboard(url).open()
    page.wait_view("runs")
    _search(page, OOM_RUN[1])
    choices = page.page.get_by_test_id("search-choice")
    choices.first.wait_for()
    assert choices.count() == 2
    assert page.page.evaluate("() => document.activeElement.dataset.testid") == "search-choice"
    page.screenshot("finding-search-choices", full_page=False)
    choices.nth(1).click()
    page.wait_view("run")
    assert parse_qs(page.page.evaluate("() => location.hash.split('?')[1]"))["account"] == [OTHER_ACCOUNT]


# -- the flow page -------------------------------------------------------------------------------------------
def test_the_flow_page_shows_health_and_a_duration_chart(fixture_api: Serve, dashboard: Open) -> None:
    api, url = fixture_api(runs=health_runs())
    page = dashboard(url).open("/flows/ChurnFlow")
    page.wait_view("runs")
    health = page.page.locator("#flow-health")
    health.wait_for()

    # Eight finished runs of 10..80 minutes, two failed: hand-computed.
    assert health.get_by_test_id("stats-runs").inner_text() == "over the last 8 finished runs"
    assert health.get_by_test_id("success-rate").inner_text() == "75%"
    assert health.get_by_test_id("duration-p50").inner_text() == "40m 00s"
    assert health.get_by_test_id("duration-p95").inner_text() == "1h 20m"
    assert health.get_by_test_id("duration-max").inner_text() == "1h 20m"
    classes = health.get_by_test_id("failure-class-count")
    assert classes.evaluate_all("cs => cs.map(c => [c.dataset.class, c.dataset.count])") == [
        ["oom", "1"],
        ["user_code", "1"],
    ]
    steps = health.get_by_test_id("failing-step").evaluate_all("cs => cs.map(c => c.dataset.step)")
    assert sorted(steps) == ["score", "train"]

    bars = health.get_by_test_id("chart-bar")
    assert bars.count() == 8
    statuses = bars.evaluate_all("bs => bs.map(b => b.dataset.status)")
    assert statuses == ["succeeded"] * 2 + ["failed"] + ["succeeded"] * 2 + ["failed"] + ["succeeded"] * 2
    assert health.get_by_test_id("chart-failed-mark").count() == 2
    heights = bars.evaluate_all("bs => bs.map(b => b.querySelector('rect').getBBox().height)")
    assert heights == sorted(heights) and heights[0] * 7 < heights[-1]  # 10 minutes vs 80
    assert "p50 40m 00s" in health.get_by_test_id("chart-p50").inner_html()
    assert any(p.startswith("/flows/ChurnFlow/stats?") for p, _ in api.requests)
    page.screenshot("finding-flow-page")

    # A bar is a link to its run.
    bars.nth(2).click()
    page.wait_view("run")
    assert page.page.locator("#run-title [data-testid=run-id]").inner_text() == "1795800000000002"


def test_a_run_links_back_to_its_flow_page(fixture_api: Serve, dashboard: Open) -> None:
    _, url = fixture_api()
    page = dashboard(url).open_run(*OOM_RUN)
    page.page.get_by_test_id("flow-link").click()
    page.wait_view("runs")
    page.page.locator("#flow-health").wait_for()
    assert set(page.row_attrs("data-flow")) == {"FanoutFlow"}


# -- compute used --------------------------------------------------------------------------------------------
def _hours(x: float) -> str:
    return f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{round(x):,}"


@pytest.mark.parametrize("priced", [True, False])
def test_the_run_page_shows_usage_and_waste(fixture_api: Serve, dashboard: Open, priced: bool) -> None:
    api, url = fixture_api(priced=priced)
    page = dashboard(url).open_run(*OOM_RUN)
    status, _, body = api.handle("GET", "/flows/FanoutFlow/runs/" + OOM_RUN[1], {})
    detail = json.loads(body)
    usage = detail["usage"]
    assert status == 200 and usage["wasted_vcpu_hours"] > 0

    box = page.page.locator("#run-usage")
    assert box.get_by_test_id("usage-vcpu").inner_text() == _hours(usage["vcpu_hours"])
    assert box.get_by_test_id("usage-memory").inner_text() == _hours(usage["memory_gib_hours"])
    assert box.get_by_test_id("usage-gpu").inner_text() == "0.00"
    share = round(usage["wasted_vcpu_hours"] / usage["vcpu_hours"] * 1000) / 10
    wasted = box.get_by_test_id("usage-wasted").inner_text()
    assert wasted == f"{_hours(usage['wasted_vcpu_hours'])} ({share:g}%)"
    cost = box.get_by_test_id("usage-cost").inner_text()
    assert cost == (f"${usage['estimated_cost_usd']:.2f}" if priced else "no prices set")

    train = next(s for s in detail["steps"] if s["step"] == "train")
    step_text = page.page.locator(
        '[data-testid=step][data-step=train] [data-testid="step-usage"]'
    ).inner_text()
    assert step_text.startswith(_hours(train["usage"]["vcpu_hours"]) + " vCPU·h")
    assert "wasted" in step_text
    task = page.page.locator(
        '[data-testid=step][data-step=train] [data-testid=attempt-row][data-task-id="3"]'
    )
    assert task.first.get_by_test_id("task-usage").inner_text().endswith("wasted")
    assert task.first.get_by_test_id("attempt-resources").inner_text() == "2 vCPU · 8 GiB"
    if priced:
        page.screenshot("finding-run-usage", full_page=False)


# -- Metaflow UI links ---------------------------------------------------------------------------------------
def test_runs_and_tasks_link_to_the_metaflow_ui_when_configured(fixture_api: Serve, dashboard: Open) -> None:
    _, url = fixture_api(metaflow_ui_url="https://metaflow.example.com/ui")
    page = dashboard(url).open_run(*OOM_RUN)
    run_link = page.page.get_by_test_id("metaflow-run-link")
    assert run_link.get_attribute("href") == "https://metaflow.example.com/ui/FanoutFlow/1795719352434625"
    assert run_link.get_attribute("rel") == "noopener noreferrer"
    task_link = page.page.locator(
        '[data-step=train] [data-testid=attempt-row][data-task-id="3"] [data-testid=metaflow-task-link]'
    )
    assert task_link.get_attribute("href") == (
        "https://metaflow.example.com/ui/FanoutFlow/1795719352434625/train/3"
    )


@pytest.mark.parametrize("configured", [None, "javascript:alert(1)"])
def test_no_metaflow_ui_links_without_a_web_address(
    fixture_api: Serve, dashboard: Open, configured: str | None
) -> None:
    api, url = fixture_api(metaflow_ui_url=configured)
    page = dashboard(url).open_run(*OOM_RUN)
    assert any(p == "/config" for p, _ in api.requests)
    assert page.page.get_by_test_id("metaflow-run-link").count() == 0
    assert page.page.get_by_test_id("metaflow-task-link").count() == 0
    assert page.dialogs == []
