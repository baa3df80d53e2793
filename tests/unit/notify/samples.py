"""Hand-made notifications for channel tests."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from runwatch.notify.message import AttemptReport, FailureReport, Notification, TaskReport

T0 = 1_795_000_000_000


def failed_run(**overrides: Any) -> Notification:
    base = Notification(
        key="run.failed#r0",
        type="run.failed",
        flow="TrainFlow",
        run_id="1795000000000123",
        status="failed",
        orchestrator="batch",
        occurred_at=T0 + 3_723_000,
        user="alice",
        project="churn",
        branch="prod",
        tags=("team:ml",),
        started_at=T0,
        finished_at=T0 + 3_723_000,
        failure=FailureReport("train", "17", 2, "oom", "OutOfMemoryError: Container killed", 137),
        task=TaskReport(
            "train",
            "17",
            "failed",
            tuple(
                AttemptReport(n, "failed", "oom", "OutOfMemoryError: Container killed", 137, T0, T0 + 1000)
                for n in range(3)
            ),
        ),
        failed_tasks=200,
        links=(
            ("dashboard", "https://runwatch.example.com/#/flows/TrainFlow/runs/1795000000000123"),
            ("logs", "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:x"),
        ),
    )
    return replace(base, **overrides)
