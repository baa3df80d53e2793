"""The demo's log streams: what a failed attempt's task printed, as files the local log source reads.

Each failed Batch attempt in the demo's events gets `DATA_DIR/logs/<group>/<stream>.log` in Metaflow's
decorated format (`[MFLOG|0|<UTC time>Z|task|<id>]<message>`): a few lines of progress, then, for a
failure of the user's code (exit code 1), the CLI's `Internal error` banner and a Python traceback, so the
dashboard shows a log tail with its exception and `run.failed` messages carry the exception line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_GROUP = "/aws/batch/job"

_TRACEBACK = (
    "    Internal error",
    "Traceback (most recent call last):",
    '  File "/metaflow/metaflow/cli.py", line 1172, in main',
    '    start(auto_envvar_prefix="METAFLOW", obj=state)',
    '  File "/metaflow/train_flow.py", line 48, in train',
    "    features = self.encode(batch)",
    '  File "/metaflow/train_flow.py", line 71, in encode',
    "    return {name: table[name] for name in self.columns}",
    "KeyError: 'customer_segment'",
)


def _decorated(at_ms: int, index: int, message: str) -> str:
    time = datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return f"[MFLOG|0|{time}Z|task|{at_ms}{index:04d}]{message}"


def _lines(step: str, started: int, stopped: int, exit_code: Any) -> list[str]:
    messages = [
        f"Task is starting (step {step}).",
        "Downloading code package...",
        "Code package downloaded.",
        "Loading 1,204,311 rows from s3://demo-bucket/features/",
        "Epoch 1/3: loss 0.6931",
    ]
    if exit_code == 1:
        messages += list(_TRACEBACK)
    elif exit_code == 137:
        messages += ["Epoch 2/3: loss 0.5217", "Allocating 14.2 GiB for the embedding table"]
    span = max(stopped - started, len(messages))
    return [_decorated(started + span * i // len(messages), i, m) for i, m in enumerate(messages)]


def _failed_attempts(event: dict[str, Any]) -> Iterator[tuple[str, str, str, int, int, Any]]:
    """(group, stream, step, started, stopped, exit code) of each failed attempt the event shows."""
    detail = event.get("detail") or {}
    if event.get("source") != "aws.batch" or detail.get("status") != "FAILED":
        return
    options = ((detail.get("container") or {}).get("logConfiguration") or {}).get("options") or {}
    group = options.get("awslogs-group") or DEFAULT_GROUP
    step = (detail.get("parameters") or {}).get("metaflow.step_name", "step")
    for attempt in detail.get("attempts") or ():
        container = attempt.get("container") or {}
        stream = container.get("logStreamName")
        if stream and container.get("exitCode") not in (None, 0):
            started = attempt.get("startedAt") or 0
            yield group, stream, step, started, attempt.get("stoppedAt") or started, container.get("exitCode")


def write_demo_logs(events: Iterable[dict[str, Any]], data_dir: Path) -> int:
    """Write the failed attempts' logs under `data_dir/logs`; returns how many streams were written."""
    written = 0
    for event in events:
        for group, stream, step, started, stopped, exit_code in _failed_attempts(event):
            path = data_dir / "logs" / group.removeprefix("/") / f"{stream}.log"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(_lines(step, started, stopped, exit_code)) + "\n", encoding="utf-8")
            written += 1
    return written
