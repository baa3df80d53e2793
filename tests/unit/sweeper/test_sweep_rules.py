"""Sweep decisions with in-memory collaborators: what is asked of AWS, what is alerted, what failures cost."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from runwatch.aws.batch_jobs import BatchUnavailable
from runwatch.aws.executions import ExecutionsUnavailable
from runwatch.domain.lateness import parse_deadlines
from runwatch.domain.run_state import ExecutionFact, RunKey, RunState
from runwatch.domain.task_state import AttemptState, TaskKey, TaskState
from runwatch.events.envelope import RejectedEvent
from runwatch.services.sweep import Sweeper
from runwatch.settings import SweepThresholds
from runwatch.store.repository import StoreUnavailable

MINUTE = 60_000
HOUR = 60 * MINUTE
T0 = 1_795_000_000_000
SFN_ARN = "arn:aws:states:us-east-1:123456789012:execution:Machine:{}"


@dataclass
class Reads:
    runs: list[RunState] = field(default_factory=list)
    tasks: list[TaskState] = field(default_factory=list)
    history: dict[str, list[RunState]] = field(default_factory=dict)
    queries: int = 0
    items: int = 0
    writes: int = 0
    cleared: int = 0

    def active_runs(self) -> list[RunState]:
        self.queries += 1
        return list(self.runs)

    def active_tasks(self) -> list[TaskState]:
        self.queries += 1
        return list(self.tasks)

    def recent_runs(self, flow: str, limit: int, started_before_ms: int | None = None) -> list[RunState]:
        self.queries += 1
        return self.history.get(flow, [])[:limit]


@dataclass
class Markers:
    claimed: dict[tuple[str, str, str], str] = field(default_factory=dict)
    write_requests: int = 0

    def claim_marker(
        self, kind: str, subject: str, what: str, detail: str | None = None, ttl_days: int = 30
    ) -> bool:
        self.write_requests += 1
        if (kind, subject, what) in self.claimed:
            return False
        self.claimed[(kind, subject, what)] = detail or ""
        return True


@dataclass
class Sink:
    events: list[dict[str, Any]] = field(default_factory=list)
    observed: list[RunState] = field(default_factory=list)
    reject: bool = False

    def ingest(self, raw: Any) -> str:
        if self.reject:
            raise RejectedEvent("incomplete Metaflow job")
        self.events.append(raw)
        return "applied"

    def observe_run(self, observation: RunState) -> bool:
        self.observed.append(observation)
        return True


class Jobs:
    def __init__(self, answers: dict[str, dict[str, Any]] | None = None, fail: bool = False) -> None:
        self.answers = answers or {}
        self.fail = fail
        self.asked: list[list[str]] = []

    def describe_jobs(self, job_ids: list[str]) -> list[dict[str, Any]]:
        self.asked.append(list(job_ids))
        if self.fail:
            raise BatchUnavailable("describe_jobs: ThrottlingException")
        return [self.answers[j] for j in job_ids if j in self.answers]


class Executions:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.asked: list[str] = []

    def describe_execution(self, arn: str) -> dict[str, Any] | None:
        self.asked.append(arn)
        if self.fail:
            raise ExecutionsUnavailable("describe_execution: ThrottlingException")
        return None


def _task(
    run_id: str, task_id: str, status: str, at: int, orchestrator: str = "batch", attempt: int = 0
) -> TaskState:
    return TaskState(
        key=TaskKey("F", run_id, "train", task_id, account="123456789012", region="us-east-1"),
        orchestrator=orchestrator,
        attempts=(
            AttemptState(attempt=attempt, batch_status=status, job_id=f"job-{task_id}", created_at=at),
        ),
        max_attempts=3,
        last_event_at=at,
    )


def _run(run_id: str, at: int, orchestrator: str = "batch") -> RunState:
    sfn = orchestrator == "step-functions"
    return RunState(
        key=RunKey("F", run_id, account="123456789012", region="us-east-1"),
        orchestrator=orchestrator,
        first_seen_at=at,
        activity_at=at,
        execution_arn=SFN_ARN.format(run_id) if sfn else None,
        execution=ExecutionFact(0, False, at, "RUNNING") if sfn else None,
    )


def _job_answer(task: TaskState, status: str) -> dict[str, Any]:
    return {
        "jobId": task.current.job_id if task.current else "",
        "jobArn": f"arn:aws:batch:us-east-1:123456789012:job/{task.key.task_id}",
        "jobName": "x",
        "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/q",
        "status": status,
        "createdAt": T0,
    }


def _sweeper(reads: Reads, sink: Sink | None = None, **kwargs: Any) -> tuple[Sweeper, Markers, Sink]:
    markers, sink = Markers(), sink or Sink()
    settings = SweepThresholds(**kwargs.pop("settings", {}))
    return Sweeper(reads=reads, store=markers, ingestor=sink, settings=settings, **kwargs), markers, sink


def test_only_quiet_in_flight_tasks_are_described_in_one_call() -> None:
    quiet = [_task("r1", str(n), "RUNNING", T0) for n in range(150)]
    fresh = _task("r1", "fresh", "RUNNING", T0 + 20 * MINUTE)
    local_retry = _task("r1", "retry", "FAILED", T0)  # the retry is a new job nobody knows yet
    sfn_retry = _task("r2", "sfn", "FAILED", T0, orchestrator="step-functions")  # Batch retries the same job
    jobs = Jobs({t.current.job_id: _job_answer(t, "RUNNING") for t in quiet if t.current})
    reads = Reads(
        runs=[_run("r1", T0), _run("r2", T0, "step-functions")], tasks=[*quiet, fresh, local_retry, sfn_retry]
    )
    sweeper, _, sink = _sweeper(reads, jobs=jobs)

    report = sweeper.sweep(T0 + 16 * MINUTE)

    assert len(jobs.asked) == 1 and len(jobs.asked[0]) == 151  # the adapter splits it into 100-id calls
    assert (
        "job-fresh" not in jobs.asked[0] and "job-retry" not in jobs.asked[0] and "job-sfn" in jobs.asked[0]
    )
    assert (report.jobs_described, report.jobs_missing, report.reconciled) == (150, 1, 150)
    assert {e["detail-type"] for e in sink.events} == {"Batch Job State Change"}


def test_batch_failing_does_not_stop_the_alerts() -> None:
    stuck = _task("r1", "1", "RUNNABLE", T0)
    sweeper, markers, _ = _sweeper(Reads(runs=[_run("r1", T0)], tasks=[stuck]), jobs=Jobs(fail=True))

    report = sweeper.sweep(T0 + 40 * MINUTE)

    assert (report.reconcile_errors, report.stuck_alerts) == (1, 1)
    assert [k[2] for k in markers.claimed] == ["task.stuck#train#1#0"]


def test_step_functions_failing_stops_asking_for_this_sweep() -> None:
    runs = [_run(f"r{n}", T0, "step-functions") for n in range(5)]
    executions = Executions(fail=True)
    sweeper, _, _ = _sweeper(Reads(runs=runs), executions=executions)

    report = sweeper.sweep(T0 + 20 * MINUTE)

    assert (len(executions.asked), report.reconcile_errors) == (1, 1)


def test_a_vanished_execution_is_counted() -> None:
    sweeper, _, _ = _sweeper(Reads(runs=[_run("r1", T0, "step-functions")]), executions=Executions())
    assert sweeper.sweep(T0 + 20 * MINUTE).executions_missing == 1


def test_rejected_answers_are_counted_not_raised() -> None:
    task = _task("r1", "1", "RUNNING", T0)
    jobs = Jobs({"job-1": _job_answer(task, "SUCCEEDED")})
    sweeper, _, _ = _sweeper(Reads(runs=[_run("r1", T0)], tasks=[task]), sink=Sink(reject=True), jobs=jobs)

    report = sweeper.sweep(T0 + 20 * MINUTE)

    assert (report.reconciled, report.reconcile_errors) == (0, 1)


def test_tasks_of_finished_runs_are_not_stuck() -> None:
    # The run is not among the active ones: it has finished, its leftover task holds up nobody
    sweeper, markers, _ = _sweeper(Reads(runs=[], tasks=[_task("done", "1", "RUNNABLE", T0)]))
    assert sweeper.sweep(T0 + 2 * HOUR).stuck_alerts == 0 and markers.claimed == {}


def test_each_stuck_attempt_alerts_once() -> None:
    reads = Reads(runs=[_run("r1", T0)], tasks=[_task("r1", "1", "RUNNABLE", T0)])
    sweeper, markers, _ = _sweeper(reads)
    assert sweeper.sweep(T0 + 31 * MINUTE).stuck_alerts == 1
    # Its retry gets stuck too: that is a new fact, so a new alert
    reads.tasks = [_task("r1", "1", "RUNNABLE", T0 + 2 * HOUR, attempt=1)]
    assert sweeper.sweep(T0 + 3 * HOUR).stuck_alerts == 1
    assert sorted(k[2] for k in markers.claimed) == ["task.stuck#train#1#0", "task.stuck#train#1#1"]


def test_a_task_batch_has_forgotten_does_not_keep_its_run_alive() -> None:
    # A local run whose last task was RUNNING 13 hours ago, and Batch no longer knows its job
    reads = Reads(runs=[_run("r1", T0)], tasks=[_task("r1", "1", "RUNNING", T0)])
    sweeper, _, sink = _sweeper(reads, jobs=Jobs({}))

    report = sweeper.sweep(T0 + 13 * HOUR)

    assert (report.jobs_missing, report.abandoned) == (1, 1)
    assert sink.observed == [
        RunState(
            RunKey("F", "r1", account="123456789012", region="us-east-1"),
            "batch",
            abandoned_at=T0 + 13 * HOUR,
        )
    ]


def test_without_reconciliation_a_running_task_keeps_its_run_alive() -> None:
    reads = Reads(runs=[_run("r1", T0)], tasks=[_task("r1", "1", "RUNNING", T0)])
    sweeper, _, sink = _sweeper(reads)
    assert sweeper.sweep(T0 + 13 * HOUR).abandoned == 0 and sink.observed == []


def test_the_history_is_read_once_per_flow_and_not_below_the_floor() -> None:
    runs = [_run(f"r{n}", T0) for n in range(3)]
    reads = Reads(runs=runs)
    sweeper, _, _ = _sweeper(reads)
    sweeper.sweep(T0 + 20 * MINUTE)  # younger than the 30-minute floor: never late, nothing read
    assert reads.queries == 2
    sweeper.sweep(T0 + 45 * MINUTE)
    assert reads.queries == 2 + 3


def test_metrics_get_the_report_counts() -> None:
    class Counters:
        def __init__(self) -> None:
            self.values: dict[str, int] = {}

        def add(self, name: str, value: int = 1) -> None:
            self.values[name] = self.values.get(name, 0) + value

    counters = Counters()
    sweeper, _, _ = _sweeper(Reads(runs=[_run("r1", T0)]), counters=counters)
    sweeper.sweep(T0)
    assert counters.values["sweep_active_runs"] == 1 and "sweep_swept_at" not in counters.values


def test_a_known_alert_costs_no_write_on_later_sweeps() -> None:
    reads = Reads(runs=[_run("r1", T0)], tasks=[_task("r1", "1", "RUNNABLE", T0)])
    sweeper, markers, _ = _sweeper(reads)
    sweeper.sweep(T0 + 31 * MINUTE)
    assert markers.write_requests == 1
    assert sweeper.sweep(T0 + 36 * MINUTE).dynamodb_writes == 0 and markers.write_requests == 1
    # Another container (or a cold start) does not know it: its claim fails once, then it knows too
    other, _, _ = _sweeper(reads)
    other.store = markers
    assert other.sweep(T0 + 41 * MINUTE).stuck_alerts == 0 and markers.write_requests == 2
    assert other.sweep(T0 + 46 * MINUTE).dynamodb_writes == 0


def test_a_deadline_whose_alert_could_not_be_stored_is_judged_again() -> None:
    class Flaky(Markers):
        failures = 1

        def claim_marker(self, *args: Any, **kwargs: Any) -> bool:
            if self.failures:
                self.failures -= 1
                raise StoreUnavailable("ProvisionedThroughputExceededException")
            return super().claim_marker(*args, **kwargs)

    reads = Reads()
    sweeper, _, _ = _sweeper(reads, settings={"deadlines": parse_deadlines('{"Ghost": "06:00"}')})
    sweeper.store = flaky = Flaky()
    after = 1_795_161_600_000 + 7 * HOUR  # 07:00 UTC on a day whose 06:00 has passed
    with pytest.raises(StoreUnavailable):
        sweeper.sweep(after)
    assert sweeper.sweep(after + 5 * MINUTE).deadline_alerts == 1
    assert sweeper.sweep(after + 10 * MINUTE).deadline_alerts == 0 and len(flaky.claimed) == 1
