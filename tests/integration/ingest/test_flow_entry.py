"""The flow's entry points at its newest run; a run this process knows to be older is not sent at all."""

from __future__ import annotations

from runwatch.domain.run_state import RunKey, RunState
from runwatch.settings import TableSettings
from runwatch.store.repository import StatusRepository
from runwatch.store.run_queries import RunReader
from runwatch.wiring import bind_table
from runwatch_dev.local.dynamodb_local import DynamoDBLocal

T0 = 1_795_000_000_000


def _run(run_id: str, started_at: int) -> RunState:
    key = RunKey("TrainFlow", run_id, account="123456789012", region="us-east-1")
    return RunState(key, "batch", first_seen_at=started_at)


def _entry() -> str:
    page = RunReader().flows(limit=10)
    return next(key.run_id for key in page.items if key.flow == "TrainFlow")


def test_an_older_run_is_not_written_once_a_newer_one_is_known(repository: StatusRepository) -> None:
    repository.record_flow_run(_run("2", T0 + 1000))
    sent = repository.write_requests

    repository.record_flow_run(_run("1", T0))
    repository.record_flow_run(_run("2", T0 + 1000))

    assert repository.write_requests == sent
    assert _entry() == "2"
    repository.record_flow_run(_run("3", T0 + 2000))
    assert repository.write_requests == sent + 1
    assert _entry() == "3"


def test_a_put_lost_to_another_process_is_remembered(
    repository: StatusRepository, table_name: str, dynamodb_local: DynamoDBLocal
) -> None:
    other = bind_table(TableSettings(table_name=table_name, dynamodb_endpoint=dynamodb_local.endpoint))
    other.record_flow_run(_run("9", T0 + 9000))

    repository.record_flow_run(_run("5", T0 + 5000))  # sent, and refused: the entry holds a newer run
    sent = repository.write_requests
    repository.record_flow_run(_run("4", T0 + 4000))

    assert repository.write_requests == sent
    assert _entry() == "9"
