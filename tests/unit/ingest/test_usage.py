"""Compute used: resources read from each form a Batch event gives them in, usage per attempt, exact sums."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from runwatch.domain.task_state import AttemptState
from runwatch.domain.usage import MS_PER_HOUR, Prices, UsageHours, UsageTotals, attempt_usage
from runwatch.events.batch import observe_job, resources_of
from runwatch.events.models import BatchJobDetail, JobContainer
from runwatch.json_fields import read_object

EVENTS = Path(__file__).resolve().parents[3] / "events"
T0 = 1_795_000_000_000


def _container(**fields: Any) -> JobContainer:
    return read_object(fields, JobContainer.read)


def test_resource_requirements_then_the_older_fields() -> None:
    modern = _container(
        resourceRequirements=[
            {"type": "VCPU", "value": "0.25"},
            {"type": "MEMORY", "value": "2048"},
            {"type": "GPU", "value": "1"},
        ],
        vcpus=8,
        memory=99,
    )
    older = _container(vcpus=4, memory=16384)
    r = resources_of(modern)
    assert (r.vcpu, r.memory_mib, r.gpu) == (0.25, 2048, 1)
    r = resources_of(older)
    assert (r.vcpu, r.memory_mib, r.gpu) == (4.0, 16384, None)
    r = resources_of(_container(resourceRequirements=[{"type": "VCPU", "value": "lots"}]))
    assert (r.vcpu, r.memory_mib, r.gpu) == (None, None, None)


def _event(folder: str, name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / folder / name).read_text()))


def _observe(event: dict[str, Any]) -> tuple[AttemptState, ...]:
    detail = read_object(event["detail"], BatchJobDetail.read)
    time = datetime.fromisoformat(event["time"].replace("Z", "+00:00")).astimezone(UTC)
    return observe_job(
        detail, account=event["account"], region=event["region"], event_time=time
    ).task.attempts


def test_every_attempt_of_a_job_carries_its_container_or_its_nodes() -> None:
    local = _observe(_event("local_run", "02_start_SUCCEEDED.json"))
    assert [(a.vcpu, a.memory_mib) for a in local] == [(1.0, 4096)]
    # A multi-node job's own event has no container: its main node's range says what each node asked for.
    parallel = sorted(p.name for p in (EVENTS / "parallel_run").glob("*train_job_RUNNING.json"))
    job = _observe(_event("parallel_run", parallel[0]))
    node = _observe(_event("parallel_run", "11_train_node2_RUNNING.json"))
    assert [(a.vcpu, a.memory_mib) for a in job] == [(1.0, 4096)]
    assert [(a.vcpu, a.memory_mib) for a in node] == [(1.0, 4096)]


def _attempt(status: str, started: int | None, stopped: int | None, **resources: Any) -> AttemptState:
    return AttemptState(0, status, started_at=started, stopped_at=stopped, **resources)


def test_usage_of_an_attempt_finished_failed_running_or_unknown() -> None:
    hour = MS_PER_HOUR
    ok = attempt_usage(_attempt("SUCCEEDED", T0, T0 + 2 * hour, vcpu=0.5, memory_mib=3072, gpu=1))
    assert ok.at(T0) == UsageHours(1.0, 6.0, 2.0, 0.0)  # 0.5 vCPU, 3 GiB, 1 GPU for 2 h
    failed = attempt_usage(_attempt("FAILED", T0, T0 + hour, vcpu=4, memory_mib=1024))
    assert failed.at(T0) == UsageHours(4.0, 1.0, 0.0, 4.0)
    running = attempt_usage(_attempt("RUNNING", T0, None, vcpu=2, memory_mib=2048))
    assert running.at(T0 + hour // 2) == UsageHours(1.0, 1.0, 0.0, 0.0)
    assert running.at(T0 + hour) == UsageHours(2.0, 2.0, 0.0, 0.0)
    assert attempt_usage(_attempt("FAILED", T0, None, vcpu=2)) == UsageTotals()  # no stop: unknown
    assert attempt_usage(_attempt("RUNNABLE", None, None, vcpu=2)) == UsageTotals()
    assert attempt_usage(_attempt("SUCCEEDED", T0, T0 + hour)) == UsageTotals()  # resources unknown


def test_sums_subtract_exactly_and_round_trip_as_counters() -> None:
    a = attempt_usage(_attempt("RUNNING", T0, None, vcpu=0.1, memory_mib=100, gpu=1))
    b = attempt_usage(_attempt("FAILED", T0, T0 + 12_345, vcpu=0.3, memory_mib=7))
    both = a.plus(b)
    assert UsageTotals.of_counters(both.counters()) == both
    assert UsageTotals.of_counters({**both.counters(), "status:running": 3}) == both


@pytest.mark.parametrize(
    ("prices", "cost"),
    [(Prices(), None), (Prices(vcpu_hour=0.04), 0.08), (Prices(0.04, 0.005, 2.5), 0.08 + 0.02 + 2.5)],
)
def test_cost_needs_a_price(prices: Prices, cost: float | None) -> None:
    hours = UsageHours(vcpu_hours=2, memory_gib_hours=4, gpu_hours=1)
    assert hours.cost(prices) == (None if cost is None else pytest.approx(cost))
