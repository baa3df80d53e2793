"""`@parallel` (multi-node) jobs: the control task and every worker are tasks of their own."""

from __future__ import annotations

import random
from typing import Any

from runwatch.events.models import BatchJobDetail
from runwatch.events.multinode import job_container, node_index, task_of_job
from runwatch.json_fields import read_object
from runwatch_dev.local.synth import RunSpec
from runwatch_dev.local.synth_parallel import ParallelSpec, simulate_parallel_run
from tests.unit.ingest.scenarios import replay, run_of, snapshot, tasks_of

FLOW, RUN = "TorchFlow", "1795000000000777"


def _spec(outcomes: dict[int, list[str]], max_retries: int = 0, nodes: int = 3) -> ParallelSpec:
    run = RunSpec(FLOW, RUN, tags=("team:ml",), max_retries=max_retries, start_ms=1_795_000_000_000)
    return ParallelSpec(run, nodes=nodes, outcomes=outcomes)


def _details(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["detail"] for e in events if e["detail"]["parameters"].get("metaflow.step_name") == "train"]


def test_every_node_is_its_own_task_with_its_split_index() -> None:
    store = replay(simulate_parallel_run(_spec({}, nodes=4)))
    tasks = tasks_of(store, FLOW, RUN)
    train = {task_id: t for (step, task_id), t in tasks.items() if step == "train"}
    assert {task_id: (t.status, t.split_index) for task_id, t in train.items()} == {
        "control-2": ("succeeded", 0),
        "2-node-1": ("succeeded", 1),
        "2-node-2": ("succeeded", 2),
        "2-node-3": ("succeeded", 3),
    }
    control_job = train["control-2"].attempts[0].job_id
    assert control_job is not None and "#" not in control_job
    assert train["2-node-3"].attempts[0].job_id == f"{control_job}#3"
    assert run_of(store, FLOW, RUN).status == "succeeded"


def test_a_failing_worker_fails_with_its_own_reason_and_is_the_root_cause() -> None:
    store = replay(simulate_parallel_run(_spec({2: ["oom"]})))
    tasks = tasks_of(store, FLOW, RUN)
    worker = tasks[("train", "2-node-2")]
    assert worker.status == "failed"
    assert (worker.attempts[0].failure_class, worker.attempts[0].exit_code) == ("oom", 137)
    assert tasks[("train", "2-node-1")].status == "succeeded"
    assert tasks[("train", "control-2")].status == "failed"
    run = run_of(store, FLOW, RUN)
    assert run.status == "failed"
    assert run.failure is not None
    assert (run.failure.task_id, run.failure.failure_class) == ("2-node-2", "oom")


def test_a_job_retry_starts_every_node_again() -> None:
    store = replay(simulate_parallel_run(_spec({1: ["spot", "ok"]}, max_retries=1)))
    tasks = tasks_of(store, FLOW, RUN)
    worker = tasks[("train", "2-node-1")]
    assert [(a.attempt, a.status, a.failure_class) for a in worker.attempts] == [
        (0, "failed", "spot_reclaim"),
        (1, "succeeded", None),
    ]
    assert [a.status for a in tasks[("train", "2-node-2")].attempts] == ["succeeded", "succeeded"]
    assert [a.status for a in tasks[("train", "control-2")].attempts] == ["failed", "succeeded"]
    assert run_of(store, FLOW, RUN).status == "succeeded"


def test_job_level_events_alone_drive_the_control_task() -> None:
    events = simulate_parallel_run(_spec({}))
    job_level = [e for e in events if "nodeDetails" not in e["detail"]]
    tasks = tasks_of(replay(job_level), FLOW, RUN)
    assert ("train", "control-2") in tasks
    assert tasks[("train", "control-2")].status == "succeeded"
    assert not [key for key in tasks if key[1].startswith("2-node-")]


def test_main_node_and_job_events_join_into_one_attempt_in_either_order() -> None:
    events = simulate_parallel_run(_spec({}))
    main = [e for e in events if e["detail"].get("nodeDetails", {}).get("isMainNode")]
    job = [e for e in events if "nodeProperties" in e["detail"]]
    assert snapshot(replay(main + job)) == snapshot(replay(job + main))
    control = tasks_of(replay(main + job), FLOW, RUN)[("train", "control-2")]
    assert len(control.attempts) == 1


def test_shuffled_parallel_run_with_duplicates_ends_in_the_in_order_state() -> None:
    events = simulate_parallel_run(_spec({1: ["user_code", "ok"]}, max_retries=2, nodes=4))
    rng = random.Random(5)
    delivered = events + rng.sample(events, len(events) // 2)
    rng.shuffle(delivered)
    assert snapshot(replay(delivered)) == snapshot(replay(events))


def test_the_job_reads_its_command_from_the_main_node_range() -> None:
    parent = next(d for d in _details(simulate_parallel_run(_spec({}))) if "nodeProperties" in d)
    detail = read_object(parent, BatchJobDetail.read)
    assert not detail.container.command
    assert "--task-id control-2" in job_container(detail).command[-1]
    store = replay(simulate_parallel_run(_spec({})))
    assert run_of(store, FLOW, RUN).tags == ("team:ml",)
    assert tasks_of(store, FLOW, RUN)[("train", "control-2")].max_attempts == 1


def test_node_index_comes_from_node_details_or_the_job_id() -> None:
    base = {"jobName": "j", "jobQueue": "q", "status": "RUNNING", "parameters": {}}
    by_details = read_object(base | {"jobId": "abc#2", "nodeDetails": {"nodeIndex": 2}}, BatchJobDetail.read)
    by_id = read_object(base | {"jobId": "abc#5"}, BatchJobDetail.read)
    whole = read_object(base | {"jobId": "abc"}, BatchJobDetail.read)
    assert (node_index(by_details), node_index(by_id), node_index(whole)) == (2, 5, None)
    assert task_of_job(by_id, "control-9").task_id == "9-node-5"
    assert task_of_job(whole, "9").task_id == "9"
    assert task_of_job(whole, "9").split_index is None
