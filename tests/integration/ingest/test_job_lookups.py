"""Job lookups on DynamoDB Local: a batch's lookups go out in one BatchWriteItem per 25, one item per (job,
attempt); the lookup by job id reads the newest attempt, and still finds an item of the former `#JOB` shape.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from runwatch.domain.lookups import JobLookup, job_attempts
from runwatch.domain.run_state import RunKey
from runwatch.domain.task_state import TaskKey
from runwatch.services.ingest import Ingestor
from runwatch.services.ingest.views import JobLookupView
from runwatch.store import models
from runwatch.store.repository import StatusRepository
from runwatch.store.run_queries import RunReader
from runwatch_dev.local.synth import RunSpec, simulate_run

T0 = 1_795_000_000_000
TASK = TaskKey("TrainFlow", "sfn-1", "train", "7", account="123456789012", region="us-east-1")


class JobWrites:
    """The requests that write `JOB#` items, by operation, and the items each carried (a botocore hook)."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.items: list[int] = []

    def count(self, model: Any, params: dict[str, Any], **kwargs: Any) -> None:
        if model.name == "BatchWriteItem":
            puts = [
                w for ws in params["RequestItems"].values() for w in ws if _is_job(w["PutRequest"]["Item"])
            ]
            if puts:
                self.requests[model.name] += 1
                self.items.append(len(puts))
        elif model.name == "PutItem" and _is_job(params["Item"]):
            self.requests[model.name] += 1


def _is_job(item: dict[str, Any]) -> bool:
    return str(item["pk"]["S"]).startswith("JOB#")


@pytest.fixture
def job_writes(repository: StatusRepository) -> Iterator[JobWrites]:
    counter = JobWrites()
    events = models.JobItem._get_connection().connection.client.meta.events
    events.register("provide-client-params.dynamodb.*", counter.count, unique_id="job-writes")
    yield counter
    events.unregister("provide-client-params.dynamodb.*", unique_id="job-writes")


def _put_job(client: Any, table: str, job_id: str, sk: str, task: TaskKey, attempt: int) -> None:
    """A lookup item as stored, written raw (the former shape has no writer left)."""
    text = {
        "kind": "job",
        "flow": task.flow,
        "run_id": task.run_id,
        "step": task.step,
        "task_id": task.task_id,
        "account": task.account,
        "region": task.region,
    }
    item = {"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": sk}, "attempt": {"N": str(attempt)}}
    client.put_item(TableName=table, Item=item | {k: {"S": v} for k, v in text.items()})


def test_a_batch_writes_its_lookups_in_one_batch_write_per_25_and_each_job_finds_its_attempt(
    repository: StatusRepository, job_writes: JobWrites
) -> None:
    spec = RunSpec("TrainFlow", "1795000000001", fanout=30, start_ms=T0)
    ingestor = Ingestor(repository, run_views=(), task_views=[JobLookupView(repository)])

    result = ingestor.ingest_batch([(f"m-{i}", e) for i, e in enumerate(simulate_run(spec))])

    assert not result.failed
    assert job_writes.requests == {"BatchWriteItem": 2} and job_writes.items == [
        25,
        8,
    ]  # 33 tasks, a job each
    reader = RunReader()
    _, tasks = repository.run_with_tasks(
        RunKey(spec.flow, spec.run_id, account=TASK.account, region=TASK.region)
    )
    expected = {job: (task.key, n) for task in tasks for job, n in job_attempts(task).items()}
    assert len(expected) == 33
    found = {job: reader.job(job) for job in expected}
    assert {job: (ran.task, ran.attempt) for job, ran in found.items() if ran} == expected


def test_the_newest_attempt_of_a_job_wins_and_an_old_shape_item_is_read_until_newer_ones_exist(
    repository: StatusRepository, ddb_client: Any, table_name: str
) -> None:
    reader = RunReader()
    _put_job(ddb_client, table_name, "j-old", "#JOB", TASK, 1)

    old = reader.job("j-old")
    assert old is not None and (old.task, old.attempt) == (TASK, 1)
    assert reader.calls == 1

    _put_job(ddb_client, table_name, "j-old", "#JOB#0002", TASK, 2)
    newer = reader.job("j-old")
    assert newer is not None and newer.attempt == 2


def test_a_later_attempt_inside_the_same_job_wins_whatever_the_order_of_writes(
    repository: StatusRepository,
) -> None:
    reader = RunReader()
    for attempt in (2, 0, 11, 1):  # 11 after 2 as numbers, not as text
        repository.record_jobs([JobLookup("j-sfn", TASK, attempt)])
    repository.record_jobs([JobLookup("j-sfn", TASK, 3)] * 2)  # the same attempt twice in one request

    found = reader.job("j-sfn")

    assert found is not None and (found.task, found.attempt) == (TASK, 11)
    assert reader.job("j-never") is None
