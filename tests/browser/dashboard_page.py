"""Page object for the dashboard: the DOM hooks (ids, data-testid, data-* attributes) tests rely on, in one place."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


class Dashboard:
    """The dashboard in one browser tab, with the DOM hooks tests rely on in one place."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    # navigation -------------------------------------------------------------------------------
    def open(self, hash_route: str = "", query: str = "") -> Dashboard:
        self.page.goto(
            self.base_url + (f"?{query}" if query else "") + (f"#{hash_route}" if hash_route else "")
        )
        return self

    def wait_view(self, view: str, state: str = "ready", timeout: float = 10_000) -> None:
        """Wait until the page has rendered `view` ("runs" | "run") in `state` (ready, empty, error,
        not-found) for the route currently in the address bar (so a stale view never counts)."""
        self.page.wait_for_function(
            """([view, state]) => {
                const el = document.getElementById('view');
                return el && el.dataset.view === view && el.dataset.state === state && el.dataset.route === location.hash;
            }""",
            arg=[view, state],
            timeout=timeout,
        )

    def open_run(self, flow: str, run_id: str) -> Dashboard:
        self.open(f"/flows/{quote(flow, safe='')}/runs/{quote(run_id, safe='')}")
        self.wait_view("run")
        return self

    # runs view --------------------------------------------------------------------------------
    def run_rows(self) -> Any:
        return self.page.locator("[data-testid=run-row]")

    def row(self, run_id: str) -> Any:
        exact = re.compile("^" + re.escape(run_id) + "$")
        return self.run_rows().filter(has=self.page.get_by_test_id("run-id").filter(has_text=exact))

    def row_attrs(self, attr: str) -> list[str]:
        return self.run_rows().evaluate_all(f"rows => rows.map(r => r.getAttribute({attr!r}))")

    def filter_status(self, *statuses: str) -> None:
        """Tick exactly these statuses in the filter bar's status menu."""
        menu = self.page.locator("#filter-status")
        if menu.get_attribute("open") is None:
            menu.locator("summary").click()
        for box in menu.locator("input[name=status]").all():
            box.set_checked(box.get_attribute("value") in statuses)
        # Predicates are functions: polling an expression string needs eval, which the page's CSP forbids.
        self.page.wait_for_function(
            """s => (new URLSearchParams(location.hash.split('?')[1] || '').get('status') || '')
                .split(',').sort().join(',') === s""",
            arg=",".join(sorted(statuses)),
        )
        menu.locator("summary").click()  # close the menu, which lies over the list

    def hash_params(self) -> dict[str, list[str]]:
        """The query of the route in the address bar (#/runs?...), as parse_qs gives it."""
        return parse_qs(self.page.evaluate("() => location.hash.split('?')[1] || ''"))

    def filter_flow(self, flow: str) -> None:
        self.page.select_option("#filter-flow", flow)
        self.page.wait_for_function(
            "f => new URLSearchParams(location.hash.split('?')[1] || '').get('flow') === f", arg=flow
        )

    # run view ---------------------------------------------------------------------------------
    def failure_text(self) -> str:
        return self.page.locator("#run-failure [data-testid=failure-text]").inner_text()

    def screenshot(self, name: str, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^\w.-]+", "-", name)
        path = ARTIFACTS / f"{safe}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path
