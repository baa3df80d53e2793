"""Runs a job every N seconds on a thread: the local stand-in for the sweeper's EventBridge schedule.

The first run comes one interval after start, as with a schedule rule. A run that raises is logged and the
next one still comes. The wait is injectable (`wait(seconds) -> True when stopping`), so a test can drive
`run()` through several ticks without sleeping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from aws_lambda_powertools import Logger


class Periodic:
    def __init__(
        self,
        name: str,
        interval_seconds: float,
        job: Callable[[], object],
        *,
        wait: Callable[[float], bool] | None = None,
        logger: Logger | None = None,
    ) -> None:
        if interval_seconds <= 0:
            raise ValueError(f"{name}: the interval must be positive, got {interval_seconds}")
        self.name = name
        self.interval = interval_seconds
        self._job = job
        self._stopping = threading.Event()
        self._wait = wait or self._stopping.wait
        self._log = logger or Logger(service="runwatch")
        self._thread: threading.Thread | None = None
        self.runs = 0
        self.failures = 0

    def run_once(self) -> None:
        """One run of the job; an error is logged and counted, never raised."""
        self.runs += 1
        try:
            self._job()
        except Exception:
            self.failures += 1
            self._log.exception("scheduled job failed", job=self.name)

    def run(self) -> None:
        """The loop: wait an interval, run, until the wait says stop."""
        while not self._wait(self.interval):
            if self._stopping.is_set():
                return
            self.run_once()

    def start(self) -> Periodic:
        self._stopping.clear()
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the loop to end and wait for a run in progress to finish (at most `timeout` s)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
