"""Alerts raised by the sweeper on DynamoDB Local: each exactly once, however many sweeps see the cause."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from runwatch.domain.alerts import ALERT_MARKER_KIND, RUN_LATE, TASK_STUCK, Alert, alert_subject
from runwatch.domain.lateness import parse_deadlines
from runwatch.domain.run_state import RunKey, RunState
from runwatch.domain.stuck_hints import stuck_hint
from runwatch.services.ingest import Ingestor
from runwatch.store.repository import StatusRepository
from tests.integration.sweeper.conftest import Clock, make_sweeper, sample

MINUTE = 60_000
LOCAL_RUN = RunKey("FanoutFlow", "1795719352434625", account="123456789012", region="us-east-1")
BLOCKED = (
    "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job resource requirement (vCPU/memory/GPU) is higher than "
    "that can be met by the CE(s) attached to the job queue."
)


def _alerts(repository: StatusRepository, flow: str, run_id: str) -> dict[str, Alert]:
    """A run's alerts; a flow's deadline alerts (run_id "") name no account or region."""
    place = {"account": "123456789012", "region": "us-east-1"} if run_id else {}
    markers = repository.markers(ALERT_MARKER_KIND, alert_subject(Alert(RUN_LATE, flow, run_id, **place)))
    return {m.what: Alert.from_json(m.detail or "") for m in markers}


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp() * 1000)


def _queue_blocked(event: dict[str, Any], reason: str, at: str) -> dict[str, Any]:
    blocked = copy.deepcopy(event)
    blocked["detail-type"] = "Batch Job Queue Blocked"
    blocked["detail"]["statusReason"] = reason
    blocked["time"] = at
    return blocked


def test_stuck_task_alerts_once_with_the_queue_blocked_hint(
    repository: StatusRepository, clock: Clock
) -> None:
    # Given a task RUNNABLE since createdAt, and a "Batch Job Queue Blocked" event saying why
    runnable = sample("local_run/01_start_RUNNABLE.json")
    created = runnable["detail"]["createdAt"]
    ingestor = Ingestor(repository)
    ingestor.ingest(runnable)
    ingestor.ingest(_queue_blocked(runnable, BLOCKED, "2026-11-26T19:05:00Z"))
    sweeper = make_sweeper(repository, stuck_after_minutes=30)

    # When sweeps run before and after STUCK_AFTER_MINUTES, then again, and from a second sweeper at once
    before = sweeper.sweep(created + 29 * MINUTE)
    first = sweeper.sweep(created + 31 * MINUTE)
    later = sweeper.sweep(created + 36 * MINUTE)
    overlapping = make_sweeper(repository, stuck_after_minutes=30).sweep(created + 36 * MINUTE)

    # Then exactly one task.stuck alert exists, carrying the reason and its plain-words hint
    assert [r.stuck_alerts for r in (before, first, later, overlapping)] == [0, 1, 0, 0]
    alerts = _alerts(repository, "FanoutFlow", LOCAL_RUN.run_id)
    assert list(alerts) == ["task.stuck#start#1#0"]
    alert = alerts["task.stuck#start#1#0"]
    assert (alert.type, alert.step, alert.task_id, alert.attempt) == (TASK_STUCK, "start", "1", 0)
    assert alert.hint == stuck_hint(BLOCKED) and "more memory or vCPUs" in (alert.hint or "")
    assert "RUNNABLE for 31m" in alert.message and "JOB_RESOURCE_REQUIREMENT" in alert.message
    assert alert.occurred_at == created + 31 * MINUTE


class _Batch:
    """DescribeJobs answering with a fixed job detail (moto cannot keep a job RUNNABLE)."""

    def __init__(self, detail: dict[str, Any]) -> None:
        self.detail = detail
        self.asked: list[list[str]] = []

    def describe_jobs(self, job_ids: list[str]) -> list[dict[str, Any]]:
        self.asked.append(list(job_ids))
        return [self.detail] if self.detail["jobId"] in job_ids else []


def test_stuck_hint_comes_from_describe_jobs_when_no_queue_blocked_event_arrived(
    repository: StatusRepository, clock: Clock
) -> None:
    runnable = sample("local_run/01_start_RUNNABLE.json")
    Ingestor(repository).ingest(runnable)
    capacity = "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - Service cannot fulfill the capacity requested for instance type [p4d.24xlarge]"
    batch = _Batch({**runnable["detail"], "statusReason": capacity})

    report = make_sweeper(repository, jobs=batch).sweep(runnable["detail"]["createdAt"] + 45 * MINUTE)

    assert (report.jobs_described, report.reconciled, report.stuck_alerts) == (1, 0, 1)
    alert = _alerts(repository, "FanoutFlow", LOCAL_RUN.run_id)["task.stuck#start#1#0"]
    assert alert.hint == stuck_hint(capacity) and "no capacity" in (alert.hint or "")


def test_a_task_that_moved_on_is_not_stuck(repository: StatusRepository, clock: Clock) -> None:
    # Given a task last seen RUNNABLE while Batch says it is RUNNING (that event was lost)
    runnable = sample("local_run/01_start_RUNNABLE.json")
    Ingestor(repository).ingest(runnable)
    created = runnable["detail"]["createdAt"]
    batch = _Batch({**runnable["detail"], "status": "RUNNING", "startedAt": created + 40 * MINUTE})

    report = make_sweeper(repository, jobs=batch).sweep(created + 45 * MINUTE)

    assert (report.reconciled, report.stuck_alerts) == (1, 0)
    assert _alerts(repository, "FanoutFlow", LOCAL_RUN.run_id) == {}


def _succeeded_run(ingestor: Ingestor, flow: str, run_id: str, start: int, minutes: int) -> None:
    end = start + minutes * MINUTE
    ingestor.observe_run(
        RunState(
            RunKey(flow, run_id, account="123456789012", region="us-east-1"),
            "batch",
            first_seen_at=start,
            end_succeeded_at=end,
            activity_at=end,
        )
    )


def test_late_run_alerts_once(repository: StatusRepository, clock: Clock) -> None:
    # Given NightlyFlow's last successful runs took 9-12 minutes (p95 12m: late after max(3 x 12m, 30m) = 36m)
    t0 = _ms("2026-11-20T02:00:00")
    ingestor = Ingestor(repository)
    for day, minutes in enumerate((10, 11, 12, 9, 10)):
        _succeeded_run(ingestor, "NightlyFlow", f"r{day}", t0 + day * 86_400_000, minutes)
    start = t0 + 6 * 86_400_000
    ingestor.observe_run(
        RunState(
            RunKey("NightlyFlow", "r6", account="123456789012", region="us-east-1"),
            "batch",
            first_seen_at=start,
            activity_at=start,
        )
    )
    sweeper = make_sweeper(repository, late_factor=3.0, late_floor_minutes=30)

    # When sweeps run at 35 and 40 minutes, then again, and from another sweeper
    reports = [sweeper.sweep(start + m * MINUTE) for m in (35, 40, 45)]
    reports.append(make_sweeper(repository).sweep(start + 50 * MINUTE))

    # Then one run.late alert names the run and how late it is
    assert [r.late_alerts for r in reports] == [0, 1, 0, 0]
    alerts = _alerts(repository, "NightlyFlow", "r6")
    assert list(alerts) == ["run.late#duration"]
    assert alerts["run.late#duration"].type == RUN_LATE
    assert "running for 40m" in alerts["run.late#duration"].message
    assert "p95 (12m)" in alerts["run.late#duration"].message


def test_no_late_verdict_without_enough_history(repository: StatusRepository, clock: Clock) -> None:
    t0 = _ms("2026-11-20T02:00:00")
    ingestor = Ingestor(repository)
    for day in range(2):
        _succeeded_run(ingestor, "YoungFlow", f"r{day}", t0 + day * 86_400_000, 5)
    start = t0 + 3 * 86_400_000
    ingestor.observe_run(
        RunState(
            RunKey("YoungFlow", "r3", account="123456789012", region="us-east-1"),
            "batch",
            first_seen_at=start,
            activity_at=start,
        )
    )

    report = make_sweeper(repository).sweep(start + 5 * 60 * MINUTE)

    assert report.late_alerts == 0


def test_missed_deadline_alerts_once_per_day(repository: StatusRepository, clock: Clock) -> None:
    # Given ScoringFlow must succeed by 07:00 UTC and its 06:00 run failed; NightlyFlow (05:00) succeeded at 04:30;
    # GhostFlow (08:00) never ran at all
    ingestor = Ingestor(repository)
    for name in ("01_execution_RUNNING", "02_score_job_FAILED", "03_execution_FAILED"):
        ingestor.ingest(sample(f"sfn_failed_run/{name}.json"))
    _succeeded_run(ingestor, "NightlyFlow", "n1", _ms("2026-11-27T04:00:00"), 30)
    deadlines = parse_deadlines('{"ScoringFlow": "07:00", "NightlyFlow": "05:00", "GhostFlow": "08:00"}')
    sweeper = make_sweeper(repository, deadlines=deadlines)

    # When sweeps run before and after the deadlines, and a fresh sweeper (cold start) runs after them
    reports = [
        sweeper.sweep(_ms(at)) for at in ("2026-11-27T06:55:00", "2026-11-27T07:05:00", "2026-11-27T08:10:00")
    ]
    reports.append(make_sweeper(repository, deadlines=deadlines).sweep(_ms("2026-11-27T08:15:00")))

    # Then ScoringFlow's miss and GhostFlow's miss are each raised once, keyed on the flow and the day
    assert [r.deadline_alerts for r in reports] == [0, 1, 1, 0]
    scoring = _alerts(repository, "ScoringFlow", "")
    assert list(scoring) == ["run.late#deadline#2026-11-27"]
    failed_run = "sfn-8c1e5b7d-2f4a-7c3e-1d9b-6e2f0a4c8b13_90d3f7a1-6b2e-c4d8-5f1a-3e7b9c2d4a68"
    assert scoring["run.late#deadline#2026-11-27"].run_id == failed_run
    assert "07:00 UTC on 2026-11-27" in scoring["run.late#deadline#2026-11-27"].message
    assert f"latest run {failed_run} is failed" in scoring["run.late#deadline#2026-11-27"].message
    ghost = _alerts(repository, "GhostFlow", "")["run.late#deadline#2026-11-27"]
    assert (ghost.run_id, "no run started" in ghost.message) == ("", True)
    assert _alerts(repository, "NightlyFlow", "") == {}
