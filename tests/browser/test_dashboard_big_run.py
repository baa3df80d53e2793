"""A 10,000-task foreach in the dashboard: the step's counts and spread, its failed task first, pages on demand.

The fixture API answers like the real one: the run detail holds each step's summary and its first 100 tasks,
the rest comes from the step's task pages.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.dashboard_page import Dashboard
from tests.browser.fixture_api import FixtureAPI, big_run, build_runs

pytestmark = pytest.mark.browser

BIG = ("SweepFlow", "1795000000000777")
MIDDLE = 5_000  # split index of the failed task; its task id is 5002

Open = Callable[..., Dashboard]
Serve = Callable[..., tuple[FixtureAPI, str]]


def test_a_big_step_shows_counts_its_failed_task_and_pages_to_the_middle(
    fixture_api: Serve, dashboard: Open
) -> None:
    api, url = fixture_api(runs=[*build_runs(), big_run()])
    page = dashboard(url).open_run(*BIG)
    train = page.page.locator('[data-testid="step"][data-step="train"]')

    counts = train.get_by_test_id("task-counts")
    assert counts.locator('[data-count="1"]').inner_text() == "1 failed"
    assert counts.locator('[data-count="9995"]').inner_text() == "9995 succeeded"
    assert "median" in train.get_by_test_id("step-spread").inner_text()
    attention = train.get_by_test_id("attention")
    attention.locator('[data-task-id="5002"]').wait_for()
    assert (
        attention.locator('[data-task-id="5002"]').get_by_test_id("failure-class").inner_text() == "user_code"
    )
    assert train.get_by_test_id("task-page-range").inner_text() == "Tasks 1\u2013100 of 10000"
    assert page.page.get_by_test_id("gantt-band").count() == 1  # the big step is one band
    assert page.page.get_by_test_id("gantt-row").count() <= 60  # the small start step keeps its rows

    for _ in range(MIDDLE // 100):
        before = train.get_by_test_id("task-page-range").inner_text()
        train.get_by_test_id("next-tasks").click()
        page.page.wait_for_function(
            "text => document.querySelector('[data-step=train] [data-testid=task-page-range]').textContent !== text",
            arg=before,
        )
    assert train.get_by_test_id("task-page-range").inner_text() == "Tasks 5001\u20135100 of 10000"
    rows = train.locator('tbody [data-testid="attempt-row"]')
    assert rows.last.get_attribute("data-task-id") == "5101"
    page.screenshot("big_run_middle_page")
    paths = [p for p, _ in api.requests]
    assert not any("/steps/train/tasks?" in p and "limit=500" in p for p in paths)
