"""Notification policy (pure): which changes are worth telling someone, and to which channels.

A run notification is due when the run's status changes to one of the statuses below; a task is
"retrying" when an attempt that failed for an infrastructure reason (OOM, spot reclaim, agent) gets a
successor. Routing rules pick channels from what is known about the run; rules are data an operator can
change, read here (runwatch.json_fields) so a mistake names the rule and field.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Final, Self

from runwatch.domain.alerts import RUN_LATE, TASK_STUCK
from runwatch.domain.task_state import TaskState
from runwatch.domain.vocab import FAILURE_CLASSES
from runwatch.json_fields import Fields, read_object

RUN_FAILED: Final = "run.failed"
RUN_TIMED_OUT: Final = "run.timed_out"
RUN_ABORTED: Final = "run.aborted"
RUN_SUCCEEDED: Final = "run.succeeded"
TASK_RETRYING: Final = "task.retrying"

NOTIFICATION_TYPES: Final = (
    RUN_FAILED,
    RUN_TIMED_OUT,
    RUN_ABORTED,
    RUN_SUCCEEDED,
    TASK_RETRYING,
    TASK_STUCK,
    RUN_LATE,
)
# What is sent with no rules, and what a rule that names no types matches: the opt-in types (a success,
# a retry that may well succeed) are only sent when a rule asks for them by name.
DEFAULT_TYPES: Final = frozenset({RUN_FAILED, RUN_TIMED_OUT, RUN_ABORTED, TASK_STUCK, RUN_LATE})
SEVERITY: Final[dict[str, str]] = {
    RUN_FAILED: "high",
    RUN_TIMED_OUT: "high",
    RUN_ABORTED: "medium",
    TASK_STUCK: "medium",
    RUN_LATE: "medium",
    TASK_RETRYING: "low",
    RUN_SUCCEEDED: "info",
}
CHANNELS: Final = ("slack", "webhook", "sns")

_TYPE_OF_RUN_STATUS: Final[dict[str, str]] = {
    "failed": RUN_FAILED,
    "timed_out": RUN_TIMED_OUT,
    "aborted": RUN_ABORTED,
    "succeeded": RUN_SUCCEEDED,
}
# Failures the platform retries through (not the user's code): worth a heads-up, not an alarm.
RETRIED_INFRA_CLASSES: Final = frozenset({"oom", "spot_reclaim", "agent"})


# -- transitions ---------------------------------------------------------------------------------------
def run_notification_type(old_status: str | None, new_status: str) -> str | None:
    """The notification a run status change calls for; None when the status did not change or is quiet."""
    if old_status == new_status:
        return None
    return _TYPE_OF_RUN_STATUS.get(new_status)


def run_transition_key(notification_type: str, redrive_count: int) -> str:
    """Names one transition of a run: a redriven execution that fails again is a new transition."""
    return f"{notification_type}#r{redrive_count}"


def _retried_infra_attempts(task: TaskState | None) -> set[int]:
    if task is None or not task.attempts:
        return set()
    last = task.attempts[-1].attempt
    return {
        a.attempt
        for a in task.attempts
        if a.attempt < last and a.status == "failed" and a.failure_class in RETRIED_INFRA_CLASSES
    }


def newly_retried_attempts(old: TaskState | None, new: TaskState) -> list[int]:
    """Attempts that failed for an infrastructure reason and got a successor in this change.

    Compared as sets, not by attempt count: events arrive in any order, so the failure of attempt n may be
    recorded after attempt n+1 already appeared.
    """
    return sorted(_retried_infra_attempts(new) - _retried_infra_attempts(old))


def task_transition_key(step: str, task_id: str, attempt: int) -> str:
    return f"{TASK_RETRYING}#{step}#{task_id}#{attempt}"


# -- routing -------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Subject:
    """What routing rules can match on."""

    type: str
    flow: str
    project: str | None = None
    branch: str | None = None
    user: str | None = None
    tags: tuple[str, ...] = ()
    failure_class: str | None = None


def _globs(fields: Fields, name: str) -> list[str] | None:
    """A glob or a list of globs; None when not given."""
    return fields.texts(name, one_or_many=True) if fields.has(name) else None


def _names(fields: Fields, name: str, known: Collection[str], what: str) -> list[str] | None:
    """A name or a list of names, each one of `known`, None when not given; checked one by one, so an error
    names the list position (`match.types[1]`)."""
    names = _globs(fields, name)
    for index, value in enumerate(names or ()):
        if value not in known:
            fields.problem(f"unknown {what} {value!r} (known: {', '.join(known)})", name, index)
    return names


def _glob_any(patterns: list[str] | None, value: str | None) -> bool:
    if patterns is None:
        return True
    return value is not None and any(fnmatchcase(value, p) for p in patterns)


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleMatch:
    """Every given field must match; a string field is a glob or a list of globs (any may match)."""

    flow: list[str] | None = None
    project: list[str] | None = None
    branch: list[str] | None = None
    user: list[str] | None = None
    # All of these tags must be on the run.
    tags: list[str] = field(default_factory=list)
    # None: the types sent without rules.
    types: list[str] | None = None
    failure_classes: list[str] | None = None

    @classmethod
    def read(cls, fields: Fields) -> Self:
        fields.only("flow", "project", "branch", "user", "tags", "types", "failure_classes")
        return cls(
            flow=_globs(fields, "flow"),
            project=_globs(fields, "project"),
            branch=_globs(fields, "branch"),
            user=_globs(fields, "user"),
            tags=fields.texts("tags", one_or_many=True),
            types=_names(fields, "types", NOTIFICATION_TYPES, "notification type"),
            failure_classes=_names(fields, "failure_classes", FAILURE_CLASSES, "failure class"),
        )

    def matches(self, subject: Subject) -> bool:
        types = DEFAULT_TYPES if self.types is None else self.types
        if subject.type not in types:
            return False
        if self.failure_classes is not None and subject.failure_class not in self.failure_classes:
            return False
        if not set(self.tags) <= set(subject.tags):
            return False
        return (
            _glob_any(self.flow, subject.flow)
            and _glob_any(self.project, subject.project)
            and _glob_any(self.branch, subject.branch)
            and _glob_any(self.user, subject.user)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    name: str | None = None
    match: RuleMatch = field(default_factory=RuleMatch)
    channels: list[str]
    # No later rule is looked at when this one matches.
    stop: bool = False

    @classmethod
    def read(cls, fields: Fields) -> Self:
        fields.only("name", "match", "channels", "stop")
        match = fields.optional_inner("match")
        if not fields.has("channels"):
            fields.problem("Field required", "channels")
        return cls(
            name=fields.optional_text("name"),
            match=RuleMatch.read(match) if match else RuleMatch(),
            channels=_names(fields, "channels", CHANNELS, "channel") or [],
            stop=fields.flag("stop", False),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingRules:
    """Rules in order; every matching rule adds its channels. Unmatched notifications get the defaults."""

    rules: list[Rule] = field(default_factory=list)
    # Send the default types to every channel when no rule matched.
    defaults: bool = True

    @classmethod
    def read(cls, fields: Fields) -> Self:
        fields.only("rules", "defaults")
        return cls(
            rules=[Rule.read(r) for r in fields.inner_list("rules")], defaults=fields.flag("defaults", True)
        )

    @classmethod
    def from_json(cls, data: object) -> Self:
        """Rules from decoded JSON or YAML; raises InvalidFields naming each rule and field that is wrong."""
        return read_object(data, cls.read)


def route(rules: RoutingRules, subject: Subject, configured: Collection[str]) -> tuple[str, ...]:
    """The configured channels a notification goes to, each once, in the order `configured` lists them."""
    chosen: set[str] = set()
    matched = False
    for rule in rules.rules:
        if rule.match.matches(subject):
            matched = True
            chosen.update(rule.channels)
            if rule.stop:
                break
    if not matched and rules.defaults and subject.type in DEFAULT_TYPES:
        chosen = set(configured)
    return tuple(channel for channel in configured if channel in chosen)
