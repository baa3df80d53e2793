"""What-if: the ingest bench with the step summaries' transactions taken out, to size what they cost.

Ingest writes a step's changed tasks and the sum of their changes to the step's summary in one transaction
(docs/design.md §4), and DynamoDB bills every item and index entry of a transaction twice. Here the same
consumers, events and DynamoDB Local write each task alone, conditional on its version as before, and the
step's change in an UpdateItem after its tasks: about the writes of the design that design.md sketches and
does not build (task writes alone, and a consumer of the table's stream adding their changes to the steps,
one UpdateItem per step and batch). Everything else ingest writes (runs and their listing entries, job
lookups, tag items, the task indexes) is unchanged.

It keeps the writes, not the exactness: a crash between a task's put and its step's update would lose that
change, and a lost race may count one twice. So the step summaries are not compared here; the runs and tasks
are, as in the ingest bench. `make bench BENCH="ingest untransacted"` measures both on one DynamoDB Local (the
what-if is not part of a plain `make bench`); its metrics are the ingest bench's, prefixed `untransacted.`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench import ingest
from runwatch.domain.step_summary import StepChange
from runwatch.domain.task_state import TaskKey, TaskState
from runwatch.settings import TableSettings
from runwatch.store.keys import run_pk, step_sk
from runwatch.store.models import StepItem
from runwatch.store.records import expiry, task_to_item
from runwatch.store.repository import Conflict, StaleItems, StatusRepository
from runwatch.store.repository import _step_update as step_update
from runwatch.wiring import bind_table
from runwatch_dev.local.dynamodb_local import DynamoDBLocal


class UntransactedRepository(StatusRepository):
    """save_tasks without the transaction: a conditional put per task, then the step's change alone."""

    def __init__(self, retention_days: int) -> None:
        super().__init__(retention_days)
        # What this process put last per task, at its new version: after a lost race the caller sends the whole
        # part again (at the versions it had, or as read again), and a task already put at that state is not
        # put twice (a transaction would have put none of them).
        self._put: dict[TaskKey, tuple[TaskState, int]] = {}

    def save_tasks(
        self, writes: Sequence[tuple[TaskState, int | None]], change: StepChange | None, spread: bool = False
    ) -> list[int]:
        versions: list[int] = []
        stale: set[int] = set()
        for position, (state, version) in enumerate(writes):
            done = self._put.get(state.key)
            if done is not None and done[0] == state and done[1] in ((version or 0) + 1, version):
                versions.append(done[1])
                continue
            item = task_to_item(state, version, self.clock(), self.retention_days)
            try:
                self._write(item.save)
            except Conflict:
                stale.add(position)
                versions.append(-1)
                continue
            self._put[state.key] = (state, int(item.version))
            versions.append(int(item.version))
        if change is not None and not change.is_empty:
            self._update_step(writes[0][0], change)
        if stale:
            raise StaleItems("tasks changed meanwhile", frozenset(stale))
        return versions

    def _update_step(self, task: TaskState, change: StepChange) -> None:
        key = task.key
        pk = run_pk(key.account, key.region, key.flow, key.run_id)
        expires = expiry(self.clock(), self.retention_days)
        bounds = self._unknown_bounds(pk, change)
        actions, condition = step_update(change, expires, bounds)
        target = StepItem(pk, step_sk(change.step))
        try:
            self._write(lambda: target.update(actions=actions, condition=condition))
        except Conflict:  # a bound was already wider: the counters alone
            if change.deltas:
                counters, _ = step_update(change, expires, [])
                self._write(lambda: target.update(actions=counters))
        for attribute, value, _ in bounds:  # stored at least this wide either way
            self._known_bounds[(pk, change.step, attribute.attr_name)] = value


def _untransacted(settings: TableSettings) -> StatusRepository:
    bind_table(settings)  # binds the models; its repository is replaced
    return UntransactedRepository(settings.retention_days)


def run(ddb: DynamoDBLocal) -> dict[str, dict[str, Any]]:
    """The ingest bench's passes (same runs, seeds and consumers) on the untransacted repository."""
    ingest._ingest(ddb, ingest.WARM_UP_RUNS, seed=11, repository_for=_untransacted)
    results = ingest._ingest(ddb, ingest.RUNS, seed=7, repository_for=_untransacted)
    return {
        "untransacted." + name.removeprefix("ingest."): figure
        for name, figure in results.items()
        if name.startswith("ingest.")
    }
