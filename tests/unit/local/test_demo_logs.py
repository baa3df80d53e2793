"""The demo writes decorated logs for its failed attempts; the local log source reads them back with the
traceback's exception, as the dashboard and the notifier will."""

from __future__ import annotations

from pathlib import Path

from runwatch.logs.local_source import LocalLogFiles
from runwatch.logs.traceback import find_failure
from runwatch_dev.local.demo import build_demo
from runwatch_dev.local.demo_logs import write_demo_logs


def test_the_failing_demo_runs_have_logs_with_a_traceback(tmp_path: Path) -> None:
    demo = build_demo(1_795_000_000_000)
    events = [*demo.history, *(item.event for item in demo.schedule)]

    assert write_demo_logs(events, tmp_path) > 0

    files = sorted((tmp_path / "logs" / "aws" / "batch" / "job").rglob("*.log"))
    assert files and all(f.read_text().startswith("[MFLOG|0|") for f in files)
    source = LocalLogFiles(tmp_path)
    exceptions = set()
    for path in files:
        stream = str(path.relative_to(tmp_path / "logs" / "aws" / "batch" / "job").with_suffix(""))
        page = source.tail("/aws/batch/job", stream)
        assert page.lines[0].ts_ms is not None, "decorated lines keep their time"
        exceptions.add(find_failure(line.message for line in page.lines).exception)
    assert "KeyError: 'customer_segment'" in exceptions, "the user-code failure shows its exception"
    assert None in exceptions, "an OOM kill prints no traceback"
