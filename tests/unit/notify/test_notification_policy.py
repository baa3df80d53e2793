"""Which changes are notified and where they are routed (pure rules)."""

from __future__ import annotations

import pytest

from runwatch.domain.notification_policy import (
    RoutingRules,
    Rule,
    RuleMatch,
    Subject,
    newly_retried_attempts,
    route,
    run_notification_type,
    run_transition_key,
)
from runwatch.domain.task_state import AttemptState, TaskKey, TaskState
from runwatch.json_fields import read_object

ALL = ("slack", "webhook", "sns")
OOM = {"container_reason": "OutOfMemoryError: Container killed", "exit_code": 137}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (None, "failed", "run.failed"),
        ("running", "failed", "run.failed"),
        ("running", "timed_out", "run.timed_out"),
        ("running", "aborted", "run.aborted"),
        ("running", "succeeded", "run.succeeded"),
        ("unknown", "failed", "run.failed"),
        ("failed", "failed", None),
        (None, "running", None),
        ("running", "unknown", None),
        ("failed", "running", None),
    ],
)
def test_run_transitions(old: str | None, new: str, expected: str | None) -> None:
    assert run_notification_type(old, new) == expected


def test_a_redriven_run_failing_again_is_a_new_transition() -> None:
    assert run_transition_key("run.failed", 0) != run_transition_key("run.failed", 1)


def _task(*attempts: AttemptState, max_attempts: int = 3) -> TaskState:
    return TaskState(
        TaskKey("F", "1", "train", "3", account="123456789012", region="us-east-1"),
        "batch",
        attempts=attempts,
        max_attempts=max_attempts,
    )


def _failed(n: int, **why: object) -> AttemptState:
    return AttemptState(n, "FAILED", stopped_at=1000 + n, **why)  # type: ignore[arg-type]


def test_an_infra_failure_followed_by_a_new_attempt_is_a_retry() -> None:
    before = _task(_failed(0, **OOM))
    after = _task(_failed(0, **OOM), AttemptState(1, "RUNNABLE"))

    assert newly_retried_attempts(before, after) == [0]
    assert newly_retried_attempts(after, after) == [], "the same retry is not told twice"


def test_the_failure_may_be_recorded_after_the_next_attempt_appeared() -> None:
    before = _task(AttemptState(0, "RUNNING"), AttemptState(1, "RUNNABLE"))
    after = _task(
        _failed(0, status_reason="Host EC2 (instance i-1) terminated."), AttemptState(1, "RUNNABLE")
    )

    assert newly_retried_attempts(before, after) == [0]


def test_user_code_failures_and_last_attempts_are_not_retries() -> None:
    user_code = _task(_failed(0, exit_code=1), AttemptState(1, "RUNNING"))
    last = _task(_failed(0, **OOM))

    assert newly_retried_attempts(None, user_code) == []
    assert newly_retried_attempts(None, last) == []


def _subject(**fields: object) -> Subject:
    base: dict[str, object] = {
        "type": "run.failed",
        "flow": "TrainFlow",
        "project": "churn",
        "branch": "prod",
        "user": "alice",
    }
    return Subject(**{**base, **fields})  # type: ignore[arg-type]


def test_without_rules_default_types_go_everywhere_and_opt_in_types_nowhere() -> None:
    rules = RoutingRules()

    for kind in ("run.failed", "run.timed_out", "run.aborted", "task.stuck", "run.late"):
        assert route(rules, _subject(type=kind), ALL) == ALL
    assert route(rules, _subject(type="run.succeeded"), ALL) == ()
    assert route(rules, _subject(type="task.retrying"), ALL) == ()
    assert route(rules, _subject(), ("webhook",)) == ("webhook",), "only configured channels"


def test_rules_match_on_every_field() -> None:
    rule = read_object(
        {
            "flow": "Train*",
            "project": ["churn", "ads"],
            "branch": "prod*",
            "user": "alice",
            "tags": ["team:ml"],
            "types": ["run.failed", "task.retrying"],
            "failure_classes": ["oom"],
        },
        RuleMatch.read,
    )
    match = _subject(tags=("team:ml", "x"), failure_class="oom")

    assert rule.matches(match)
    assert rule.matches(_subject(type="task.retrying", tags=("team:ml",), failure_class="oom"))
    for miss in (
        {"flow": "ScoreFlow"},
        {"project": "other"},
        {"project": None},
        {"branch": "test.x"},
        {"user": "bob"},
        {"tags": ("x",)},
        {"type": "run.aborted"},
        {"failure_class": "user_code"},
        {"failure_class": None},
    ):
        assert not rule.matches(_subject(**{"tags": ("team:ml",), "failure_class": "oom", **miss})), miss


def test_matching_rules_replace_the_defaults_and_add_up() -> None:
    rules = RoutingRules.from_json(
        {
            "rules": [
                {"match": {"project": "churn"}, "channels": ["webhook"]},
                {"match": {"branch": "prod"}, "channels": "sns"},
                {"match": {"types": ["run.succeeded"], "flow": "Train*"}, "channels": ["slack"]},
            ]
        }
    )

    assert route(rules, _subject(), ALL) == ("webhook", "sns")
    assert route(rules, _subject(project="ads", branch="test"), ALL) == ALL, "no rule matched: defaults"
    assert route(rules, _subject(type="run.succeeded"), ALL) == ("slack",)
    assert route(rules, _subject(type="run.succeeded", flow="Other"), ALL) == ()


def test_a_stop_rule_can_mute_a_flow() -> None:
    rules = RoutingRules(
        rules=[
            Rule(match=RuleMatch(flow=["Scratch*"]), channels=[], stop=True),
            Rule(match=RuleMatch(), channels=["slack"]),
        ]
    )

    assert route(rules, _subject(flow="ScratchFlow"), ALL) == ()
    assert route(rules, _subject(), ALL) == ("slack",)


def test_defaults_can_be_switched_off() -> None:
    assert route(RoutingRules(defaults=False), _subject(), ALL) == ()
