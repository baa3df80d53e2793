"""Shared browser-test plumbing: headless system Chromium, a dashboard page object, and the fixture API.

Every test in this folder is marked ``browser``. The fixtures are backend-agnostic: a test points
``dashboard`` at any base URL (the fixture server here, or the real local stack) and gets the same
page object, with every JS dialog and page error recorded so tests can assert none happened.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.dashboard_page import Dashboard
from tests.browser.fixture_api import FixtureAPI

# A closed network: keep Chromium from phoning home or downloading components.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


def _chromium_path() -> str | None:
    for candidate in (os.environ.get("RUNWATCH_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium per session (the system binary: Playwright never downloads one here)."""
    from playwright import sync_api

    path = _chromium_path()
    if path is None:
        missing = "chromium is not installed (apt-get install -y chromium; `make test` does it as root)"
        if os.environ.get("CI"):
            pytest.fail(missing)  # CI installs it: a missing browser there is a broken setup, not a skip
        pytest.skip(missing)
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def dashboard(browser: Any) -> Iterator[Callable[..., Dashboard]]:
    """Factory: ``dashboard(base_url, **context_options)`` opens a fresh browser context on the page."""
    contexts: list[Any] = []

    def make(base_url: str, **context_options: Any) -> Dashboard:
        context_options.setdefault("viewport", {"width": 1280, "height": 900})
        ctx = browser.new_context(**context_options)
        contexts.append(ctx)
        return Dashboard(ctx.new_page(), base_url)

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def fixture_api() -> Iterator[Callable[..., tuple[FixtureAPI, str]]]:
    """Factory: ``fixture_api(**FixtureAPI options)`` starts a canned API on a free port; returns (api, url)."""
    started: list[FixtureAPI] = []

    def make(**options: Any) -> tuple[FixtureAPI, str]:
        api = FixtureAPI(**options)
        url = api.start(0)
        started.append(api)
        return api, url

    yield make
    for api in started:
        api.stop()
