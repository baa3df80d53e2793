"""Steps: a run's tasks grouped by step, each step's status, and the order steps and tasks are shown in.

Rules shared by every reader of a run (the API's run detail today, a step summary kept on ingest later):
- a step's status is the most telling of its tasks': a failure shows first, then activity, then waiting;
- steps are ordered by the earliest attempt creation time of their tasks (ties by name, never-created last);
- tasks by split index (foreach position), then task id, numerically when it is all digits.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from runwatch.domain.task_state import TaskState
from runwatch.domain.vocab import TASK_STATUSES

STEP_STATUSES = ("failed", "running", "pending", "killed", "succeeded")

_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class StepState:
    """One step of a run: its status, how many tasks are in each status (present ones only), its tasks."""

    name: str
    status: str
    task_counts: dict[str, int]
    tasks: tuple[TaskState, ...]


def step_status(task_statuses: Iterable[str]) -> str:
    """A step's status from its tasks': failed, else running, else pending, else killed, else succeeded."""
    present = set(task_statuses)
    if "failed" in present:
        return "failed"
    if present & {"running", "starting"}:
        return "running"
    if present & {"pending", "retrying"}:
        return "pending"
    if "killed" in present:
        return "killed"
    return "succeeded"


def task_counts(task_statuses: Iterable[str]) -> dict[str, int]:
    """Tasks per status, in the vocabulary's order, statuses with no task left out."""
    counts = Counter(task_statuses)
    return {status: counts[status] for status in TASK_STATUSES if counts[status]}


def natural_key(task_id: str) -> tuple[int, int, str]:
    """Digit ids sort as numbers ("2" before "10") and before any other id."""
    if _DIGITS.fullmatch(task_id):
        return (0, int(task_id), "")
    return (1, 0, task_id)


def task_order(state: TaskState) -> tuple[bool, int, tuple[int, int, str]]:
    """Sort key of a task within its step: split index first (none last), then its id."""
    return (state.split_index is None, state.split_index or 0, natural_key(state.key.task_id))


def first_created(tasks: Iterable[TaskState]) -> int | None:
    """When the step's first attempt was created, None if none has been."""
    times = [a.created_at for s in tasks for a in s.attempts if a.created_at is not None]
    return min(times) if times else None


def build_steps(tasks: Iterable[TaskState]) -> list[StepState]:
    """A run's tasks grouped into its steps, steps and tasks in display order."""
    by_step: dict[str, list[TaskState]] = {}
    for state in tasks:
        by_step.setdefault(state.key.step, []).append(state)

    def step_order(name: str) -> tuple[bool, int, str]:
        first = first_created(by_step[name])
        return (first is None, first or 0, name)

    steps = []
    for name in sorted(by_step, key=step_order):
        states = tuple(sorted(by_step[name], key=task_order))
        statuses = [state.status for state in states]
        steps.append(StepState(name, step_status(statuses), task_counts(statuses), states))
    return steps
