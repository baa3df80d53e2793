"""Runs ingested into DynamoDB Local, the table's stream read back with boto3, notifications to a live receiver.

The notifier is built exactly as the local stack builds it (`wiring.build_local_notifier`), so these tests run the
Lambda's code path on the records `dynamodbstreams.get_records` returns.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from runwatch.domain.alerts import Alert, alert_marker
from runwatch.domain.run_state import RunKey
from runwatch.domain.task_state import TaskState
from runwatch.notify.rules import RulesError
from runwatch.notify.slack_blocks import check_limits
from runwatch.notify.webhook import DELIVERY_HEADER, SIGNATURE_HEADER, verify
from runwatch.services.ingest import Ingestor
from runwatch.services.notify import Notifier
from runwatch.settings import NotifierSettings
from runwatch.store.repository import StatusRepository, Versioned
from runwatch.wiring import build_local_notifier
from runwatch_dev.local.synth import RunSpec, simulate_run
from tests.fakes.receiver import Receiver
from tests.integration.notify.conftest import StreamReader, table_variables

T0 = 1_795_000_000_000
SECRET = "local-signing-key"
# The synthetic runs happened in November 2026; the age rule has its own tests (test_old_transitions.py).
DATED_SAMPLES_MAX_AGE = str(10 * 365 * 24 * 60)


def _notifier(receiver: Receiver, sleeps: list[float], slack: bool = True, **env: str) -> Notifier:
    settings = {
        **table_variables(),
        "NOTIFY_WEBHOOK_URL": receiver.url("/hook"),
        "NOTIFY_WEBHOOK_SECRET": SECRET,
        "DASHBOARD_URL": "http://127.0.0.1:8080/",
        "NOTIFY_MAX_AGE_MINUTES": DATED_SAMPLES_MAX_AGE,
        **({"NOTIFY_SLACK_URL": receiver.url("/slack/T000/B000/token")} if slack else {}),
        **env,
    }
    return build_local_notifier(
        NotifierSettings.from_env(settings), sleep=sleeps.append, monotonic=lambda: 0.0
    )


class NoFullRunReads(StatusRepository):
    """Refuses to read all of a run's tasks: a failed run's message must not need that (10,000 items)."""

    def run_with_tasks(self, key: RunKey) -> tuple[Versioned | None, list[TaskState]]:
        raise AssertionError(f"read every task of {key}")


def _bounded(notifier: Notifier) -> Notifier:
    """The same notifier reading the table through NoFullRunReads."""
    return Notifier(
        NoFullRunReads(),
        notifier.channels.values(),
        notifier.rules,
        links=notifier.links,
        clock=notifier.clock,
        send_budget=notifier.send_budget,
        max_age_minutes=notifier.max_age_ms // 60_000,
        failure_logs=notifier.failure_logs,
        log_lines=notifier.log_lines,
    )


def _ingest(repository: StatusRepository, spec: RunSpec) -> None:
    ingestor = Ingestor(repository)
    for event in simulate_run(spec):
        ingestor.ingest(event)


def test_a_failing_200_task_foreach_sends_exactly_one_message_per_channel(
    repository: StatusRepository, stream: StreamReader, receiver: Receiver, sleeps: list[float]
) -> None:
    spec = RunSpec("BigFlow", "1795000000000001", fanout=200, max_retries=0, start_ms=T0, tags=("team:ml",))
    spec.outcomes = {"train": {17: ["user_code"]}}
    _ingest(repository, spec)
    records = stream.read()
    notifier = _bounded(_notifier(receiver, sleeps))

    failures = notifier.handle_stream_records(records)

    assert failures == []
    (hook,) = receiver.to("/hook")
    (slack,) = receiver.to("/slack/T000/B000/token")
    body = hook.json()
    assert (body["type"], body["flow"], body["run_id"], body["status"]) == (
        "run.failed",
        "BigFlow",
        "1795000000000001",
        "failed",
    )
    assert body["failure"]["step"] == "train" and body["failure"]["task_id"] == "19"
    assert body["failure"]["failure_class"] == "user_code" and body["failure"]["exit_code"] == 1
    _, tasks = repository.run_with_tasks(
        RunKey("BigFlow", "1795000000000001", account="123456789012", region="us-east-1")
    )
    failed_or_killed = [t for t in tasks if t.status in ("failed", "killed")]
    assert body["failed_tasks"] == len(failed_or_killed) > 1
    assert (body["account"], body["region"]) == ("123456789012", "us-east-1")
    assert body["links"]["dashboard"] == (
        "http://127.0.0.1:8080/#/flows/BigFlow/runs/1795000000000001?account=123456789012&region=us-east-1"
    )
    assert "logs" in body["links"] and "batch_job" in body["links"]
    assert verify(
        SECRET, hook.headers[SIGNATURE_HEADER], hook.body, now=float(hook.headers[SIGNATURE_HEADER][2:12])
    )
    message = slack.json()
    assert check_limits(message) == []
    assert f"*{len(failed_or_killed) - 1}* other tasks failed or were killed." in json.dumps(message)

    # The same batch again, a bisected half and a shuffled copy: nothing is sent twice.
    again = [*records, *records[len(records) // 2 :], *random.Random(3).sample(records, len(records))]
    assert notifier.handle_stream_records(again) == []
    assert len(receiver.requests) == 2
    # A fresh notifier (a new Lambda container, a restarted local stack) agrees: the markers are in the table.
    assert _notifier(receiver, sleeps).handle_stream_records(records) == []
    assert len(receiver.requests) == 2


def test_a_failed_send_is_reported_and_sent_when_the_record_comes_back(
    repository: StatusRepository, stream: StreamReader, receiver: Receiver, sleeps: list[float]
) -> None:
    spec = RunSpec("SmallFlow", "2", fanout=2, max_retries=0, start_ms=T0, outcomes={"train": {0: ["oom"]}})
    _ingest(repository, spec)
    records = stream.read()
    notifier = _notifier(receiver, sleeps, slack=False, NOTIFY_HTTP_ATTEMPTS="2")
    receiver.script(500, 503)

    failures = notifier.handle_stream_records(records)

    (failure,) = failures
    run_records = [r for r in records if r["dynamodb"]["Keys"]["sk"]["S"] == "#RUN"]
    assert failure.sequence_number in {r["dynamodb"]["SequenceNumber"] for r in run_records}
    assert "webhook: http://127.0.0.1:" in failure.reason and "HTTP 503 after 2 attempts" in failure.reason
    assert "/hook" not in failure.reason
    assert sleeps == [1.0]

    # Redelivery (the stream retrying the failed record) sends it; the receiver dedupes on the delivery id.
    assert notifier.handle_stream_records(records) == []
    requests = receiver.to("/hook")
    assert len(requests) == 3
    assert len({r.headers[DELIVERY_HEADER] for r in requests}) == 1
    assert requests[-1].json()["failure"]["failure_class"] == "oom"


def test_a_receiver_that_hangs_past_the_timeout_fails_the_record(
    repository: StatusRepository, stream: StreamReader, receiver: Receiver, sleeps: list[float]
) -> None:
    _ingest(
        repository,
        RunSpec("SlowFlow", "3", fanout=1, max_retries=0, start_ms=T0, outcomes={"end": {0: ["user_code"]}}),
    )
    notifier = _notifier(
        receiver, sleeps, slack=False, NOTIFY_HTTP_ATTEMPTS="1", NOTIFY_HTTP_TIMEOUT_SECONDS="0.2"
    )
    receiver.script("hang")

    (failure,) = notifier.handle_stream_records(stream.read())

    assert "no answer within 0.2s" in failure.reason


def test_retries_after_infrastructure_failures_and_successes_are_opt_in(
    tmp_path: Path,
    repository: StatusRepository,
    stream: StreamReader,
    receiver: Receiver,
    sleeps: list[float],
) -> None:
    spec = RunSpec(
        "RetryFlow", "4", fanout=3, max_retries=2, start_ms=T0, outcomes={"train": {1: ["spot", "oom", "ok"]}}
    )
    _ingest(repository, spec)
    records = stream.read()

    assert _notifier(receiver, sleeps).handle_stream_records(records) == []
    assert receiver.requests == [], "without rules a success and a retry are quiet"

    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - match: {flow: 'Retry*', types: [task.retrying]}\n"
        "    channels: [webhook]\n"
        "  - match: {types: [run.succeeded], tags: []}\n"
        "    channels: [slack]\n"
    )
    notifier = _notifier(receiver, sleeps, NOTIFY_RULES=str(rules))
    assert notifier.handle_stream_records(records) == []

    retries = [r.json() for r in receiver.to("/hook")]
    assert [(r["type"], r["failure"]["attempt"], r["failure"]["failure_class"]) for r in retries] == [
        ("task.retrying", 0, "spot_reclaim"),
        ("task.retrying", 1, "oom"),
    ]
    assert {r["task"]["task_id"] for r in retries} == {"3"}
    (success,) = receiver.to("/slack/T000/B000/token")
    assert success.json()["text"] == "RetryFlow/4 succeeded"


def test_a_sweeper_alert_marker_is_sent_once(
    repository: StatusRepository, stream: StreamReader, receiver: Receiver, sleeps: list[float]
) -> None:
    _ingest(repository, RunSpec("StuckFlow", "5", fanout=1, max_retries=0, start_ms=T0))
    alert = Alert(
        "task.stuck",
        "StuckFlow",
        "5",
        account="123456789012",
        region="us-east-1",
        step="train",
        task_id="2",
        attempt=0,
        message="RUNNABLE for 45 minutes",
        hint="the queue has no capacity",
        occurred_at=T0,
    )
    assert repository.claim_marker(*alert_marker(alert), detail=alert.to_json())
    assert not repository.claim_marker(*alert_marker(alert), detail=alert.to_json()), (
        "the sweeper raises it once"
    )
    notifier = _notifier(receiver, sleeps, slack=False)

    assert notifier.handle_stream_records(stream.read()) == []

    (hook,) = receiver.requests
    body = hook.json()
    assert (body["type"], body["message"], body["hint"]) == (
        "task.stuck",
        "RUNNABLE for 45 minutes",
        "the queue has no capacity",
    )
    assert body["task"]["step"] == "train" and body["status"] == "succeeded"


def test_a_malformed_alert_marker_is_reported_not_dropped(
    repository: StatusRepository, stream: StreamReader, receiver: Receiver, sleeps: list[float]
) -> None:
    assert repository.claim_marker("alert", "F#1", "run.late#duration", detail="{not json")
    stream.read()  # nothing else in the table
    repository.claim_marker("alert", "F#2", "run.late#duration", detail="{not json")

    (failure,) = _notifier(receiver, sleeps).handle_stream_records(stream.read())

    assert "alert marker run.late#duration has no valid detail" in failure.reason
    assert receiver.requests == []


def test_a_bad_rules_file_stops_the_local_notifier_at_start(
    tmp_path: Path, repository: StatusRepository, receiver: Receiver, sleeps: list[float]
) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(
        '{"rules": [{"match": {"types": ["run.failed"]}, "channels": ["slack"]}, {"channels": ["teams"]}]}'
    )

    with pytest.raises(RulesError, match=r"rules.json: rule 1, channels\[0\]: unknown channel 'teams'"):
        _notifier(receiver, sleeps, NOTIFY_RULES=str(rules))


def _root_cause_location(repository: StatusRepository, key: RunKey) -> tuple[str, str]:
    run, tasks = repository.run_with_tasks(key)
    assert run is not None and run.state.failure is not None
    failure = run.state.failure
    task = next(t for t in tasks if (t.key.step, t.key.task_id) == (failure.step, failure.task_id))
    attempt = next(a for a in task.attempts if a.attempt == failure.attempt)
    assert task.log_group and attempt.log_stream, "the Batch event's log location is kept at ingest"
    return task.log_group, attempt.log_stream


def test_run_failed_carries_the_exception_line_read_once_from_the_log(
    repository: StatusRepository,
    stream: StreamReader,
    receiver: Receiver,
    sleeps: list[float],
    tmp_path: Path,
) -> None:
    from runwatch.logs.local_source import LocalLogFiles

    key = RunKey("LogFlow", "7", account="123456789012", region="us-east-1")
    spec = RunSpec(
        key.flow, key.run_id, fanout=2, max_retries=0, start_ms=T0, outcomes={"train": {0: ["user_code"]}}
    )
    _ingest(repository, spec)
    group, log_stream = _root_cause_location(repository, key)
    path = tmp_path / "logs" / group.removeprefix("/") / f"{log_stream}.log"
    path.parent.mkdir(parents=True)
    path.write_text(
        "[MFLOG|0|2026-11-18T12:00:00.000000Z|task|1]Loading 1000 rows\n"
        "Traceback (most recent call last):\n"
        '  File "flow.py", line 30, in train\n'
        "    raise ValueError('bad input: secret-row-42')\n"
        "ValueError: bad input: secret-row-42\n"
    )
    settings = {
        **table_variables(),
        "NOTIFY_WEBHOOK_URL": receiver.url("/hook"),
        "NOTIFY_WEBHOOK_SECRET": SECRET,
        "NOTIFY_MAX_AGE_MINUTES": DATED_SAMPLES_MAX_AGE,
    }
    notifier = build_local_notifier(
        NotifierSettings.from_env(settings), sleep=sleeps.append, log_source=LocalLogFiles(tmp_path)
    )

    assert notifier.handle_stream_records(stream.read()) == []

    (hook,) = receiver.to("/hook")
    failure = hook.json()["failure"]
    assert failure["exception"] == "ValueError: bad input: secret-row-42"
    assert failure["log_lines"] == [], "NOTIFY_LOG_LINES is 0 by default"
    run, tasks = repository.run_with_tasks(key)
    assert run is not None and run.state.failure is not None
    assert run.state.failure.exception == "ValueError: bad input: secret-row-42", "kept on the root cause"
    root = next(t for t in tasks if t.key.task_id == run.state.failure.task_id)
    assert root.attempts[-1].exception == "ValueError: bad input: secret-row-42", "and on the attempt"
    # Keeping it wrote the task and the run again: those stream records send nothing more.
    assert notifier.handle_stream_records(stream.read()) == []
    assert len(receiver.requests) == 1


def test_run_failed_without_a_readable_log_still_goes_out(
    repository: StatusRepository,
    stream: StreamReader,
    receiver: Receiver,
    sleeps: list[float],
    tmp_path: Path,
) -> None:
    from runwatch.logs.local_source import LocalLogFiles

    spec = RunSpec(
        "NoLogFlow", "8", fanout=1, max_retries=0, start_ms=T0, outcomes={"train": {0: ["user_code"]}}
    )
    _ingest(repository, spec)
    settings = {
        **table_variables(),
        "NOTIFY_WEBHOOK_URL": receiver.url("/hook"),
        "NOTIFY_LOG_LINES": "5",
        "NOTIFY_MAX_AGE_MINUTES": DATED_SAMPLES_MAX_AGE,
    }
    notifier = build_local_notifier(
        NotifierSettings.from_env(settings), sleep=sleeps.append, log_source=LocalLogFiles(tmp_path)
    )

    assert notifier.handle_stream_records(stream.read()) == []

    (hook,) = receiver.to("/hook")
    assert hook.json()["failure"]["exception"] is None
    assert hook.json()["failure"]["log_lines"] == []


def test_a_run_webhook_carries_the_usage_of_its_tasks_priced(
    repository: StatusRepository, stream: StreamReader, receiver: Receiver, sleeps: list[float]
) -> None:
    spec = RunSpec("CostFlow", "1795000000000077", fanout=3, max_retries=1, start_ms=T0)
    spec.outcomes = {"train": {1: ["oom", "user_code"]}}
    _ingest(repository, spec)
    notifier = _notifier(receiver, sleeps, slack=False, PRICE_VCPU_HOUR="0.04", PRICE_GIB_HOUR="0.005")

    assert notifier.handle_stream_records(stream.read()) == []

    (hook,) = receiver.to("/hook")
    usage = hook.json()["usage"]
    _, tasks = repository.run_with_tasks(
        RunKey("CostFlow", "1795000000000077", account="123456789012", region="us-east-1")
    )
    # By hand: every synthetic attempt asks for 1 vCPU and 4096 MiB; a failed one's vCPU time is waste.
    attempts = [a for t in tasks for a in t.attempts if a.started_at and a.stopped_at]
    hours = [(a.stopped_at - a.started_at) / 3_600_000 for a in attempts]  # type: ignore[operator]
    wasted = [h for a, h in zip(attempts, hours, strict=True) if a.status == "failed"]
    assert wasted and usage["vcpu_hours"] == pytest.approx(sum(hours), abs=1e-5)
    assert usage["memory_gib_hours"] == pytest.approx(4 * sum(hours), abs=1e-5)
    assert usage["wasted_vcpu_hours"] == pytest.approx(sum(wasted), abs=1e-5)
    assert usage["gpu_hours"] == 0.0
    assert usage["estimated_cost_usd"] == pytest.approx(0.04 * sum(hours) + 0.005 * 4 * sum(hours), abs=1e-5)
