"""The cost what-if of bench/untransacted.py writes what ingest writes, without a transaction: each task alone,
conditional on its version, then the step's change in one UpdateItem; a part sent again after a lost race
does not put its written tasks twice."""

from __future__ import annotations

import pytest

from bench.capacity import CapacityMeter
from bench.untransacted import UntransactedRepository
from runwatch.domain.run_state import RunKey
from runwatch.domain.step_summary import Bounds, StepChange, combined, step_change
from runwatch.domain.task_state import AttemptState, TaskKey, TaskState
from runwatch.settings import TableSettings
from runwatch.store import models
from runwatch.store.repository import StaleItems
from runwatch.store.run_queries import RunReader
from runwatch.wiring import bind_table
from runwatch_dev.local.dynamodb_local import DynamoDBLocal

T0 = 1_795_000_000_000
ACCOUNT, REGION = "123456789012", "us-east-1"


def _task(task_id: str, status: str = "SUCCEEDED") -> TaskState:
    stopped = T0 + 100 if status == "SUCCEEDED" else None
    attempt = AttemptState(0, status, f"j{task_id}", T0, T0 + 10, stopped, exit_code=0 if stopped else None)
    return TaskState(
        key=TaskKey("WhatIfFlow", "1", "train", task_id, account=ACCOUNT, region=REGION),
        orchestrator="batch",
        attempts=(attempt,),
    )


@pytest.fixture
def what_if(table_name: str, dynamodb_local: DynamoDBLocal) -> tuple[UntransactedRepository, CapacityMeter]:
    bind_table(TableSettings(table_name=table_name, dynamodb_endpoint=dynamodb_local.endpoint))
    meter = CapacityMeter()
    meter.attach(models.TableItem._get_connection().connection.client)
    return UntransactedRepository(retention_days=90), meter


def test_tasks_are_put_alone_and_the_steps_change_follows_them(
    what_if: tuple[UntransactedRepository, CapacityMeter],
) -> None:
    repository, meter = what_if
    tasks = [_task("1"), _task("2")]

    versions = repository.save_tasks(
        [(t, None) for t in tasks], combined(step_change(None, t) for t in tasks)
    )

    assert versions == [1, 1]
    assert meter.requests == {"PutItem": 2, "UpdateItem": 1}
    (summary,) = RunReader().run_with_steps(RunKey("WhatIfFlow", "1", account=ACCOUNT, region=REGION))[1]
    assert summary.task_counts == {"succeeded": 2}
    assert summary.bounds == Bounds(T0, T0 + 10, T0 + 100)


def test_a_part_sent_again_after_a_lost_race_puts_only_what_was_not_put(
    what_if: tuple[UntransactedRepository, CapacityMeter],
) -> None:
    repository, meter = what_if
    repository.save_tasks([(_task("2", "RUNNING"), None)], None)  # another consumer wrote task 2 first
    done = [_task("1"), _task("2")]
    change = StepChange("train", {}, Bounds())

    with pytest.raises(StaleItems) as lost:
        repository.save_tasks([(done[0], None), (done[1], None)], change)
    assert lost.value.stale == frozenset({1})
    assert repository.save_tasks([(done[0], None), (done[1], 1)], change) == [1, 2]

    assert meter.requests["PutItem"] == 4  # the rival's, task 1 once, and task 2's losing put and its retry
