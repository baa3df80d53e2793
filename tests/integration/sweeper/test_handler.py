"""The sweeper Lambda handler as deployed: built from the environment once, one sweep per scheduled tick."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

from runwatch.services.ingest import Ingestor
from runwatch.settings import SweeperSettings
from runwatch.store.repository import StatusRepository
from runwatch.wiring import build_sweeper
from runwatch_dev.boto3_clients import Boto3Clients
from runwatch_dev.local.synth import EventFactory, RunSpec

APP = Path(__file__).resolve().parents[3] / "functions" / "sweeper" / "app.py"
SCHEDULED = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-27T06:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/runwatch-sweeper-tick"],
    "detail": {},
}


def _load_handler() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sweeper_app_under_test", APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_handler_sweeps_the_configured_table(table_name: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a task RUNNABLE for an hour (by the wall clock, which is what the handler uses)
    now = int(time.time() * 1000)
    spec = RunSpec(flow="HandlerFlow", run_id="1795000000000099")
    created = now - 60 * 60_000
    event = EventFactory().batch_job(
        spec,
        "start",
        "1",
        job_id="job-1",
        status="RUNNABLE",
        retry_count=0,
        at_ms=created,
        created_ms=created,
    )
    app = _load_handler()
    Ingestor(StatusRepository()).ingest(event)

    # When the schedule invokes the handler
    context = SimpleNamespace(
        function_name="runwatch-sweeper",
        memory_limit_in_mb=256,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:runwatch-sweeper",
        aws_request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    )
    result = app.handler(SCHEDULED, context)

    # Then one sweep ran: the stuck task was alerted, without asking AWS (placeholder credentials)
    assert (result["active_tasks"], result["stuck_alerts"], result["jobs_described"]) == (1, 1, 0)
    assert app._sweeper.jobs is None and app._sweeper.executions is None
    assert '"sweep_stuck_alerts"' in capsys.readouterr().out  # the EMF metrics blob


def test_reconcile_on_builds_the_aws_readers(table_name: str) -> None:
    on = SweeperSettings(table_name=table_name, reconcile="on")
    sweeper = build_sweeper(on, Boto3Clients(), clock=lambda: 0)
    assert sweeper.jobs is not None and sweeper.executions is not None
    # auto: the tests' placeholder credentials are not real ones
    auto = SweeperSettings(table_name=table_name, reconcile="auto")
    assert build_sweeper(auto, Boto3Clients(), clock=lambda: 0).jobs is None
