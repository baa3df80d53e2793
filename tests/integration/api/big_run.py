"""A run with one very wide foreach, written straight into the table (ingesting 20,000 events takes minutes).

Tasks are written with BatchWriteItem as the store converts them, and each step's summary is the recount of
its tasks applied as one change through the store's own transactional write, so what the API reads is what
ingest would have kept (tests/unit/ingest checks that kept summaries equal the recount).
"""

from __future__ import annotations

from dataclasses import dataclass

from runwatch.domain.run_state import RunKey, RunState
from runwatch.domain.step_summary import StepChange, recount
from runwatch.domain.task_state import AttemptState, TaskKey, TaskState
from runwatch.store.models import TaskItem
from runwatch.store.records import task_to_item
from runwatch.store.repository import StatusRepository

T0 = 1_795_000_000_000
FLOW = "SweepFlow"
RUN_ID = "1795000000000777"
ACCOUNT = "123456789012"
REGION = "us-east-1"


@dataclass(frozen=True, slots=True)
class BigRun:
    key: RunKey
    width: int
    failed_split: int  # the one failed task of the foreach
    running_splits: tuple[int, ...]
    retrying_split: int

    def task_id(self, split: int) -> str:
        # Ids that do not sort as text the way they sort as numbers: 2, 3, ..., 10, 11, ...
        return str(split + 2)


def _attempts(big: BigRun, split: int) -> tuple[AttemptState, ...]:
    created = T0 + 60_000 + split
    started = created + 5_000
    if split == big.failed_split:
        return (AttemptState(0, "FAILED", f"j{split}", created, started, started + 90_000, exit_code=1),)
    if split in big.running_splits:
        return (AttemptState(0, "RUNNING", f"j{split}", created, started),)
    if split == big.retrying_split:
        failed = AttemptState(0, "FAILED", f"j{split}a", created, started, started + 1_000, exit_code=1)
        return (failed, AttemptState(1, "RUNNABLE", f"j{split}b", started + 2_000))
    return (
        AttemptState(
            0, "SUCCEEDED", f"j{split}", created, started, started + 30_000 + split * 7, exit_code=0
        ),
    )


def big_tasks(big: BigRun) -> list[TaskState]:
    def task(step: str, task_id: str, split: int | None, attempts: tuple[AttemptState, ...]) -> TaskState:
        return TaskState(
            key=TaskKey(
                big.key.flow,
                big.key.run_id,
                step,
                task_id,
                account=big.key.account,
                region=big.key.region,
            ),
            orchestrator="batch",
            attempts=attempts,
            max_attempts=1 if split == big.failed_split else 3,  # the failed one had no retries left
            split_index=split,
        )

    start = (AttemptState(0, "SUCCEEDED", "j-start", T0, T0 + 1_000, T0 + 50_000, exit_code=0),)
    tasks = [task("start", "1", None, start)]
    tasks += [task("train", big.task_id(i), i, _attempts(big, i)) for i in range(big.width)]
    return tasks


def seed_big_run(repository: StatusRepository, width: int = 10_000, run_id: str = RUN_ID) -> BigRun:
    big = BigRun(
        RunKey(FLOW, run_id, account=ACCOUNT, region=REGION), width, width // 2, (3, width - 2), width - 5
    )
    repository.save_run(RunState(key=big.key, orchestrator="batch", user="alice", first_seen_at=T0), None)
    tasks = big_tasks(big)
    last_of_step = {t.key.step: t for t in tasks}
    now = repository.clock()
    with TaskItem.batch_write() as batch:
        for state in tasks:
            if last_of_step[state.key.step] is not state:
                batch.save(task_to_item(state, None, now, repository.retention_days))
    for step, state in last_of_step.items():
        summary = recount(step, [t for t in tasks if t.key.step == step])
        repository.save_task(state, None, StepChange(step, dict(summary.counters), summary.bounds))
    return big
