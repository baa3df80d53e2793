"""What a batch of events has joined but not yet written: one pending state per item, and who caused it.

Events of one run come in bursts, so an SQS batch often holds several events of one task and many of one run.
Staging joins them in memory first (each item read once per batch) and lets the flush (joins.py) write each
changed item once, the tasks of one step in one transaction with their summed step change. Every pending
item remembers the messages that contributed to it, so a write that fails fails exactly those messages and
the rest of the batch still applies.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from runwatch.domain.run_state import RunKey, RunState
from runwatch.domain.task_state import TaskKey, TaskState
from runwatch.store.repository import Versioned


@dataclass(slots=True)
class Pending[S]:
    """One item's state in a batch: the stored state it joins into and the batch's observations of it."""

    base: Versioned | None  # as read (None: no item yet)
    observed: S  # the join of this batch's observations
    state: S  # base joined with observed
    messages: set[str] = field(default_factory=set)
    written_before: S | None = None  # once written: the state it replaced (None for a new item)
    written: bool = False

    @property
    def version(self) -> int | None:
        return self.base.version if self.base is not None else None

    @property
    def before(self) -> S | None:
        return self.base.state if self.base is not None else None

    def rebase(self, base: Versioned | None, merge: Callable[[S, S], S]) -> None:
        """Join the batch's observations into a newer stored state (after a lost race)."""
        self.base = base
        self.state = self.observed if base is None else merge(base.state, self.observed)

    def joined(self, observation: S, merge: Callable[[S, S], S]) -> None:
        self.observed = merge(self.observed, observation)
        self.state = merge(self.state, observation)

    def mark_written(self, version: int) -> None:
        self.written_before = self.before
        self.written = True
        self.base = Versioned(self.state, version)


@dataclass(slots=True)
class Staged:
    """A batch in the making. `message` is the message whose event is being applied now."""

    tasks: dict[TaskKey, Pending[TaskState]] = field(default_factory=dict)
    runs: dict[RunKey, Pending[RunState]] = field(default_factory=dict)
    # Read ahead for the batch (BatchGetItem); None: read, and no such item.
    read_tasks: dict[TaskKey, Versioned | None] = field(default_factory=dict)
    read_runs: dict[RunKey, Versioned | None] = field(default_factory=dict)
    # A task's run learns what the task tells once the task is written: (task, run identity, message).
    task_runs: list[tuple[TaskKey, RunState, str]] = field(default_factory=list)
    # Runs with a task the batch wrote as newly unfinished (new, or again after it had ended).
    reopened_runs: set[RunKey] = field(default_factory=set)
    # Done once the batch is written, unless that message failed (e.g. dropping a parked event it applied).
    after: list[tuple[str, Callable[[], None]]] = field(default_factory=list)
    # What a batch does once, however many of its events ask (e.g. reading an execution's parked events).
    done_once: set[Hashable] = field(default_factory=set)
    failed: dict[str, Exception] = field(default_factory=dict)
    message: str = ""

    def fail[S](self, pending: list[Pending[S]], error: Exception) -> None:
        """The messages behind these items failed: they are redelivered and applied again."""
        for item in pending:
            for message in item.messages:
                self.failed.setdefault(message, error)
