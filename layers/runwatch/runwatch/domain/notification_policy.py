"""Notification policy (pure): which changes are worth telling someone, and to which channels.

A run notification is due when the run's status changes to one of the statuses below; a task is
"retrying" when an attempt that failed for an infrastructure reason (OOM, spot reclaim, agent) gets a
successor. Routing rules pick channels from what is known about the run; rules are data an operator can
change, validated here so a mistake names the rule and field.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Annotated, Final

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from runwatch.domain.alerts import RUN_LATE, TASK_STUCK
from runwatch.domain.task_state import TaskState
from runwatch.domain.vocab import FAILURE_CLASSES

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


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


def _member_of(known: Collection[str], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in known:
            raise ValueError(f"unknown {what} {value!r} (known: {', '.join(known)})")
        return value

    return check


# Checked one by one, so an error names the list position (`match.types[1]`).
NotificationTypeName = Annotated[str, AfterValidator(_member_of(NOTIFICATION_TYPES, "notification type"))]
FailureClassName = Annotated[str, AfterValidator(_member_of(FAILURE_CLASSES, "failure class"))]
ChannelName = Annotated[str, AfterValidator(_member_of(CHANNELS, "channel"))]


def _glob_any(patterns: list[str] | None, value: str | None) -> bool:
    if patterns is None:
        return True
    return value is not None and any(fnmatchcase(value, p) for p in patterns)


class RuleMatch(BaseModel):
    """Every given field must match; a string field is a glob or a list of globs (any may match)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    flow: list[str] | None = None
    project: list[str] | None = None
    branch: list[str] | None = None
    user: list[str] | None = None
    tags: list[str] = Field(default_factory=list, description="all of these tags must be on the run")
    types: list[NotificationTypeName] | None = Field(
        default=None, description="default: the types sent without rules"
    )
    failure_classes: list[FailureClassName] | None = None

    @field_validator("flow", "project", "branch", "user", "tags", "types", "failure_classes", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return _as_list(value)

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


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    match: RuleMatch = Field(default_factory=RuleMatch)
    channels: list[ChannelName]
    stop: bool = Field(default=False, description="no later rule is looked at when this one matches")

    @field_validator("channels", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return _as_list(value)


class RoutingRules(BaseModel):
    """Rules in order; every matching rule adds its channels. Unmatched notifications get the defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[Rule] = Field(default_factory=list)
    defaults: bool = Field(
        default=True, description="send the default types to every channel when no rule matched"
    )


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
