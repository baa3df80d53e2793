"""GET /flows/{flow}/stats against DynamoDB Local: seeded runs of every status, compared with a brute-force
computation over the same runs; the bound on `runs` is a 400 naming it."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver

from runwatch.domain.run_state import RunKey, RunState
from runwatch.domain.task_state import Failure
from runwatch.domain.usage import UsageTotals
from runwatch.store.repository import StatusRepository
from tests.unit.api.rest import call

T0 = 1_795_000_000_000
MINUTE = 60_000
CLASSES = ("oom", "spot_reclaim", "user_code")
STEPS = ("train", "score")


def _run(index: int, rng: random.Random) -> tuple[RunState, str]:
    start = T0 + index * 10 * MINUTE
    end = start + rng.randint(1, 120) * MINUTE + rng.randint(0, 999)
    status = rng.choice(["succeeded", "succeeded", "failed", "aborted", "running"])
    run = RunState(
        key=RunKey("HealthFlow", str(1000 + index), account="123456789012", region="us-east-1"),
        orchestrator="batch",
        first_seen_at=start,
        usage=UsageTotals(vcpu_ms=rng.randint(0, 10**9), memory_ms=rng.randint(0, 10**10)),
    )
    if status == "succeeded":
        run = RunState(**{**_fields(run), "end_succeeded_at": end})
    elif status == "failed":
        failure = Failure(end, rng.choice(STEPS), "7", 0, rng.choice(CLASSES), "reason", 1)
        run = RunState(**{**_fields(run), "failures": (failure,)})
    elif status == "aborted":
        run = RunState(**{**_fields(run), "killed_at": end})
    assert run.status == status
    return run, status


def _fields(run: RunState) -> dict[str, Any]:
    return {name: getattr(run, name) for name in RunState.__dataclass_fields__}


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _brute_force(runs: list[RunState], n: int) -> dict[str, Any]:
    finished = [r for r in sorted(runs, key=lambda r: -(r.started_at or 0)) if r.status != "running"][:n]
    durations = sorted((r.finished_at - r.started_at) / 1000 for r in finished)  # type: ignore[operator]

    def rank(q: float) -> float:
        return durations[max(1, math.ceil(q * len(durations))) - 1]

    failures = [r.failure for r in finished if r.failure]
    vcpu = sum(r.usage.vcpu_ms for r in finished if r.usage) / 1000 / 3_600_000
    return {
        "runs": len(finished),
        "by_status": dict(Counter(r.status for r in finished)),
        "success_rate": sum(r.status == "succeeded" for r in finished) / len(finished),
        "duration_s": {"p50": rank(0.5), "p95": rank(0.95), "max": durations[-1]},
        "failure_classes": dict(Counter(f.failure_class for f in failures)),
        "failing_steps": dict(Counter(f.step for f in failures)),
        "last_success_at": _iso(
            max((r.finished_at for r in finished if r.status == "succeeded"), default=None)
        ),
        "last_failure_at": _iso(max((r.finished_at for r in finished if r.status == "failed"), default=None)),
        "vcpu_hours": round(vcpu, 6),
        "recent": [r.key.run_id for r in finished],
    }


@pytest.fixture
def seeded(repository: StatusRepository) -> list[RunState]:
    rng = random.Random(8)
    runs = [_run(i, rng)[0] for i in range(140)]
    for run in runs:
        repository.save_run(run, None)
    return runs


@pytest.mark.parametrize("n", [1, 7, 50, 500])
def test_stats_match_a_brute_force_count(api: APIGatewayRestResolver, seeded: list[RunState], n: int) -> None:
    reply = call(api, f"/flows/HealthFlow/stats?runs={n}")
    assert reply.status == 200
    got = reply.json()
    want = _brute_force(seeded, n)
    assert got["flow"] == "HealthFlow"
    for name in (
        "runs",
        "by_status",
        "failure_classes",
        "failing_steps",
        "last_success_at",
        "last_failure_at",
    ):
        assert got[name] == want[name], name
    assert got["success_rate"] == pytest.approx(want["success_rate"])
    assert got["duration_s"] == pytest.approx(want["duration_s"])
    assert got["usage"]["vcpu_hours"] == pytest.approx(want["vcpu_hours"], abs=1e-5)
    assert got["usage"]["estimated_cost_usd"] is None
    assert [r["run_id"] for r in got["recent"]] == want["recent"]


def test_the_default_is_50_and_an_unknown_flow_has_none(
    api: APIGatewayRestResolver, seeded: list[RunState]
) -> None:
    assert call(api, "/flows/HealthFlow/stats").json()["runs"] == 50
    empty = call(api, "/flows/NoSuchFlow/stats").json()
    assert (empty["runs"], empty["success_rate"], empty["duration_s"]) == (
        0,
        None,
        {"p50": None, "p95": None, "max": None},
    )


@pytest.mark.parametrize("value", ["0", "501", "ten"])
def test_runs_out_of_range_is_400(api: APIGatewayRestResolver, value: str) -> None:
    reply = call(api, f"/flows/HealthFlow/stats?runs={value}")
    assert reply.status == 400
    assert reply.json() == {"message": "runs must be an integer from 1 to 500", "parameter": "runs"}
