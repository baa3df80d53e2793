"""The sweeper: what no event says. Lost events, stuck tasks, late runs, missed deadlines, abandoned runs.

One sweep reads the runs in the sparse `active_keys` index and their unfinished tasks, found from their step
summaries (store/active.py; never a scan), then:
1. reconciles what has been quiet for RECONCILE_AFTER_MINUTES by asking AWS (DescribeJobs, 100 ids a call;
   DescribeExecution) and ingesting each answer like the event that was lost;
2. raises `task.stuck` for tasks pending longer than STUCK_AFTER_MINUTES and `run.late` for runs running
   longer than k x their flow's p95 duration or past a daily deadline, each exactly once: an alert is a
   marker item created with a conditional put, so overlapping sweeps cannot raise it twice;
3. marks local runs with nothing in flight and no news for ABANDONED_AFTER_HOURS as `unknown` (any later
   event revives them).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Final, Protocol

from runwatch.aws.accounts import RoleUnavailable
from runwatch.aws.batch_jobs import BatchUnavailable, JobDescriber
from runwatch.aws.executions import ExecutionDescriber, ExecutionsUnavailable
from runwatch.domain.alerts import RUN_LATE, TASK_STUCK, Alert, alert_marker
from runwatch.domain.lateness import late_threshold, met_deadline, minutes, p95
from runwatch.domain.run_state import RunKey, RunState, run_key_of
from runwatch.domain.stuck_hints import stuck_hint
from runwatch.domain.task_state import TaskState
from runwatch.domain.vocab import ORCHESTRATOR_SFN
from runwatch.events.described import batch_job_event, execution_event
from runwatch.events.envelope import RejectedEvent
from runwatch.services.ingest import APPLIED, Counters
from runwatch.services.lru import LRU
from runwatch.settings import SweepThresholds

MINUTE_MS: Final = 60_000
HOUR_MS: Final = 60 * MINUTE_MS
PENDING_BATCH_STATUSES: Final = frozenset({"SUBMITTED", "PENDING", "RUNNABLE"})
_IN_FLIGHT_TASK_STATUSES: Final = frozenset({"pending", "starting", "running"})
_ALERT_TTL_DAYS: Final = 30
_REMEMBERED_ALERTS: Final = 10_000


class ActiveReader(Protocol):
    """runwatch.store.active.SweepReads."""

    queries: int
    items: int
    writes: int
    cleared: int

    def active_runs(self) -> list[RunState]: ...
    def active_tasks(self) -> list[TaskState]: ...
    def recent_runs(self, flow: str, limit: int, started_before_ms: int | None = None) -> list[RunState]: ...


class MarkerStore(Protocol):
    """runwatch.store.repository.StatusRepository."""

    write_requests: int

    def claim_marker(
        self, kind: str, subject: str, what: str, detail: str | None = None, ttl_days: int = 30
    ) -> bool: ...


class EventSink(Protocol):
    """runwatch.services.ingest.Ingestor."""

    def ingest(self, raw: str | bytes | dict[str, Any]) -> str: ...
    def observe_run(self, observation: RunState) -> bool: ...


class Log(Protocol):
    def info(self, msg: str, *args: Any, **kwargs: Any) -> None: ...
    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None: ...


@dataclass(slots=True)
class SweepReport:
    """What one sweep saw and did (logged, and emitted as metrics by the Lambda handler)."""

    swept_at: int
    active_runs: int = 0
    active_tasks: int = 0
    jobs_described: int = 0
    jobs_missing: int = 0
    executions_described: int = 0
    executions_missing: int = 0
    reconciled: int = 0
    reconcile_errors: int = 0
    # Jobs and executions of member accounts not asked about: no ReconcileRoleName to get into them.
    lookups_skipped: int = 0
    stuck_alerts: int = 0
    late_alerts: int = 0
    deadline_alerts: int = 0
    abandoned: int = 0
    runs_cleared: int = 0  # ended runs with nothing unfinished, taken out of the sweeper's view
    dynamodb_queries: int = 0
    dynamodb_items_read: int = 0
    dynamodb_writes: int = 0
    duration_ms: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def counts(self) -> dict[str, int]:
        """The figures worth a metric (the timestamp is not one)."""
        return {k: v for k, v in self.as_dict().items() if k not in ("swept_at", "duration_ms")}


@dataclass(slots=True)
class _Answers:
    """What AWS said during this sweep's reconciliation, so the checks judge the present, not the lag."""

    job_status: dict[str, str] = field(default_factory=dict)
    job_reason: dict[str, str] = field(default_factory=dict)
    missing_jobs: set[str] = field(default_factory=set)
    execution_status: dict[RunKey, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Baseline:
    threshold_ms: int
    p95_ms: int
    runs: int


def _run_key(task: TaskState) -> RunKey:
    return run_key_of(task.key)


class PlaceDescribers(Protocol):
    """Who answers for an account and region (aws.accounts.AccountDescribers); None: no way in."""

    def jobs_in(self, account: str, region: str) -> JobDescriber | None: ...

    def executions_in(self, account: str, region: str) -> ExecutionDescriber | None: ...


class Sweeper:
    def __init__(
        self,
        reads: ActiveReader,
        store: MarkerStore,
        ingestor: EventSink,
        settings: SweepThresholds,
        jobs: JobDescriber | None = None,
        executions: ExecutionDescriber | None = None,
        logger: Log | None = None,
        counters: Counters | None = None,
        timer: Callable[[], float] = time.perf_counter,
        places: PlaceDescribers | None = None,
    ) -> None:
        """`jobs` and `executions` turn reconciliation on; `places`, when given, picks who answers for a
        run's account and region (without it `jobs` and `executions` answer for every run)."""
        self.reads = reads
        self.places = places
        self.store = store
        self.ingestor = ingestor
        self.settings = settings
        self.jobs = jobs
        self.executions = executions
        self.log = logger
        self.counters = counters
        self._timer = timer
        # Deadlines already judged (flow, date): spares a query per sweep for the rest of the day.
        self._judged: set[tuple[str, str]] = set()
        # Markers known to exist: a task stuck for hours would otherwise cost a failed conditional put (a
        # write unit) every sweep. Only an optimisation: the conditional put alone keeps alerts unique.
        self._alerted: LRU[tuple[str, str, str], bool] = LRU(_REMEMBERED_ALERTS)

    @property
    def reconciles(self) -> bool:
        return self.jobs is not None or self.executions is not None

    # -- entry point ---------------------------------------------------------------------------------
    def sweep(self, now_ms: int) -> SweepReport:
        started = self._timer()
        queries, items, writes = self.reads.queries, self.reads.items, self.store.write_requests
        clears, cleared = self.reads.writes, self.reads.cleared
        report = SweepReport(swept_at=now_ms)
        runs = self.reads.active_runs()
        tasks = self.reads.active_tasks()
        report.active_runs, report.active_tasks = len(runs), len(tasks)

        answers = self._reconcile(now_ms, runs, tasks, report)
        self._raise_stuck(now_ms, runs, tasks, answers, report)
        self._raise_late(now_ms, runs, answers, report)
        self._raise_missed_deadlines(now_ms, report)
        self._abandon(now_ms, runs, tasks, answers, report)

        report.dynamodb_queries = self.reads.queries - queries
        report.dynamodb_items_read = self.reads.items - items
        report.dynamodb_writes = self.store.write_requests - writes + self.reads.writes - clears
        report.runs_cleared = self.reads.cleared - cleared
        report.duration_ms = int((self._timer() - started) * 1000)
        if self.log:
            self.log.info("sweep done", **report.as_dict())
        if self.counters:
            for name, value in report.counts().items():
                self.counters.add(f"sweep_{name}", value)
        return report

    # -- 1. lost events ------------------------------------------------------------------------------
    def _reconcile(
        self, now: int, runs: list[RunState], tasks: list[TaskState], report: SweepReport
    ) -> _Answers:
        answers = _Answers()
        quiet_since = now - self.settings.reconcile_after_minutes * MINUTE_MS
        if self.jobs is not None:
            self._reconcile_jobs(now, quiet_since, tasks, answers, report)
        if self.executions is not None:
            self._reconcile_executions(now, quiet_since, runs, answers, report)
        return answers

    def _reconcile_jobs(
        self, now: int, quiet_since: int, tasks: list[TaskState], answers: _Answers, report: SweepReport
    ) -> None:
        by_place: dict[tuple[str, str], list[str]] = {}
        for task in tasks:
            if job_id := _job_to_ask(task, quiet_since):
                by_place.setdefault((task.key.account, task.key.region), []).append(job_id)
        for (account, region), job_ids in by_place.items():
            try:
                describer = self.places.jobs_in(account, region) if self.places else self.jobs
            except RoleUnavailable as exc:
                report.reconcile_errors += 1
                self._warn("assume role failed", error=str(exc), account=account)
                continue
            if describer is None:
                report.lookups_skipped += len(job_ids)
                continue
            self._describe_jobs(describer, job_ids, now, answers, report)

    def _reconcile_executions(
        self, now: int, quiet_since: int, runs: list[RunState], answers: _Answers, report: SweepReport
    ) -> None:
        for run in runs:
            if run.orchestrator != ORCHESTRATOR_SFN or run.status != "running" or not run.execution_arn:
                continue
            if (run.activity_at or run.first_seen_at or 0) > quiet_since:
                continue
            try:
                describer = (
                    self.places.executions_in(run.account, run.region) if self.places else self.executions
                )
            except RoleUnavailable as exc:
                report.reconcile_errors += 1
                self._warn("assume role failed", error=str(exc), account=run.account)
                continue
            if describer is None:
                report.lookups_skipped += 1
                continue
            if not self._describe_execution(describer, run, now, answers, report):
                break  # Step Functions is failing or throttling: leave the rest to the next sweep

    def _describe_jobs(
        self, jobs: JobDescriber, job_ids: list[str], now: int, answers: _Answers, report: SweepReport
    ) -> None:
        try:
            details = jobs.describe_jobs(job_ids)
        except BatchUnavailable as exc:
            report.reconcile_errors += 1
            self._warn("describe jobs failed", error=str(exc), jobs=len(job_ids))
            return
        report.jobs_described += len(details)
        for detail in details:
            job_id, status = str(detail.get("jobId")), str(detail.get("status"))
            answers.job_status[job_id] = status
            if status in PENDING_BATCH_STATUSES and detail.get("statusReason"):
                answers.job_reason[job_id] = str(detail["statusReason"])
            self._ingest(batch_job_event(detail, now), report, job_id=job_id)
        missing = set(job_ids) - set(answers.job_status)
        answers.missing_jobs |= missing
        report.jobs_missing += len(missing)

    def _describe_execution(
        self, executions: ExecutionDescriber, run: RunState, now: int, answers: _Answers, report: SweepReport
    ) -> bool:
        assert run.execution_arn is not None
        try:
            execution = executions.describe_execution(run.execution_arn)
        except ExecutionsUnavailable as exc:
            report.reconcile_errors += 1
            self._warn("describe execution failed", error=str(exc), run_id=run.key.run_id)
            return False
        if execution is None:
            report.executions_missing += 1
            return True
        report.executions_described += 1
        answers.execution_status[run.key] = str(execution.get("status"))
        self._ingest(execution_event(execution, now), report, run_id=run.key.run_id)
        return True

    def _ingest(self, event: dict[str, Any], report: SweepReport, **context: str) -> None:
        try:
            outcome = self.ingestor.ingest(event)
        except RejectedEvent as exc:
            report.reconcile_errors += 1
            self._warn("reconciled answer rejected", reason=exc.reason, **context)
            return
        if outcome == APPLIED:
            report.reconciled += 1
            if self.log:
                self.log.info("lost event reconciled", **context)

    # -- 2. alerts -----------------------------------------------------------------------------------
    def _claim(self, alert: Alert, reason: str | None = None, marker_of: Alert | None = None) -> bool:
        marker = alert_marker(marker_of or alert, reason)
        if marker in self._alerted:
            return False
        kind, subject, what = marker
        claimed = self.store.claim_marker(
            kind, subject, what, detail=alert.to_json(), ttl_days=_ALERT_TTL_DAYS
        )
        self._alerted.put(marker, True)
        if claimed and self.log:
            self.log.info("alert raised", alert=alert.type, flow=alert.flow, run_id=alert.run_id, marker=what)
        return claimed

    def _raise_stuck(
        self, now: int, runs: list[RunState], tasks: list[TaskState], answers: _Answers, report: SweepReport
    ) -> None:
        stuck_after = self.settings.stuck_after_minutes * MINUTE_MS
        # A task of a finished run holds up nobody.
        running = {
            run.key
            for run in runs
            if run.status == "running" and answers.execution_status.get(run.key, "RUNNING") == "RUNNING"
        }
        for task in tasks:
            current = task.current
            if task.status != "pending" or _run_key(task) not in running:
                continue
            since = task.pending_since or task.last_event_at
            if since is None or now - since < stuck_after:
                continue
            job_id = current.job_id if current else None
            answered = answers.job_status.get(job_id) if job_id else None
            if answered is not None and answered not in PENDING_BATCH_STATUSES:
                continue  # it moved on; the reconciled answer has just been ingested
            batch_status = answered or (current.batch_status if current else "SUBMITTED")
            reason = task.blocked_reason or (answers.job_reason.get(job_id) if job_id else None)
            message = f"{task.key.step}/{task.key.task_id} has been {batch_status} for {minutes(now - since)}"
            if reason:
                message += f"; AWS Batch: {reason}"
            alert = Alert(
                type=TASK_STUCK,
                flow=task.key.flow,
                run_id=task.key.run_id,
                account=task.key.account,
                region=task.key.region,
                step=task.key.step,
                task_id=task.key.task_id,
                attempt=current.attempt if current else 0,
                message=message,
                hint=stuck_hint(reason, batch_status),
                occurred_at=now,
            )
            if self._claim(alert):
                report.stuck_alerts += 1

    def _raise_late(self, now: int, runs: list[RunState], answers: _Answers, report: SweepReport) -> None:
        floor = self.settings.late_floor_minutes * MINUTE_MS
        baselines: dict[str, _Baseline | None] = {}
        for run in runs:
            if run.status != "running" or run.started_at is None:
                continue
            if answers.execution_status.get(run.key, "RUNNING") != "RUNNING":
                continue  # reconciled just now: it has finished
            elapsed = now - run.started_at
            if elapsed <= floor:
                continue  # never late below the floor: spares the history query
            flow = run.key.flow
            if flow not in baselines:
                baselines[flow] = self._baseline(flow)
            baseline = baselines[flow]
            if baseline is None or elapsed <= baseline.threshold_ms:
                continue
            alert = Alert(
                type=RUN_LATE,
                flow=flow,
                run_id=run.key.run_id,
                account=run.account,
                region=run.region,
                message=(
                    f"running for {minutes(elapsed)}, more than {self.settings.late_factor:g} x the p95 "
                    f"({minutes(baseline.p95_ms)}) of its flow's last {baseline.runs} successful runs"
                ),
                occurred_at=now,
            )
            if self._claim(alert, reason="duration"):
                report.late_alerts += 1

    def _baseline(self, flow: str) -> _Baseline | None:
        history = self.reads.recent_runs(flow, self.settings.late_history_runs)
        durations = [
            run.finished_at - run.started_at
            for run in history
            if run.status == "succeeded" and run.started_at is not None and run.finished_at is not None
        ]
        threshold = late_threshold(
            durations, self.settings.late_factor, self.settings.late_floor_minutes * MINUTE_MS
        )
        if threshold is None:
            return None
        return _Baseline(threshold, p95(durations), len(durations))

    def _raise_missed_deadlines(self, now: int, report: SweepReport) -> None:
        for flow, deadline in self.settings.deadlines.items():
            due = deadline.due(now)
            if due is None or (flow, due[0]) in self._judged:
                continue
            day, deadline_ms = due
            runs = self.reads.recent_runs(
                flow, self.settings.late_history_runs, started_before_ms=deadline_ms
            )
            if met_deadline(deadline_ms, (r.finished_at for r in runs if r.status == "succeeded")):
                self._judged.add((flow, day))
                continue
            latest = runs[0] if runs and (runs[0].started_at or 0) > deadline_ms - 24 * HOUR_MS else None
            if latest is None:
                situation = "no run started in the 24 hours before"
            else:
                situation = f"its latest run {latest.key.run_id} is {latest.status}"
            alert = Alert(
                type=RUN_LATE,
                flow=flow,
                run_id=latest.key.run_id if latest else "",
                account=latest.account if latest else "",
                region=latest.region if latest else "",
                message=f"{flow} has no successful run by its deadline, {deadline.label} on {day}: {situation}",
                occurred_at=now,
            )
            # Keyed on the flow and the date alone: one alert per missed day, whichever run it names.
            if self._claim(
                alert, reason=f"deadline#{day}", marker_of=replace(alert, run_id="", account="", region="")
            ):
                report.deadline_alerts += 1
            self._judged.add((flow, day))  # only once the verdict is stored: a failed write is judged again

    # -- 3. abandoned local runs ---------------------------------------------------------------------
    def _abandon(
        self, now: int, runs: list[RunState], tasks: list[TaskState], answers: _Answers, report: SweepReport
    ) -> None:
        quiet = self.settings.abandoned_after_hours * HOUR_MS
        busy = {
            _run_key(task)
            for task in tasks
            # A retrying local task waits for its orchestrator, which is what went away; a job Batch no
            # longer knows is not in flight either.
            if task.status in _IN_FLIGHT_TASK_STATUSES and not _forgotten(task, answers, now - quiet)
        }
        for run in runs:
            if run.orchestrator == ORCHESTRATOR_SFN or run.status != "running" or run.key in busy:
                continue
            last = run.activity_at or run.first_seen_at
            if last is None or now - last < quiet:
                continue
            if self.ingestor.observe_run(RunState(run.key, run.orchestrator, abandoned_at=now)):
                report.abandoned += 1
                if self.log:
                    self.log.info("run abandoned", flow=run.key.flow, run_id=run.key.run_id)

    def _warn(self, message: str, **context: Any) -> None:
        if self.log:
            self.log.warning(message, **context)


def _job_to_ask(task: TaskState, quiet_since: int) -> str | None:
    """The Batch job whose state would tell what events missed about this task, if it has been quiet."""
    current = task.current
    if current is None or not current.job_id or (task.last_event_at or 0) > quiet_since:
        return None
    # A local retry is a new job (unknown id) the local runtime submits; the failed one has nothing to add.
    # On Step Functions the job id is the task id and Batch itself retries it.
    if current.status in ("succeeded", "failed") and task.orchestrator != ORCHESTRATOR_SFN:
        return None
    return current.job_id


def _forgotten(task: TaskState, answers: _Answers, quiet_since: int) -> bool:
    current = task.current
    return bool(
        current and current.job_id in answers.missing_jobs and (task.last_event_at or 0) < quiet_since
    )
