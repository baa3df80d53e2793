"""Notify: table stream records -> at most one message per transition and channel.

A stream record is a run whose status changed, a task that got a new attempt after an infrastructure
failure, or a sweeper alert marker. Each (transition, channel) pair is claimed with a marker before it is
sent, so a redelivered batch (partial-batch retry, bisection, the local poller restarting) never sends
twice; a send that fails releases its marker and fails the record, so the redelivery tries that channel
again and, once the retries are spent, the stream's on-failure destination keeps the record.

Old transitions page nobody: a backfill, a reconcile after an outage, a dead-letter redrive or a replay
applies transitions that happened hours ago. One that happened more than `max_age_minutes` before it is
processed, or that a quiet write made (a backfill without --notify), is recorded with a `stale` marker and
counted (`notifications_stale`), never sent. A transition whose time is unknown is treated as fresh.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, Protocol

from runwatch.domain.alerts import ALERT_MARKER_KIND, Alert, alert_type_of_sk
from runwatch.domain.markers import Marker
from runwatch.domain.notification_policy import (
    TASK_RETRYING,
    RoutingRules,
    Subject,
    newly_retried_attempts,
    route,
    run_notification_type,
    run_transition_key,
    task_transition_key,
)
from runwatch.domain.run_state import RunKey, RunState, run_key_of
from runwatch.domain.task_state import TaskKey, TaskState
from runwatch.domain.usage import Prices, UsageTotals, total
from runwatch.logs.traceback import FailureExcerpt
from runwatch.notify.delivery import DeliveryFailed
from runwatch.notify.links import LinkBuilder
from runwatch.notify.message import Notification, compose_alert, compose_retry, compose_run, stand_in_run
from runwatch.notify.secrets import SecretUnavailable
from runwatch.observability import logger
from runwatch.store.repository import StatusRepository
from runwatch.store.run_queries import RunReader
from runwatch.store.stream import StreamChange, UndecodableRecord, decode_record, sequence_number

NOTIFY_MARKER_KIND: Final = "notify"
# The task statuses a failed run's message counts as failed with it.
FAILED_STATUSES: Final = ("failed", "killed")
# Given a task and an attempt number: what that attempt's log shows (services/attempt_logs.py).
ExcerptReader = Callable[[TaskState, int], FailureExcerpt | None]
NOTIFY_MARKER_TTL_DAYS: Final = 30


class Channel(Protocol):
    name: str

    def send(self, notification: Notification) -> None: ...


class Counters(Protocol):
    def add(self, name: str, value: int = 1) -> None: ...


class _NoCounters:
    def add(self, name: str, value: int = 1) -> None:
        return None


class NotificationFailed(Exception):
    """At least one channel could not be sent to; the record must be redelivered."""


class RejectedRecord(Exception):
    """A record that can never produce a notification (undecodable item, malformed alert)."""


@dataclass(frozen=True, slots=True)
class StreamFailure:
    sequence_number: str
    reason: str


@dataclass
class _Due:
    """One transition worth telling: routed on `subject` before anything costly is read."""

    key: str
    run: RunKey
    subject: Subject
    compose: Callable[[], Notification]
    occurred_at: int | None = None  # when the transition happened (epoch ms), when known


def _now_ms() -> int:
    return int(time.time() * 1000)


class Notifier:
    def __init__(
        self,
        repository: StatusRepository,
        channels: Iterable[Channel],
        rules: Callable[[], RoutingRules],
        links: LinkBuilder | None = None,
        counters: Counters | None = None,
        clock: Callable[[], int] = _now_ms,
        send_budget: float = 30.0,
        max_age_minutes: int = 60,
        failure_logs: ExcerptReader | None = None,
        log_lines: int = 0,
        prices: Prices | None = None,
        steps: RunReader | None = None,
    ) -> None:
        self.repo = repository
        self.steps = steps or RunReader()
        self.channels = {channel.name: channel for channel in channels}
        self.rules = rules
        self.links = links or LinkBuilder()
        self.counters = counters or _NoCounters()
        self.clock = clock
        # Seconds one send may take at worst (all HTTP attempts and waits): a send is not started with less
        # time left, so the function is never killed between claiming a marker and releasing it.
        self.send_budget = send_budget
        self.max_age_ms = max_age_minutes * 60_000
        # Reads the root cause's log before a failed run is told (its exception line; `log_lines` of its
        # traceback only when asked for, since logs may hold data that should not leave the account).
        self.failure_logs = failure_logs
        self.log_lines = log_lines
        self.prices = prices or Prices()  # a run's usage in its messages is priced at these

    # -- entry points --------------------------------------------------------------------------------
    def handle_stream_records(self, records: Iterable[Mapping[str, Any]]) -> list[StreamFailure]:
        """Records as Lambda or `dynamodbstreams.get_records` gives them; returns the ones that failed."""
        failures = []
        for record in records:
            try:
                self.handle_record(record)
            except Exception as error:
                failures.append(StreamFailure(sequence_number(record), str(error)))
        return failures

    def handle_record(self, record: Mapping[str, Any], time_left: Callable[[], float] | None = None) -> int:
        """Send what one record calls for; returns the messages sent. Raises when one must be retried.

        `time_left` (seconds, e.g. from the Lambda context): sends that might not finish in time are not
        started; the record fails and comes back in the next invocation.
        """
        try:
            return self._handle(record, time_left)
        except Exception as error:
            logger.warning("stream record failed", sequence_number=sequence_number(record), error=str(error))
            raise

    def _handle(self, record: Mapping[str, Any], time_left: Callable[[], float] | None) -> int:
        try:
            change = decode_record(record)
        except UndecodableRecord as error:
            raise RejectedRecord(str(error)) from None
        sent = 0
        failed: list[str] = []
        for due in self._due(change):
            sent += self._deliver(due, failed, time_left, quiet=change.quiet)
        if failed:
            raise NotificationFailed("; ".join(failed))
        return sent

    # -- what a change calls for -----------------------------------------------------------------------
    def _due(self, change: StreamChange) -> list[_Due]:
        new = change.new
        if isinstance(new, RunState):
            return self._run_due(change.old if isinstance(change.old, RunState) else None, new)
        if isinstance(new, TaskState):
            return self._retry_due(change.old if isinstance(change.old, TaskState) else None, new)
        if isinstance(new, Marker) and change.event_name == "INSERT" and new.kind == ALERT_MARKER_KIND:
            return self._alert_due(new)
        return []

    def _run_due(self, old: RunState | None, run: RunState) -> list[_Due]:
        notification_type = run_notification_type(old.status if old else None, run.status)
        if notification_type is None:
            return []
        key = run_transition_key(notification_type, run.execution.redrive_count if run.execution else 0)

        def compose() -> Notification:
            # Bounded whatever the run's size: the step summaries count the failed tasks (one Query of the
            # run's `STEP#` items) and the root cause's task is one GetItem. The status comes from the stream
            # image, the transition being told, even if the run moved on.
            failed_tasks, root, usage = self._failure_context(run)
            tasks = [root] if root is not None else []
            excerpt = self._excerpt(run, tasks)
            return compose_run(
                key,
                notification_type,
                run,
                tasks,
                self.links,
                self.clock(),
                excerpt,
                self.log_lines,
                prices=self.prices,
                failed_tasks=failed_tasks,
                usage=usage,
            )

        failure = run.failure
        return [
            _Due(
                key,
                run.key,
                _subject(notification_type, run, failure.failure_class if failure else None),
                compose,
                occurred_at=run.finished_at,
            )
        ]

    def _retry_due(self, old: TaskState | None, task: TaskState) -> list[_Due]:
        attempts = newly_retried_attempts(old, task)
        if not attempts:
            return []
        run = self._run_or_stand_in(run_key_of(task.key), task.orchestrator)
        due = []
        for number in attempts:
            key = task_transition_key(task.key.step, task.key.task_id, number)
            attempt = next(a for a in task.attempts if a.attempt == number)
            compose = partial(self._compose_retry, key, run, task, number)
            subject = _subject(TASK_RETRYING, run, attempt.failure_class)
            due.append(_Due(key, run.key, subject, compose, attempt.stopped_at or task.last_event_at))
        return due

    def _alert_due(self, marker: Marker) -> list[_Due]:
        if alert_type_of_sk(marker.what) is None:
            return []
        try:
            alert = Alert.from_json(marker.detail or "")
        except (ValueError, KeyError, TypeError) as error:
            raise RejectedRecord(f"alert marker {marker.what} has no valid detail: {error}") from None
        run = self._run_or_stand_in(
            RunKey(alert.flow, alert.run_id, account=alert.account, region=alert.region)
        )
        task: TaskState | None = None
        if alert.step and alert.task_id:
            loaded = self.repo.load_task(
                TaskKey(
                    alert.flow,
                    alert.run_id,
                    alert.step,
                    alert.task_id,
                    account=alert.account,
                    region=alert.region,
                )
            )
            task = loaded.state if loaded else None
        key = marker.what
        compose = partial(compose_alert, key, alert, run, task, self.links)
        return [_Due(key, run.key, _subject(alert.type, run, None), compose, alert.occurred_at or None)]

    def _failure_context(self, run: RunState) -> tuple[int, TaskState | None, UsageTotals]:
        """From the step summaries, how many of the run's tasks failed or were killed and the compute they
        all used; and the root cause's task (when known)."""
        _, steps = self.steps.run_with_steps(run.key)
        failed = sum(summary.task_counts.get(status, 0) for summary in steps for status in FAILED_STATUSES)
        usage = total(summary.usage for summary in steps)
        failure = run.failure
        if failure is None or not failure.step or not failure.task_id:
            return failed, None, usage
        key = run.key
        task_key = TaskKey(
            key.flow, key.run_id, failure.step, failure.task_id, account=key.account, region=key.region
        )
        loaded = self.repo.load_task(task_key)
        return failed, loaded.state if loaded else None, usage

    def _excerpt(self, run: RunState, tasks: Iterable[TaskState]) -> FailureExcerpt | None:
        """What the root cause's log shows, read when the exception line is not known yet or log lines
        are asked for; None when nothing needs reading or the log cannot be read."""
        failure = run.failure
        if self.failure_logs is None or failure is None or not failure.step:
            return None
        key = (failure.step, failure.task_id)
        root = next((t for t in tasks if (t.key.step, t.key.task_id) == key), None)
        attempt = next((a for a in root.attempts if a.attempt == failure.attempt), None) if root else None
        if root is None or attempt is None or attempt.status != "failed":
            return None
        if (failure.exception or attempt.exception) and self.log_lines <= 0:
            return None
        return self.failure_logs(root, attempt.attempt)

    def _compose_retry(self, key: str, run: RunState, task: TaskState, attempt: int) -> Notification:
        return compose_retry(key, run, task, attempt, self.links, self.clock())

    def _run_or_stand_in(self, key: RunKey, orchestrator: str = "unknown") -> RunState:
        loaded = self.repo.load_run(key)
        return loaded.state if loaded else stand_in_run(key, orchestrator)

    # -- old transitions ---------------------------------------------------------------------------------
    def _too_old(self, due: _Due) -> bool:
        return due.occurred_at is not None and self.clock() - due.occurred_at > self.max_age_ms

    def _record_stale(self, due: _Due, quiet: bool) -> None:
        """Mark the transition as told-to-nobody (once, whatever the redeliveries) and count it."""
        subject = _subject_of(due.run)
        if not self.repo.claim_marker(
            NOTIFY_MARKER_KIND, subject, f"{due.key}#stale", ttl_days=NOTIFY_MARKER_TTL_DAYS
        ):
            return
        self.counters.add("notifications_stale")
        logger.info(
            "old transition recorded, not sent",
            notification=due.key,
            run=subject,
            occurred_at=due.occurred_at,
            reason="quiet write (backfill)" if quiet else "older than NOTIFY_MAX_AGE_MINUTES",
        )

    # -- delivery --------------------------------------------------------------------------------------
    def _deliver(
        self, due: _Due, failed: list[str], time_left: Callable[[], float] | None = None, quiet: bool = False
    ) -> int:
        """Send `due` to each routed channel not already claimed; failures are appended to `failed`.

        A routed transition that is too old, or that a quiet write made, is recorded instead.
        """
        channels = route(self.rules(), due.subject, tuple(self.channels))
        if not channels:
            self.counters.add("notifications_unrouted")
            return 0
        if quiet or self._too_old(due):
            self._record_stale(due, quiet)
            return 0
        subject = _subject_of(due.run)
        notification: Notification | None = None
        sent = 0
        for name in channels:
            what = f"{due.key}#{name}"
            if time_left is not None and time_left() < self.send_budget:
                self.counters.add("notifications_deferred")
                failed.append(f"{name}: not started, less than {self.send_budget:g}s left")
                continue
            if not self.repo.claim_marker(NOTIFY_MARKER_KIND, subject, what, ttl_days=NOTIFY_MARKER_TTL_DAYS):
                self.counters.add("notifications_duplicate")
                continue
            try:
                notification = notification or due.compose()
                self.channels[name].send(notification)
            except (DeliveryFailed, SecretUnavailable) as error:
                self.repo.release_marker(NOTIFY_MARKER_KIND, subject, what)
                self.counters.add(f"notifications_failed_{name}")
                logger.warning(
                    "notification failed", channel=name, notification=due.key, run=subject, error=str(error)
                )
                failed.append(f"{name}: {error}")
                continue
            except BaseException:
                self.repo.release_marker(NOTIFY_MARKER_KIND, subject, what)
                raise
            sent += 1
            self.counters.add(f"notifications_sent_{name}")
            logger.info("notification sent", channel=name, notification=due.key, run=subject)
        return sent


def _subject(notification_type: str, run: RunState, failure_class: str | None) -> Subject:
    return Subject(
        type=notification_type,
        flow=run.key.flow,
        project=run.project,
        branch=run.branch,
        user=run.user,
        tags=run.tags,
        failure_class=failure_class,
    )


def _subject_of(run: RunKey) -> str:
    """The marker subject of a run's notifications: its whole identity, so two accounts' runs never share."""
    return f"{run.account}#{run.region}#{run.flow}#{run.run_id}"
