"""The notifier's stream filter (template.yaml) drops nothing the notifier would send.

Real stream records from DynamoDB Local go through the template's filter patterns; the notifier sends
everything due from what passes, and then nothing more when given every record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runwatch.domain.alerts import Alert, alert_marker
from runwatch.services.ingest import Ingestor
from runwatch.settings import NotifierSettings
from runwatch.store.repository import StatusRepository
from runwatch.wiring import build_local_notifier
from runwatch_dev.local.synth import RunSpec, simulate_run
from runwatch_dev.local.table_from_template import DEFAULT_TEMPLATE, load_template
from tests.fakes.receiver import Receiver
from tests.integration.notify.conftest import StreamReader, table_variables

T0 = 1_795_000_000_000
EVERYTHING = '{"rules": [{"match": {"types": ["run.failed", "run.timed_out", "run.aborted", "run.succeeded", "task.retrying", "task.stuck", "run.late"]}, "channels": ["webhook"]}]}'


def _patterns() -> list[Any]:
    function = load_template(DEFAULT_TEMPLATE)["Resources"]["NotifierFunction"]
    stream = function["Properties"]["Events"]["TableStream"]["Properties"]
    return [json.loads(f["Pattern"]) for f in stream["FilterCriteria"]["Filters"]]


def _matches(pattern: Any, value: Any) -> bool:
    """Lambda filter matching for what the template uses: nested keys, value lists, prefixes."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            k in value and _matches(p, value[k]) for k, p in pattern.items()
        )
    return any(
        (isinstance(option, dict) and isinstance(value, str) and value.startswith(option["prefix"]))
        or option == value
        for option in pattern
    )


def test_the_filter_passes_every_record_that_is_notified(
    tmp_path: Path,
    repository: StatusRepository,
    stream: StreamReader,
    receiver: Receiver,
    sleeps: list[float],
) -> None:
    ingestor = Ingestor(repository)
    specs = [
        RunSpec(
            "RetryFlow",
            "1",
            fanout=3,
            start_ms=T0,
            outcomes={"train": {0: ["spot", "ok"]}},
        ),
        RunSpec("OomFlow", "2", fanout=2, start_ms=T0, outcomes={"train": {1: ["oom", "oom", "oom"]}}),
        RunSpec(
            "SfnFlow",
            "sfn-3",
            orchestrator="step-functions",
            fanout=2,
            start_ms=T0,
            outcomes={"train": {0: ["oom", "ok"]}},
        ),
        RunSpec(
            "KillFlow", "4", fanout=4, max_retries=0, start_ms=T0, outcomes={"train": {2: ["user_code"]}}
        ),
    ]
    for spec in specs:
        for event in simulate_run(spec):
            ingestor.ingest(event)
    alert = Alert("run.late", "RetryFlow", "1", message="late", occurred_at=T0)
    repository.claim_marker(*alert_marker(alert, "duration"), detail=alert.to_json())
    records = stream.read()
    rules = tmp_path / "rules.json"
    rules.write_text(EVERYTHING)
    settings = {
        **table_variables(),
        "NOTIFY_WEBHOOK_URL": receiver.url("/hook"),
        "NOTIFY_RULES": str(rules),
        "NOTIFY_MAX_AGE_MINUTES": str(10 * 365 * 24 * 60),  # the synthetic runs are dated November 2026
    }
    notifier = build_local_notifier(NotifierSettings.from_env(settings), sleep=sleeps.append)
    patterns = _patterns()
    passed = [r for r in records if any(_matches(p, r) for p in patterns)]

    assert notifier.handle_stream_records(passed) == []
    sent = sorted((r.json()["type"], r.json()["flow"]) for r in receiver.requests)
    assert notifier.handle_stream_records(records) == []

    assert len(receiver.requests) == len(sent), "every record that notifies passes the filter"
    assert sent == sorted(
        [
            ("run.succeeded", "RetryFlow"),
            ("task.retrying", "RetryFlow"),
            ("run.late", "RetryFlow"),
            ("task.retrying", "OomFlow"),
            ("task.retrying", "OomFlow"),
            ("run.failed", "OomFlow"),
            ("task.retrying", "SfnFlow"),
            ("run.succeeded", "SfnFlow"),
            ("run.failed", "KillFlow"),
        ]
    )
    print(f"stream filter: {len(passed)} of {len(records)} records wake the notifier")
    assert len(passed) < len(records) / 4, "most writes never wake the function"
