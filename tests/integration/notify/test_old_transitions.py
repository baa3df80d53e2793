"""Old transitions page nobody: recorded and counted, not sent; a fresh failure is still sent once.

Runs are ingested into DynamoDB Local and the table's stream is read back, as the local stack does; the
webhook posts to a live receiver.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from runwatch.domain.alerts import Alert, alert_marker
from runwatch.services.ingest import Ingestor
from runwatch.services.notify import NOTIFY_MARKER_KIND, Notifier
from runwatch.settings import NotifierSettings
from runwatch.store.repository import StatusRepository
from runwatch.wiring import build_local_notifier
from runwatch_dev.local.synth import ACCOUNT, REGION
from tests.fakes.receiver import Receiver
from tests.integration.notify.conftest import StreamReader, table_variables
from tests.unit.ingest.scenarios import failed_run_events

DAY_MS = 24 * 3_600_000


class Counts:
    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()

    def add(self, name: str, value: int = 1) -> None:
        self.seen[name] += value


def _notifier(receiver: Receiver, counts: Counts, **env: str) -> Notifier:
    settings = {**table_variables(), "NOTIFY_WEBHOOK_URL": receiver.url("/hook"), **env}
    notifier = build_local_notifier(NotifierSettings.from_env(settings), sleep=lambda _: None)
    notifier.counters = counts
    return notifier


def _ingest(repository: StatusRepository, events: list[dict[str, object]]) -> None:
    ingestor = Ingestor(repository)
    for event in events:
        ingestor.ingest(event)


def test_a_day_old_failure_is_recorded_not_sent_and_a_fresh_one_is_sent_once(
    repository: StatusRepository, stream: StreamReader, receiver: Receiver
) -> None:
    _ingest(repository, failed_run_events("AgeFlow", "1", failed_ago_ms=DAY_MS))
    _ingest(repository, failed_run_events("AgeFlow", "2", failed_ago_ms=60_000))
    records = stream.read()
    counts = Counts()
    notifier = _notifier(receiver, counts)

    assert notifier.handle_stream_records(records) == []
    assert notifier.handle_stream_records(records) == []  # redelivered: nothing sent or counted twice

    (sent,) = receiver.to("/hook")
    assert (sent.json()["run_id"], sent.json()["type"]) == ("2", "run.failed")
    assert counts.seen["notifications_stale"] == 1
    stale = [m.what for m in repository.markers(NOTIFY_MARKER_KIND, f"{ACCOUNT}#{REGION}#AgeFlow#1")]
    assert stale == ["run.failed#r0#stale"]


def test_the_limit_is_a_setting(
    repository: StatusRepository, stream: StreamReader, receiver: Receiver
) -> None:
    _ingest(repository, failed_run_events("AgeFlow", "3", failed_ago_ms=3 * 3_600_000))
    counts = Counts()
    assert (
        _notifier(receiver, counts, NOTIFY_MAX_AGE_MINUTES="240").handle_stream_records(stream.read()) == []
    )
    assert [r.json()["run_id"] for r in receiver.to("/hook")] == ["3"]
    assert counts.seen["notifications_stale"] == 0


def test_an_old_retry_and_an_old_alert_are_recorded_not_sent(
    repository: StatusRepository, stream: StreamReader, receiver: Receiver, tmp_path: Path
) -> None:
    # An OOM retried into success (task.retrying, opt-in: routed by a rule) two hours ago, and an old alert.
    _ingest(repository, failed_run_events("AgeFlow", "4", failed_ago_ms=2 * 3_600_000, plan=("oom", "ok")))
    old_alert = Alert(
        "run.late",
        "AgeFlow",
        "4",
        message="late",
        occurred_at=int(time.time() * 1000) - DAY_MS,
        account=ACCOUNT,
        region=REGION,
    )
    repository.claim_marker(*alert_marker(old_alert, "p95"), detail=old_alert.to_json())
    counts = Counts()
    rules = tmp_path / "rules.json"
    rules.write_text(
        '{"rules": [{"match": {"types": ["task.retrying", "run.late"]}, "channels": ["webhook"]}]}'
    )
    notifier = _notifier(receiver, counts, NOTIFY_RULES=str(rules))

    assert notifier.handle_stream_records(stream.read()) == []
    assert receiver.to("/hook") == []
    assert counts.seen["notifications_stale"] == 2
    recorded = {m.what for m in repository.markers(NOTIFY_MARKER_KIND, f"{ACCOUNT}#{REGION}#AgeFlow#4")}
    assert recorded == {"task.retrying#train#2#0#stale", "run.late#p95#stale"}


def test_a_quiet_write_notifies_nobody_and_the_next_live_change_does(
    repository: StatusRepository, stream: StreamReader, receiver: Receiver
) -> None:
    quiet = StatusRepository(quiet=True)
    events = failed_run_events("AgeFlow", "5", failed_ago_ms=60_000)
    _ingest(quiet, events)  # a backfill without --notify, of a failure from a minute ago
    counts = Counts()
    notifier = _notifier(receiver, counts)

    assert notifier.handle_stream_records(stream.read()) == []
    assert receiver.to("/hook") == []
    assert counts.seen["notifications_stale"] == 1
    assert [m.what for m in repository.markers(NOTIFY_MARKER_KIND, f"{ACCOUNT}#{REGION}#AgeFlow#5")] == [
        "run.failed#r0#stale"
    ]
