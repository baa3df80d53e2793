"""The fixture API's answers for finding runs: list filters, `/search`, `/flows/{flow}/stats`, usage.

Each is computed by brute force from the fixture's full runs, following the contracts in docs/api.md, so
the dashboard can be tested against them before (and independently of) the real indexes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

RUN_STATUSES = {"running", "succeeded", "failed", "timed_out", "aborted", "unknown"}
FINISHED = {"succeeded", "failed", "timed_out", "aborted"}
# Prices the fixture answers with when priced (USD per vCPU-hour, GiB-hour, GPU-hour).
PRICES = (0.04, 0.004, 0.9)
MAX_MATCHES = 20


class BadParameter(ValueError):
    """A 400 naming the parameter."""


def _ms(value: str | None) -> float | None:
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000


def _instant(name: str, raw: str | None) -> float | None:
    if not raw:
        return None
    if raw.isdigit():
        return float(raw)
    try:
        return _ms(raw)
    except ValueError:
        raise BadParameter(f"{name} must be ISO 8601 or epoch milliseconds, got {raw!r}") from None


# -- usage -------------------------------------------------------------------------------------------------
def attempt_usage(attempt: dict[str, Any], now_ms: float) -> tuple[float, float, float]:
    """vCPU-, GiB- and GPU-hours of one attempt: its resources times started -> stopped (or now)."""
    begin = _ms(attempt["started_at"])
    if begin is None:
        return 0.0, 0.0, 0.0
    hours = ((_ms(attempt["stopped_at"]) or now_ms) - begin) / 3_600_000
    return (
        (attempt.get("vcpu") or 0) * hours,
        (attempt.get("memory_gib") or 0) * hours,
        (attempt.get("gpu") or 0) * hours,
    )


def usage(attempts: list[dict[str, Any]], priced: bool, now_ms: float | None = None) -> dict[str, Any]:
    now_ms = now_ms if now_ms is not None else datetime.now(UTC).timestamp() * 1000
    vcpu = gib = gpu = wasted = 0.0
    for attempt in attempts:
        v, m, g = attempt_usage(attempt, now_ms)
        vcpu, gib, gpu = vcpu + v, gib + m, gpu + g
        if attempt["status"] == "failed":
            wasted += v
    cost = vcpu * PRICES[0] + gib * PRICES[1] + gpu * PRICES[2] if priced else None
    return {
        "vcpu_hours": round(vcpu, 4),
        "memory_gib_hours": round(gib, 4),
        "gpu_hours": round(gpu, 4),
        "wasted_vcpu_hours": round(wasted, 4),
        "estimated_cost_usd": None if cost is None else round(cost, 4),
    }


def run_attempts(run: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for s in run["steps"] for t in s["tasks"] for a in t["attempts"]]


# -- run list filters --------------------------------------------------------------------------------------
def filter_runs(runs: list[dict[str, Any]], query: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The runs matching `/runs` query parameters (all given must match); BadParameter names a bad one."""
    one = {k: v[0] for k, v in query.items() if v}
    statuses = {s for s in one.get("status", "").split(",") if s}
    if statuses - RUN_STATUSES:
        raise BadParameter(f"status: unknown status {sorted(statuses - RUN_STATUSES)[0]!r}")
    since, until = _instant("since", one.get("since")), _instant("until", one.get("until"))
    if since is not None and until is not None and since > until:
        raise BadParameter("since must not be after until")
    tags = set(query.get("tag", []))
    fields = ("user", "project", "branch", "orchestrator", "account")

    def keep(run: dict[str, Any]) -> bool:
        started = _ms(run["started_at"]) or 0
        return (
            (not statuses or run["status"] in statuses)
            and all(not one.get(f) or run.get(f) == one[f] for f in fields)
            and tags <= set(run["tags"])
            and (since is None or started >= since)
            and (until is None or started <= until)
        )

    return [r for r in runs if keep(r)]


# -- search ------------------------------------------------------------------------------------------------
def _match(
    run: dict[str, Any], step: str | None = None, task: str | None = None, attempt: int | None = None
) -> dict[str, Any]:
    return {
        "kind": "task" if task is not None else "run",
        "flow": run["flow"],
        "run_id": run["run_id"],
        "account": run["account"],
        "region": run["region"],
        "step": step,
        "task_id": task,
        "attempt": attempt,
    }


def search(runs: list[dict[str, Any]], q: str) -> dict[str, Any]:
    """`GET /search`: a run id, Flow/run_id, Flow/run_id/step/task_id, a Batch job id, an execution."""
    q = q.strip()
    if not q:
        raise BadParameter("q must not be empty")
    parts = q.split("/")
    matches: list[dict[str, Any]] = []
    for run in runs:
        arn = run.get("execution_arn") or ""
        names_run = parts == [run["flow"], run["run_id"]] or q == run["run_id"]
        if names_run or (arn and (q == arn or arn.endswith(":" + q))):
            matches.append(_match(run))
        elif len(parts) == 4 and parts[:2] == [run["flow"], run["run_id"]]:
            matches += [
                _match(run, s["step"], t["task_id"])
                for s in run["steps"]
                for t in s["tasks"]
                if (s["step"], t["task_id"]) == (parts[2], parts[3])
            ]
        else:
            matches += [
                _match(run, s["step"], t["task_id"], a["attempt"])
                for s in run["steps"]
                for t in s["tasks"]
                for a in t["attempts"]
                if a["job_id"] == q
            ]
    return {"query": q, "matches": matches[:MAX_MATCHES]}


# -- flow health -------------------------------------------------------------------------------------------
def _duration_s(run: dict[str, Any]) -> float | None:
    begin, end = _ms(run["started_at"]), _ms(run["finished_at"])
    return None if begin is None or end is None else (end - begin) / 1000


def _rank(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(q * len(ordered) + 0.999999) - 1))]


def _count(values: list[str | None]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        if v:
            out[v] = out.get(v, 0) + 1
    return out


def flow_stats(runs: list[dict[str, Any]], flow: str, n: int, priced: bool) -> dict[str, Any]:
    """`GET /flows/{flow}/stats?runs=N` over the flow's N newest finished runs."""
    counted = [r for r in runs if r["flow"] == flow and r["status"] in FINISHED][:n]
    durations = [d for d in map(_duration_s, counted) if d is not None]
    failed = [r for r in counted if r["status"] != "succeeded"]
    ok = [r for r in counted if r["status"] == "succeeded"]
    return {
        "flow": flow,
        "runs": len(counted),
        "by_status": _count([r["status"] for r in counted]),
        "success_rate": len(ok) / len(counted) if counted else None,
        "duration_s": {
            "p50": _rank(durations, 0.5),
            "p95": _rank(durations, 0.95),
            "max": max(durations, default=None),
        },
        "failure_classes": _count([(r["failure"] or {}).get("failure_class") for r in failed]),
        "failing_steps": _count([(r["failure"] or {}).get("step") for r in failed]),
        "last_success_at": ok[0]["finished_at"] if ok else None,
        "last_failure_at": failed[0]["finished_at"] if failed else None,
        "usage": usage([a for r in counted for a in run_attempts(r)], priced),
        "recent": [
            {k: r[k] for k in ("run_id", "account", "region", "status", "started_at")}
            | {"duration_s": _duration_s(r)}
            for r in counted
        ],
    }
