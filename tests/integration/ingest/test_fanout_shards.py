"""Consumers of one wide step that meet on its summary item: their retries land in the summary's shards, and
what readers get (the run detail's summaries, the run's compute) equals the in-order replay.

DynamoDB Local applies transactions one at a time, so it never answers TransactionConflict as DynamoDB does
when two transactions meet on an item; a lost bounds condition on the step's item is the real engine's own
way to refuse it. `BusyStepItem` adds the first: it refuses a share of the writes to a step's item before
sending them, as DynamoDB would; everything else is the real table.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

from runwatch.domain.run_state import RunKey
from runwatch.domain.step_summary import Bounds, StepChange
from runwatch.domain.task_state import AttemptState, TaskKey, TaskState
from runwatch.domain.usage import total
from runwatch.services.ingest import Ingestor
from runwatch.store.models import TableItem
from runwatch.store.repository import StatusRepository, StepBusy
from runwatch.store.run_queries import RunReader
from runwatch_dev.local.synth import RunSpec, simulate_run
from tests.integration.ingest.concurrent_consumers import apply_concurrently
from tests.unit.ingest.scenarios import replay

T0 = 1_795_000_000_000
ACCOUNT, REGION = "123456789012", "us-east-1"
WIDTH = 120
CONSUMERS = 4
BATCH = 30


class BusyStepItem(StatusRepository):
    """Refuses one write of a step's item in `every`, as DynamoDB refuses a transaction that meets another."""

    def __init__(self, every: int, seed: int) -> None:
        super().__init__()
        self.every = every
        self.rng = random.Random(seed)

    def save_tasks(
        self, writes: Sequence[tuple[TaskState, int | None]], change: StepChange | None, spread: bool = False
    ) -> list[int]:
        if change is not None and not spread and self.rng.randrange(self.every) == 0:
            self.write_requests += 1
            raise StepBusy("TransactionConflict on the step's item")
        return super().save_tasks(writes, change, spread)


def _task(task_id: str, stopped: int) -> TaskState:
    attempt = AttemptState(0, "SUCCEEDED", f"j{task_id}", T0, T0 + 10, stopped, exit_code=0)
    return TaskState(
        key=TaskKey("ShardFlow", "1", "train", task_id, account=ACCOUNT, region=REGION),
        orchestrator="batch",
        attempts=(attempt,),
    )


def _step_items(key: RunKey) -> list[str]:
    pk = f"RUN#{key.account}#{key.region}#{key.flow}#{key.run_id}"
    return [item.sk for item in TableItem.query(pk, TableItem.sk.startswith("STEP#"))]


def test_a_bounds_condition_lost_on_the_step_item_is_written_to_a_shard_and_read_merged(
    repository: StatusRepository,
) -> None:
    key = RunKey("ShardFlow", "1", account=ACCOUNT, region=REGION)
    wide, narrow = _task("1", T0 + 900), _task("2", T0 + 500)
    repository.save_tasks([(wide, None)], StepChange("train", {"status:succeeded": 1}, Bounds.of(wide)))
    other = StatusRepository()  # another container: it does not know the latest stop already stored

    change = StepChange("train", {"status:succeeded": 1}, Bounds.of(narrow))
    try:
        other.save_tasks([(narrow, None)], change)
        raise AssertionError("the narrower latest stop must lose on the step's item")
    except StepBusy:
        pass
    other.save_tasks([(narrow, None)], change, spread=True)

    (summary,) = RunReader().run_with_steps(key)[1]
    assert summary.task_counts == {"succeeded": 2}
    assert summary.bounds == Bounds(T0, T0 + 10, T0 + 900)
    items = _step_items(key)
    assert items[0] == "STEP#train" and len(items) == 2 and items[1].startswith("STEP#train#")


def test_concurrent_consumers_of_one_wide_step_end_in_the_in_order_summaries_through_shards(
    repository: StatusRepository,
) -> None:
    spec = RunSpec(flow="ShardFlow", run_id="2", fanout=WIDTH, start_ms=T0)
    in_order = simulate_run(spec, random.Random(5))
    delivered = [json.dumps(e) for e in in_order]
    random.Random(6).shuffle(delivered)
    consumers = [Ingestor(BusyStepItem(every=4, seed=n)) for n in range(CONSUMERS)]
    failed = apply_concurrently(consumers, delivered, BATCH)

    assert failed == []
    key = RunKey(spec.flow, spec.run_id, account=ACCOUNT, region=REGION)
    expected = replay(in_order)
    want = {step: summary for (_, _, step), summary in expected.steps.items()}
    _, summaries = RunReader().run_with_steps(key)
    assert {summary.step: summary for summary in summaries} == want
    assert repository.run_and_usage(key)[1] == total(summary.usage for summary in want.values())
    assert len(_step_items(key)) > len(want)  # some changes did land in shards
    assert sum(c.joins.conflicts for c in consumers) > 0
