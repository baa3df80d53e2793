"""Local stack fixtures: `local_stack(**options)` starts `python -m runwatch_dev.local` in a subprocess.

    def test_something(local_stack):
        stack = local_stack(demo=False)            # options of stack.start_local_stack
        assert stack.get("/health").status == 200

Every stack a test started is stopped (SIGTERM) when the test ends; the browser tests can use
tests.integration.local.stack.start_local_stack the same way from their own fixture.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.integration.local.stack import LocalStackProcess, start_local_stack


@pytest.fixture
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., LocalStackProcess]]:
    started: list[LocalStackProcess] = []

    def start(**options: Any) -> LocalStackProcess:
        options.setdefault("work_dir", tmp_path_factory.mktemp("local-stack"))
        stack = start_local_stack(**options)
        started.append(stack)
        return stack

    yield start
    for stack in started:
        stack.stop()
