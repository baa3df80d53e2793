"""Lost events found by the sweeper: AWS is asked (moto) and the answer is ingested like the lost event."""

from __future__ import annotations

from typing import Any

from runwatch.aws.batch_jobs import BatchJobs
from runwatch.aws.executions import StepFunctionsExecutions
from runwatch.domain.run_state import RunKey
from runwatch.domain.task_state import TaskKey
from runwatch.events.described import batch_job_event
from runwatch.services.ingest import Ingestor
from runwatch.store.repository import StatusRepository
from runwatch_dev.local.synth import RunSpec
from tests.integration.sweeper.conftest import Clock, make_sweeper, sample
from tests.integration.sweeper.moto_aws import MotoBatch, MotoStepFunctions

MINUTE = 60_000
SFN_RUN = RunKey(
    "FanoutFlow", "sfn-5f0b1d2e-8a4c-4f6e-9b3a-2c7d1e9f0a41", account="123456789012", region="us-east-1"
)


def _ingest(repository: StatusRepository, events: list[dict[str, Any]]) -> list[str]:
    ingestor = Ingestor(repository)
    return [ingestor.ingest(event) for event in events]


def test_lost_succeeded_execution_event_is_reconciled(
    repository: StatusRepository, clock: Clock, sfn_client: Any
) -> None:
    # Given a Step Functions run whose SUCCEEDED event was lost (best-effort delivery)
    _ingest(
        repository,
        [sample(f"sfn_run/{name}.json") for name in ("01_execution_RUNNING", "05_end_job_SUCCEEDED")],
    )
    lost = sample("sfn_run/06_execution_SUCCEEDED.json")["detail"]
    aws = MotoStepFunctions(sfn_client)
    arn = aws.start(aws.create_machine("demo.prod.FanoutFlow"), lost["name"], lost["startDate"])
    aws.finish(arn, "SUCCEEDED", lost["stopDate"], lost["output"])
    run = repository.load_run(SFN_RUN)
    assert run is not None and run.state.status == "running"
    executions = StepFunctionsExecutions(sfn_client)
    sweeper = make_sweeper(repository, executions=executions)

    # When a sweep runs before the run has been quiet for RECONCILE_AFTER_MINUTES, nothing is asked
    early = sweeper.sweep(lost["stopDate"] + 5 * MINUTE)
    assert (early.executions_described, executions.calls) == (0, 0)

    # When a sweep runs after it has been quiet long enough
    report = sweeper.sweep(lost["stopDate"] + 16 * MINUTE)

    # Then DescribeExecution's answer went through ingest: the run succeeded, with the real stop time
    assert (report.executions_described, report.reconciled, report.reconcile_errors) == (1, 1, 0)
    run = repository.load_run(SFN_RUN)
    assert run is not None
    assert (run.state.status, run.state.finished_at) == ("succeeded", lost["stopDate"])
    # And a finished run leaves the active index, so the next sweep asks nothing more
    again = sweeper.sweep(lost["stopDate"] + 21 * MINUTE)
    assert (again.active_runs, again.executions_described, executions.calls) == (0, 0, 1)


def test_lost_job_events_are_reconciled_from_describe_jobs(
    repository: StatusRepository, clock: Clock, batch_client: Any
) -> None:
    # Given a local run whose end task was last seen RUNNABLE, while Batch has finished it
    batch = MotoBatch(batch_client)
    spec = RunSpec(flow="ReconFlow", run_id="1795000000000001")
    job_id = batch.submit(spec, "end", task_id="7")
    finished = batch.describe(job_id)
    runnable = batch_job_event(
        {
            **{k: v for k, v in finished.items() if k not in ("attempts", "startedAt", "stoppedAt")},
            "status": "RUNNABLE",
        },
        0,
    )
    assert _ingest(repository, [runnable]) == ["applied"]
    jobs = BatchJobs(batch_client)
    sweeper = make_sweeper(repository, jobs=jobs)

    # When the sweeper runs once the task has been quiet for 16 minutes
    report = sweeper.sweep(finished["createdAt"] + 16 * MINUTE)

    # Then one DescribeJobs call told what the lost events would have: the task and its run succeeded
    assert (report.jobs_described, report.jobs_missing, report.reconciled, jobs.calls) == (1, 0, 1, 1)
    task = repository.load_task(
        TaskKey("ReconFlow", "1795000000000001", "end", "7", account="123456789012", region="us-east-1")
    )
    run = repository.load_run(
        RunKey("ReconFlow", "1795000000000001", account="123456789012", region="us-east-1")
    )
    assert task is not None and run is not None
    assert (task.state.status, run.state.status) == ("succeeded", "succeeded")
    assert task.state.last_event_at == finished["stoppedAt"]
