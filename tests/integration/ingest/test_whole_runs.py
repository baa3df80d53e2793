"""Whole runs ingested into DynamoDB Local: the stored state is what the rules say, in any order."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import boto3

from runwatch.domain.run_state import RunKey
from runwatch.services.ingest import Ingestor
from runwatch.settings import TableSettings
from runwatch.store.active import SweepReads
from runwatch.store.keyed_reads import index_entries
from runwatch.store.keys import RUN_SK, run_pk
from runwatch.store.models import RunItem
from runwatch.store.repository import StatusRepository
from runwatch.wiring import bind_table
from runwatch_dev.local.synth import RunSpec, simulate_run
from tests.unit.ingest.scenarios import queue_blocked_events

EVENTS = Path(__file__).resolve().parents[3] / "events"
T0 = 1_795_000_000_000


def _samples(folder: str) -> list[str]:
    return [p.read_text() for p in sorted((EVENTS / folder).glob("*.json"))]


def _ingest(repository: StatusRepository, events: list[Any]) -> list[str]:
    ingestor = Ingestor(repository)
    return [ingestor.ingest(e) for e in events]


def _run(repository: StatusRepository, flow: str, run_id: str) -> tuple[Any, dict[tuple[str, str], Any]]:
    run, tasks = repository.run_with_tasks(RunKey(flow, run_id, account="123456789012", region="us-east-1"))
    assert run is not None
    return run.state, {(t.key.step, t.key.task_id): t for t in tasks}


def test_local_sample_run(repository: StatusRepository) -> None:
    outcomes = _ingest(repository, _samples("local_run"))
    assert set(outcomes) == {"applied"}
    run, tasks = _run(repository, "FanoutFlow", "1795719352434625")
    assert (run.status, run.user, run.tags, run.project, run.branch, run.failure) == (
        "succeeded",
        "alice",
        ("team:ml",),
        None,
        None,
        None,
    )
    retried = tasks[("train", "3")]
    assert [(a.attempt, a.status, a.exit_code) for a in retried.attempts] == [
        (0, "failed", 1),
        (1, "succeeded", 0),
    ]
    assert retried.attempts[0].failure_class == "user_code"
    item = RunItem.get(run_pk("123456789012", "us-east-1", "FanoutFlow", "1795719352434625"), RUN_SK)
    # The sample holds no end for train/2's job (still running): the ended run stays in the sweeper's view.
    assert tasks[("train", "2")].status == "running"
    assert (item.status, item.status_pk, item.active_pk) == ("succeeded", "STATUS#succeeded", "ACTIVE#RUN")
    assert item.started_at == "2026-11-26T18:55:53.130Z" and item.finished_at == "2026-11-26T19:01:52.185Z"


def test_sfn_sample_runs_in_reverse_order(repository: StatusRepository) -> None:
    _ingest(repository, list(reversed(_samples("sfn_run"))) + list(reversed(_samples("sfn_failed_run"))))
    run, tasks = _run(repository, "FanoutFlow", "sfn-5f0b1d2e-8a4c-4f6e-9b3a-2c7d1e9f0a41")
    assert (run.status, run.user, run.owner, run.project, run.branch, run.production_token) == (
        "succeeded",
        None,
        "alice",
        "demo",
        "prod",
        "mfprj-6bd6l7aeg3fdxmyn-0-vzrf",
    )
    train = tasks[("train", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c32")]
    assert [(a.attempt, a.status) for a in train.attempts] == [(0, "failed"), (1, "succeeded")]
    failed, failed_tasks = _run(
        repository,
        "ScoringFlow",
        "sfn-8c1e5b7d-2f4a-7c3e-1d9b-6e2f0a4c8b13_90d3f7a1-6b2e-c4d8-5f1a-3e7b9c2d4a68",
    )
    assert failed.status == "failed"
    assert failed.failure is not None
    assert (
        failed.failure.step,
        failed.failure.task_id,
        failed.failure.attempt,
        failed.failure.exit_code,
    ) == (
        "score",
        "e5f6a7b8-c9d0-4e1f-a2b3-c4d5e6f7a885",
        1,
        1,
    )
    assert failed_tasks[("score", "e5f6a7b8-c9d0-4e1f-a2b3-c4d5e6f7a885")].status == "failed"


def test_foreign_events_store_nothing(repository: StatusRepository, ddb_client: Any, table_name: str) -> None:
    assert _ingest(repository, _samples("foreign")) == ["ignored", "parked"]
    items = ddb_client.scan(TableName=table_name)["Items"]  # a test may scan; request paths never do
    assert {i["pk"]["S"].split("#")[0] for i in items} == {"SFNEXEC"}


def _spec(run_id: str, **kw: Any) -> RunSpec:
    return RunSpec("TrainFlow", run_id, start_ms=T0, tags=("team:ml",), **kw)


SCENARIOS: list[tuple[RunSpec, str, str | None]] = [
    (_spec("1", fanout=5), "succeeded", None),
    (_spec("2", outcomes={"train": {1: ["spot", "ok"]}}), "succeeded", None),
    (_spec("3", outcomes={"train": {0: ["oom", "oom", "oom"]}}), "failed", "oom"),
    (_spec("4", fanout=8, max_retries=0, outcomes={"train": {0: ["user_code"]}}), "failed", "user_code"),
    (
        _spec(
            "sfn-5",
            orchestrator="step-functions",
            state_machine="TrainFlow",
            outcomes={"train": {0: ["spot", "ok"]}},
        ),
        "succeeded",
        None,
    ),
    (
        _spec(
            "sfn-6", orchestrator="step-functions", state_machine="TrainFlow", execution_outcome="TIMED_OUT"
        ),
        "timed_out",
        "timeout",
    ),
    (
        _spec("sfn-7", orchestrator="step-functions", state_machine="TrainFlow", execution_outcome="ABORTED"),
        "aborted",
        None,
    ),
    (
        _spec(
            "sfn-8",
            orchestrator="step-functions",
            state_machine="TrainFlow",
            outcomes={"train": {2: ["image_pull"] * 3}},
        ),
        "failed",
        "image_pull",
    ),
]


def test_scenarios_shuffled_with_duplicates(repository: StatusRepository) -> None:
    events = [e for spec, _, _ in SCENARIOS for e in simulate_run(spec)]
    rng = random.Random(11)
    delivered = events + rng.sample(events, len(events) // 5)
    rng.shuffle(delivered)
    _ingest(repository, [json.dumps(e) for e in delivered])
    for spec, status, failure_class in SCENARIOS:
        run, tasks = _run(repository, spec.flow, spec.run_id)
        assert run.status == status, spec.run_id
        assert (run.failure.failure_class if run.failure else None) == failure_class, spec.run_id
        if spec.run_id == "4":
            assert "killed" in {t.status for t in tasks.values()}
            assert (
                run.failure is not None and tasks[(run.failure.step, run.failure.task_id)].status == "failed"
            )


def test_every_run_is_listed_by_flow_and_status(repository: StatusRepository) -> None:
    for spec, _, _ in SCENARIOS[:4]:
        _ingest(repository, simulate_run(spec))
    by_flow = list(RunItem.by_flow_index.query("FLOW#TrainFlow", scan_index_forward=False))
    assert len(by_flow) == 4
    failed = list(RunItem.by_status_index.query("STATUS#failed"))
    assert sorted(i.run_id for i in failed) == ["3", "4"]
    # Every run ended with every task finished. A run written when it failed, while a sibling task still ran,
    # stays in the sweeper's view until a sweep finds its steps count no unfinished task and takes it out.
    reads = SweepReads()
    assert reads.active_runs() == [] and reads.active_tasks() == []
    assert index_entries(RunItem.active_index, "ACTIVE#RUN") == []


def test_queue_blocked_event_marks_pending_tasks(repository: StatusRepository) -> None:
    reason = (
        "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - Service cannot fulfill the capacity requested for"
        " instance type [p4d.24xlarge]"
    )
    _ingest(repository, queue_blocked_events(_spec("9", fanout=2), reason, T0))
    _, tasks = _run(repository, "TrainFlow", "9")
    assert {t.blocked_reason for t in tasks.values()} == {reason}


def test_described_state_machine_identifies_an_execution_at_once(repository: StatusRepository) -> None:
    class Inspector:
        def __init__(self) -> None:
            self.asked: list[str] = []

        def flow_of(self, arn: str) -> str | None:
            self.asked.append(arn)
            return "TrainFlow" if arn.endswith(":TrainFlow") else None

    spec = _spec("sfn-10", orchestrator="step-functions", state_machine="TrainFlow")
    execution_running = simulate_run(spec)[0]
    inspector = Inspector()
    ingestor = Ingestor(repository, inspector=inspector)
    assert ingestor.ingest(execution_running) == "applied"
    assert _run(repository, "TrainFlow", "sfn-10")[0].status == "running"
    foreign = json.loads((EVENTS / "foreign" / "02_sfn_execution_FAILED_non_metaflow.json").read_text())
    assert ingestor.ingest(foreign) == "ignored"
    assert (
        Ingestor(repository, inspector=inspector).ingest(foreign) == "ignored"
    )  # verdict stored, not re-asked
    assert len(inspector.asked) == 2


def test_describe_state_machine_inspector_uses_metaflows_own_test() -> None:
    from moto import mock_aws

    from runwatch.aws.state_machines import DescribeStateMachineInspector

    data = Path(__file__).resolve().parents[2] / "data"
    with mock_aws():
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        role = "arn:aws:iam::123456789012:role/sfn"
        metaflow = sfn.create_state_machine(
            name="ScoringFlow",
            definition=(data / "sfn_state_machine_ScoringFlow.json").read_text(),
            roleArn=role,
        )["stateMachineArn"]
        other = sfn.create_state_machine(
            name="etl",
            definition=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}),
            roleArn=role,
        )["stateMachineArn"]
        inspector = DescribeStateMachineInspector(sfn)
        assert inspector.flow_of(metaflow) == "ScoringFlow"
        assert inspector.flow_of(other) is None


def test_a_not_metaflow_verdict_is_asked_again_after_a_day(table_name: str, dynamodb_local: Any) -> None:
    """A state machine can be redeployed by Metaflow under the same name: negative verdicts expire."""
    now = [T0]
    settings = TableSettings(table_name=table_name, dynamodb_endpoint=dynamodb_local.endpoint)
    repository = bind_table(settings, clock=lambda: now[0])
    answers = [None, "TrainFlow"]

    class Inspector:
        def flow_of(self, arn: str) -> str | None:
            return answers.pop(0)

    spec = _spec("sfn-11", orchestrator="step-functions", state_machine="TrainFlow")
    running = simulate_run(spec)[0]
    ingestor = Ingestor(repository, inspector=Inspector())
    assert ingestor.ingest(running) == "ignored"
    assert ingestor.ingest(running) == "ignored"  # within the day: the stored verdict, not asked again
    now[0] += 2 * 86_400_000
    assert ingestor.ingest(running) == "applied"
    assert answers == []
    assert _run(repository, "TrainFlow", "sfn-11")[0].status == "running"


def test_parallel_sample_run_shuffled_with_duplicates(repository: StatusRepository) -> None:
    samples = _samples("parallel_run")
    delivered = samples + samples[::3]
    random.Random(14).shuffle(delivered)
    _ingest(repository, delivered)
    run, tasks = _run(repository, "TorchFlow", "1795733100123456")
    train = {task_id: t for (step, task_id), t in tasks.items() if step == "train"}
    assert {task_id: (t.status, t.split_index) for task_id, t in train.items()} == {
        "control-2": ("failed", 0),
        "2-node-1": ("succeeded", 1),
        "2-node-2": ("failed", 2),
    }
    assert (run.status, run.failure.task_id, run.failure.failure_class, run.failure.exit_code) == (
        "failed",
        "2-node-2",
        "user_code",
        1,
    )
    assert set(_ingest(repository, samples)) == {"duplicate"}
