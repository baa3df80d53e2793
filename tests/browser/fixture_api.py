"""Dev-only preview server: serves the dashboard and canned status-API JSON on 127.0.0.1.

It speaks the API contract the dashboard consumes (routes, pagination tokens, ETag / 304, the
``x-api-key`` check) with hand-made runs covering the cases the page must render: a foreach that
failed on OOM with killed siblings and a retried task, a running Step Functions run, a run whose
strings carry HTML, and enough history to paginate. Times are relative to the moment the server
starts, so durations and "ago" labels look real.

    python tests/browser/fixture_api.py --port 8765 [--api-key KEY] [--prefix /dev]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.browser.fixture_lookups import BadParameter, filter_runs, flow_stats, run_attempts, search, usage

DASHBOARD = Path(__file__).resolve().parents[2] / "layers/runwatch/runwatch/api/dashboard.html"

XSS = "<img src=x onerror=alert(1)>"
REGION = "us-east-1"
ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
OOM = "OutOfMemoryError: Container killed due to memory usage"
ESSENTIAL = "Essential container in task exited"
KILLED = "Metaflow initiated job termination."
EXCEPTION = "KeyError: 'customer_segment'"
# What a failed attempt printed (the log route answers with it for every failed attempt that has a stream).
LOG_LINES = [
    "Task is starting.",
    "Loading 1,204,311 rows from s3://demo-bucket/features/",
    "Epoch 1/3: loss 0.6931",
    "    Internal error",
    "Traceback (most recent call last):",
    '  File "/metaflow/scoring_flow.py", line 48, in score',
    "    features = self.encode(batch)",
    '  File "/metaflow/scoring_flow.py", line 71, in encode',
    "    return {name: table[name] for name in self.columns}",
    EXCEPTION,
    "Task failed.",
]
BLOCKED = "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - Service cannot fulfill the capacity requested for instance type [p3.2xlarge]"


class _Fixtures:
    """Builds RunDetail dicts; times are given as minutes before `now`, which is fixed per server."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def iso(self, minutes_ago: float | None) -> str | None:
        if minutes_ago is None:
            return None
        return (self.now - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def attempt(
        self,
        n: int,
        status: str,
        created: float | None,
        started: float | None = None,
        stopped: float | None = None,
        *,
        job: str,
        cls: str | None = None,
        reason: str | None = None,
        container: str | None = None,
        code: int | None = None,
        group: str | None = None,
        vcpu: float = 2,
        memory_gib: float = 8,
        gpu: float = 0,
    ) -> dict[str, Any]:
        stream = hashlib.md5(f"{job}/{n}".encode()).hexdigest()
        return {
            "attempt": n,
            "status": status,
            "job_id": job,
            "job_queue": f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/metaflow-spot",
            "failure_class": cls,
            "status_reason": reason,
            "container_reason": container,
            "exit_code": code,
            "created_at": self.iso(created),
            "started_at": self.iso(started),
            "stopped_at": self.iso(stopped),
            "log_stream": f"metaflow_5d41b2c3/default/{stream}" if started is not None else None,
            "log_group": group,
            "exception": None,
            "vcpu": vcpu,
            "memory_gib": memory_gib,
            "gpu": gpu,
        }

    @staticmethod
    def task(
        task_id: str,
        status: str,
        attempts: list[dict[str, Any]],
        split: int | None = None,
        blocked: str | None = None,
    ) -> dict[str, Any]:
        return {
            "task_id": task_id,
            "status": status,
            "split_index": split,
            "blocked_reason": blocked,
            "attempts": attempts,
        }

    @staticmethod
    def step(name: str, tasks: list[dict[str, Any]]) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for task in tasks:
            counts[task["status"]] = counts.get(task["status"], 0) + 1
        order = ("failed", "killed", "running", "retrying", "starting", "pending")
        status = next((s for s in order if counts.get(s)), "succeeded")
        return {"step": name, "status": status, "task_counts": counts, "tasks": tasks}

    def run(
        self,
        flow: str,
        run_id: str,
        status: str,
        started: float,
        finished: float | None,
        steps: list[dict[str, Any]],
        *,
        orchestrator: str = "batch",
        user: str | None = "alice",
        project: str | None = None,
        branch: str | None = None,
        tags: list[str] | None = None,
        failure: dict[str, Any] | None = None,
        account: str = ACCOUNT,
    ) -> dict[str, Any]:
        sfn = orchestrator == "step-functions"
        machine = flow.replace(".", "-") if sfn else None
        execution = run_id.removeprefix("sfn-")
        return {
            "flow": flow,
            "run_id": run_id,
            "status": status,
            "orchestrator": orchestrator,
            "user": user,
            "project": project,
            "branch": branch,
            "tags": tags or [],
            "started_at": self.iso(started),
            "finished_at": self.iso(finished),
            "failure": failure,
            "region": REGION,
            "account": account,
            "execution_arn": f"arn:aws:states:{REGION}:{account}:execution:{machine}:{execution}"
            if sfn
            else None,
            "state_machine": machine,
            "steps": steps,
        }

    @staticmethod
    def failure(
        step: str, task_id: str, attempt: int, cls: str, reason: str, code: int | None
    ) -> dict[str, Any]:
        return {
            "step": step,
            "task_id": task_id,
            "attempt": attempt,
            "failure_class": cls,
            "status_reason": reason,
            "exit_code": code,
            "exception": None,
        }

    # -- scenarios ---------------------------------------------------------------------------
    def sfn_running(self) -> dict[str, Any]:
        """Step Functions run in progress: a task running, one retrying after an agent error, one RUNNABLE."""
        at, task = self.attempt, self.task
        a = "8d7c6b5a-4e3f-4a1b-9c2d-0e1f2a3b4c5d"
        j0 = "3b8f0c52-91d4-4a6e-8f0b-1f2e3d4c5b6a"
        j1 = "a9d2e7f1-0c3b-4d5e-9f8a-7b6c5d4e3f21"
        j2 = "c4e1b9a7-5d2f-4e8c-a1b3-9f7e6d5c4b32"
        inspect = (
            "CannotInspectContainerError: Could not transition to inspecting; timed out after waiting 30s"
        )
        agent = at(0, "failed", 7.1, 6.6, 5.9, job=j1, cls="agent", reason=ESSENTIAL, container=inspect)
        start = self.step("start", [task(a, "succeeded", [at(0, "succeeded", 9, 8.5, 7.2, job=a)])])
        train = self.step(
            "train",
            [
                task(j0, "running", [at(0, "running", 7.1, 6.4, job=j0)], 0),
                task(j1, "retrying", [agent, at(1, "pending", 5.8, job=j1)], 1),
                task(j2, "pending", [at(0, "pending", 7.1, job=j2)], 2, BLOCKED),
            ],
        )
        run_id = "sfn-5f0b1d2e-8a3c-4e71-b2d9-2c7d1e9f0a41"
        extra = {"project": "demo", "branch": "prod", "tags": ["team:ml", "alpha:0.7"]}
        return self.run(
            "demo.prod.FanoutFlow",
            run_id,
            "running",
            9,
            None,
            [start, train],
            orchestrator="step-functions",
            user="SFN",
            **extra,
        )

    def oom_foreach(self) -> dict[str, Any]:
        """Local-orchestrated foreach that failed: train/3 ran out of memory twice, its siblings were
        killed, and train/2 survived a spot reclaim on retry."""
        at, task = self.attempt, self.task
        spot = "Host EC2 (instance i-08784105ffff56b4f) terminated."
        oom = {"cls": "oom", "reason": ESSENTIAL, "container": OOM, "code": 137}
        killed = {"cls": "killed", "reason": KILLED}
        start = self.step("start", [task("1", "succeeded", [at(0, "succeeded", 42, 41.3, 39, job="b1-1")])])
        spot_attempt = at(0, "failed", 38.9, 38.2, 31, job="b1-2", cls="spot_reclaim", reason=spot, code=143)
        train = self.step(
            "train",
            [
                task("2", "succeeded", [spot_attempt, at(1, "succeeded", 30.8, 29.1, 21.4, job="b1-2r")], 0),
                task(
                    "3",
                    "failed",
                    [
                        at(0, "failed", 38.9, 38.1, 30.2, job="b1-3", **oom),
                        at(1, "failed", 30, 28.9, 18.3, job="b1-3r", **oom),
                    ],
                    1,
                ),
                task("4", "killed", [at(0, "failed", 38.9, 37.9, 18, job="b1-4", code=143, **killed)], 2),
                task("5", "succeeded", [at(0, "succeeded", 38.9, 37.6, 26.5, job="b1-5")], 3),
                task("6", "killed", [at(0, "failed", 38.9, None, 18, job="b1-6", **killed)], 4),
            ],
        )
        failure = self.failure("train", "3", 1, "oom", OOM, 137)
        steps = [start, train]
        return self.run(
            "FanoutFlow", "1795719352434625", "failed", 42, 17.5, steps, tags=["team:ml"], failure=failure
        )

    def hostile_strings(self) -> dict[str, Any]:
        """Every string the events control carries markup: it must show up as text."""
        att = self.attempt(
            0, "failed", 75, 74.5, 70, job="x-1", cls="unknown", reason=XSS, container=XSS, code=2, group=XSS
        )
        steps = [self.step("start", [self.task("1", "failed", [att])])]
        extra = {"user": XSS, "project": XSS, "branch": "main", "tags": [XSS, "team:sec"]}
        failure = self.failure("start", "1", 0, "unknown", XSS, 2)
        return self.run(XSS, "1795719000000001", "failed", 75, 70, steps, failure=failure, **extra)

    def sfn_user_code_failure(self) -> dict[str, Any]:
        """Scheduled Step Functions run whose score step failed twice in user code (exit 1)."""
        at = self.attempt
        a, job = "7f8e9d0c-1b2a-4c3d-8e9f-0a1b2c3d4e5f", "e5f6a7b8-1c2d-4e3f-8a9b-0c1d2e3f4a5b"
        user_code = {"job": job, "cls": "user_code", "reason": ESSENTIAL, "code": 1}
        attempts = [
            at(0, "failed", 136.8, 135.9, 129, **user_code),
            at(1, "failed", 128.9, 128, 121.2, **user_code),
        ]
        steps = [
            self.step("start", [self.task(a, "succeeded", [at(0, "succeeded", 140, 139.2, 137, job=a)])]),
            self.step("score", [self.task(job, "failed", attempts)]),
        ]
        attempts[1]["exception"] = EXCEPTION
        failure = {**self.failure("score", job, 1, "user_code", ESSENTIAL, 1), "exception": EXCEPTION}
        run_id = "sfn-8c1e5b7d-2f4a-7c3e-1d9b-6e2f0a4c8b13_90d3f7a1-6b2e-c4d8-5f1a-3e7b9c2d4a68"
        sfn = {"orchestrator": "step-functions", "user": "SFN"}
        return self.run("ScoringFlow", run_id, "failed", 140, 121, steps, failure=failure, **sfn)

    def other_endings(self) -> list[dict[str, Any]]:
        """A timeout, an image pull failure, an aborted execution and a run whose status is unknown."""
        at, task, step = self.attempt, self.task, self.step
        timeout = "Job attempt duration exceeded timeout"
        pull = "CannotPullContainerError: pull access denied for repository"
        sfn_task = "0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a"
        timed_out = at(0, "failed", 320, 318, 200, job="t-7", cls="timeout", reason=timeout, code=137)
        pulled = at(
            0,
            "failed",
            410,
            None,
            404,
            job="e-1",
            cls="image_pull",
            reason="Task failed to start",
            container=pull,
        )
        aborted = at(0, "failed", 500, 499, 470, job=sfn_task, cls="killed", reason="Execution aborted")
        etl = {"user": "carol", "project": "etl", "branch": "user.carol"}
        return [
            self.run(
                "TrainFlow",
                "1795710000000777",
                "timed_out",
                320,
                200,
                [step("train", [task("2", "failed", [timed_out])])],
                user="bob",
                tags=["gpu"],
                failure=self.failure("train", "2", 0, "timeout", timeout, 137),
            ),
            self.run(
                "ETLFlow",
                "1795709000000101",
                "failed",
                410,
                404,
                [step("start", [task("1", "failed", [pulled])])],
                failure=self.failure("start", "1", 0, "image_pull", pull, None),
                **etl,
            ),
            self.run(
                "ScoringFlow",
                "sfn-manual-0b1c2d3e",
                "aborted",
                500,
                470,
                [step("start", [task(sfn_task, "killed", [aborted])])],
                orchestrator="step-functions",
                user="SFN",
            ),
            self.run("ETLFlow", "1795708000000100", "unknown", 600, None, [], **etl),
        ]

    def history(self, count: int = 30) -> list[dict[str, Any]]:
        """Older start -> end runs that succeeded, enough to need "Load more"."""
        flows = ["FanoutFlow", "demo.prod.FanoutFlow", "ScoringFlow", "TrainFlow", "ETLFlow"]
        runs = []
        for i in range(count):
            flow = flows[i % len(flows)]
            sfn = flow in ("demo.prod.FanoutFlow", "ScoringFlow")
            run_id = (
                f"sfn-{i:04d}a1b2-c3d4-4e5f-8a9b-0c1d2e3f4a5b" if sfn else str(1795700000000000 - i * 7919)
            )
            start, minutes = 700 + i * 95, 6 + (i * 7) % 40
            mid, end = start - minutes / 2, start - minutes
            steps = [
                self.step(
                    "start",
                    [
                        self.task(
                            "1",
                            "succeeded",
                            [self.attempt(0, "succeeded", start, start - 0.4, mid, job=f"h{i}-s")],
                        )
                    ],
                ),
                self.step(
                    "end",
                    [
                        self.task(
                            "2",
                            "succeeded",
                            [self.attempt(0, "succeeded", mid, mid - 0.3, end, job=f"h{i}-e")],
                        )
                    ],
                ),
            ]
            demo = flow.startswith("demo.")
            runs.append(
                self.run(
                    flow,
                    run_id,
                    "succeeded",
                    start,
                    end,
                    steps,
                    orchestrator="step-functions" if sfn else "batch",
                    user="SFN" if sfn else ("alice", "bob", "carol")[i % 3],
                    project="demo" if demo else None,
                    branch="prod" if demo else None,
                    tags=["team:ml"] if i % 4 == 0 else None,
                    account=OTHER_ACCOUNT if i % 5 == 4 else ACCOUNT,
                )
            )
        return runs


def build_runs(now: datetime | None = None) -> list[dict[str, Any]]:
    """All fixture runs as RunDetail dicts, newest first."""
    f = _Fixtures(now or datetime.now(UTC))
    runs = [
        f.sfn_running(),
        f.oom_foreach(),
        f.hostile_strings(),
        f.sfn_user_code_failure(),
        *f.other_endings(),
        *f.history(),
    ]
    return sorted(runs, key=lambda r: r["started_at"], reverse=True)


def big_run(now: datetime | None = None, width: int = 10_000) -> dict[str, Any]:
    """A running 10,000-way foreach: one failed task in the middle, a few running, one retrying."""
    f = _Fixtures(now or datetime.now(UTC))
    middle = width // 2
    start = f.task("1", "succeeded", [f.attempt(0, "succeeded", 120, 119, 118, job="big-start", code=0)])
    tasks = []
    for i in range(width):
        job = f"big-{i}"
        if i == middle:
            attempt = f.attempt(
                0, "failed", 117, 116, 100, job=job, cls="user_code", reason="Essential", code=1
            )
            tasks.append(f.task(str(i + 2), "failed", [attempt], split=i))
        elif i % 2500 == 7:
            tasks.append(f.task(str(i + 2), "running", [f.attempt(0, "running", 117, 116, job=job)], split=i))
        else:
            done = f.attempt(0, "succeeded", 117, 116, 110 - (i % 50) / 10, job=job, code=0)
            tasks.append(f.task(str(i + 2), "succeeded", [done], split=i))
    return f.run(
        "SweepFlow",
        "1795000000000777",
        "running",
        120,
        None,
        [f.step("start", [start]), f.step("train", tasks)],
    )


def health_runs(now: datetime | None = None) -> list[dict[str, Any]]:
    """ChurnFlow's history for its health page, newest first: eight finished runs of 10, 20, ... 80 minutes
    (the 30- and 60-minute ones failed: OOM in train, user code in score) and one still running."""
    f = _Fixtures(now or datetime.now(UTC))
    runs = []
    for i in range(8):
        minutes, start = 10 * (i + 1), 2000 - 200 * i
        failed = {2: ("train", "oom"), 5: ("score", "user_code")}.get(i)
        status = "failed" if failed else "succeeded"
        attempt = f.attempt(0, status, start, start, start - minutes, job=f"churn-{i}", vcpu=4, memory_gib=16)
        step = failed[0] if failed else "train"
        failure = f.failure(step, "2", 0, failed[1], ESSENTIAL, 1) if failed else None
        tasks = [f.task("2", status, [attempt])]
        runs.append(
            f.run(
                "ChurnFlow",
                str(1795800000000000 + i),
                status,
                start,
                start - minutes,
                [f.step(step, tasks)],
                failure=failure,
            )
        )
    running = f.attempt(0, "running", 30, 29, job="churn-live")
    live = f.run(
        "ChurnFlow",
        "1795800000000099",
        "running",
        30,
        None,
        [f.step("train", [f.task("2", "running", [running])])],
    )
    return sorted([*runs, live], key=lambda r: r["started_at"], reverse=True)


def _summary(run: dict[str, Any], priced: bool = True) -> dict[str, Any]:
    """A RunSummary: the run without its steps, with the compute its attempts used."""
    return {k: v for k, v in run.items() if k != "steps"} | {"usage": usage(run_attempts(run), priced)}


def _with_usage(task: dict[str, Any], priced: bool) -> dict[str, Any]:
    return {**task, "usage": usage(task["attempts"], priced)}


INLINE_TASKS = 100


def _stamp(value: str | None) -> float | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000


def _step_summary(step: dict[str, Any]) -> dict[str, Any]:
    """The summary fields the API keeps per step, computed from the fixture's full task list."""
    attempts = [a for t in step["tasks"] for a in t["attempts"]]
    starts = [a["started_at"] for a in attempts if a["started_at"]]
    stops = [a["stopped_at"] for a in attempts if a["stopped_at"]]
    durations = sorted(
        int(end - begin)
        for t in step["tasks"]
        if t["status"] in ("succeeded", "failed", "killed")
        for begin, end in [
            (
                min((_stamp(a["started_at"]) or 0) for a in t["attempts"]),
                max((_stamp(a["stopped_at"]) or 0) for a in t["attempts"]),
            )
        ]
    )

    def pick(q: float) -> int:
        return durations[max(0, min(len(durations) - 1, int(q * len(durations) + 0.999) - 1))]

    spread = (
        {
            "min_ms": durations[0],
            "p50_ms": pick(0.5),
            "p95_ms": pick(0.95),
            "max_ms": durations[-1],
            "finished": len(durations),
            "relative_error": 0.0476,
        }
        if durations
        else None
    )
    return {
        "first_started_at": min(starts, default=None),
        "last_stopped_at": max(stops, default=None),
        "attempts": len(attempts),
        "retries": sum(max(0, len(t["attempts"]) - 1) for t in step["tasks"]),
        "durations": spread,
    }


def _detail(run: dict[str, Any], priced: bool = True) -> dict[str, Any]:
    """A run as the API answers it: step summaries and at most the first 100 tasks of each step."""
    steps = []
    for step in run["steps"]:
        tasks = step["tasks"]
        more = _token(INLINE_TASKS) if len(tasks) > INLINE_TASKS else None
        inline = [_with_usage(t, priced) for t in tasks[:INLINE_TASKS]]
        step_usage = usage([a for t in tasks for a in t["attempts"]], priced)
        steps.append(
            {**step, **_step_summary(step), "tasks": inline, "tasks_next_token": more, "usage": step_usage}
        )
    return {**_summary(run, priced), "steps": steps}


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    return int(json.loads(base64.urlsafe_b64decode(token.encode()))["o"])


class FixtureAPI:
    """The canned API plus the knobs tests turn: required key, outage, request log."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        prefix: str = "",
        runs: list[dict[str, Any]] | None = None,
        metaflow_ui_url: str | None = None,
        priced: bool = True,
    ) -> None:
        self.api_key = api_key
        self.metaflow_ui_url = metaflow_ui_url
        self.priced = priced
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.runs = build_runs() if runs is None else runs
        self.down = False
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._details: dict[int, dict[str, Any]] = {}
        self._summaries: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- routing -----------------------------------------------------------------------------
    def handle(
        self, method: str, raw_path: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append((raw_path, headers))
        parts = urlsplit(raw_path)
        path = parts.path
        if self.prefix:
            if path == self.prefix:
                return 301, {"Location": self.prefix + "/"}, b""
            if not path.startswith(self.prefix + "/"):
                return self._json(404, {"message": "not found"})
            path = path[len(self.prefix) :]
        if method != "GET":
            return self._json(405, {"message": "method not allowed"})
        if path in ("/", "/index.html"):
            return (
                200,
                {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache"},
                DASHBOARD.read_bytes(),
            )
        if path == "/health":
            return self._json(200, {"status": "ok"})
        if self.api_key and headers.get("x-api-key") != self.api_key:
            return self._json(403, {"message": "Forbidden"})
        if self.down:
            return self._json(503, {"message": "Service Unavailable"})
        return self._status_route(path, parts.query, headers)

    def _status_route(
        self, path: str, raw_query: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        multi = parse_qs(raw_query)
        query = {k: v[0] for k, v in multi.items()}
        segs = [unquote(s) for s in path.strip("/").split("/")]
        try:
            limit = max(1, min(int(query.get("limit", 20)), 100))
            offset = _offset(query.get("next_token"))
        except (ValueError, KeyError, json.JSONDecodeError):
            return self._json(400, {"message": "bad limit or next_token"})
        runs = self.runs
        if segs == ["flows"]:
            latest: dict[str, dict[str, Any]] = {}
            for run in runs:
                latest.setdefault(run["flow"], run)
            items = [{"flow": f, "last_run": r} for f, r in sorted(latest.items())]
            return self._page(
                headers,
                "flows",
                items,
                offset,
                limit,
                lambda i: {**i, "last_run": self._summary(i["last_run"])},
            )
        if segs == ["runs"] or (len(segs) == 3 and segs[0] == "flows" and segs[2] == "runs"):
            if len(segs) == 3:
                runs = [r for r in runs if r["flow"] == segs[1]]
            try:
                runs = filter_runs(runs, multi)
            except BadParameter as error:
                return self._json(400, {"message": str(error)})
            return self._page(headers, "runs", runs, offset, limit, self._summary)
        if segs[0] in ("config", "search", "jobs", "executions") or segs[-1:] == ["stats"]:
            return self._lookup_route(segs, query, headers)
        return self._run_route(segs, query, offset, headers)

    def _summary(self, run: dict[str, Any]) -> dict[str, Any]:
        """RunSummary; a 10,000-task fixture's usage is summed once, not on every poll."""
        if sum(len(s["tasks"]) for s in run["steps"]) <= 1_000:
            return _summary(run, self.priced)
        return self._summaries.get(id(run)) or self._summaries.setdefault(id(run), _summary(run, self.priced))

    def _lookup_route(
        self, segs: list[str], query: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """`/config`, `/search`, `/jobs/{job_id}`, `/executions/{execution}`, `/flows/{flow}/stats`."""
        if segs == ["config"]:
            return self._json(200, {"metaflow_ui_url": self.metaflow_ui_url}, headers)
        try:
            if segs == ["search"]:
                return self._json(200, search(self.runs, query.get("q", "")), headers)
            if len(segs) == 3 and segs[0] == "flows":
                n = int(query.get("runs", 50))
                if not 1 <= n <= 500:
                    raise BadParameter("runs must be 1 to 500")
                return self._json(200, flow_stats(self.runs, segs[1], n, self.priced), headers)
        except (BadParameter, ValueError) as error:
            return self._json(400, {"message": str(error)})
        found = search(self.runs, segs[1])["matches"] if len(segs) == 2 else []
        if segs[0] == "jobs" and found and found[0]["kind"] == "task":
            keys = ("flow", "run_id", "step", "task_id", "attempt", "account", "region")
            return self._json(200, {k: found[0][k] for k in keys}, headers)
        if segs[0] == "executions" and found and found[0]["kind"] == "run":
            run = next(
                r for r in self.runs if (r["flow"], r["run_id"]) == (found[0]["flow"], found[0]["run_id"])
            )
            return self._json(200, self._summary(run), headers)
        return self._json(404, {"message": "not found"})

    def _run_route(
        self, segs: list[str], query: dict[str, str], offset: int, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        if len(segs) == 11 and segs[0] == "flows" and segs[2] == "runs" and segs[10] == "logs":
            return self._log(headers, segs)
        if len(segs) >= 4 and segs[0] == "flows" and segs[2] == "runs":
            run = next((r for r in self.runs if r["flow"] == segs[1] and r["run_id"] == segs[3]), None)
            if run is None:
                return self._json(404, {"message": f"run {segs[3]} of flow {segs[1]} not found"})
            if len(segs) == 4:
                # The 10,000-task fixture never changes: its detail is built once, not on every poll.
                big = sum(len(s["tasks"]) for s in run["steps"]) > 1_000
                detail = (
                    (
                        self._details.get(id(run))
                        or self._details.setdefault(id(run), _detail(run, self.priced))
                    )
                    if big
                    else _detail(run, self.priced)
                )
                return self._json(200, detail, headers)
            return self._task_route(run, segs[4:], query, offset, headers)
        return self._json(404, {"message": "not found"})

    def _task_route(
        self,
        run: dict[str, Any],
        segs: list[str],
        query: dict[str, str],
        offset: int,
        headers: dict[str, str],
    ) -> tuple[int, dict[str, str], bytes]:
        """`steps/<step>/tasks` (status, limit up to 500, next_token) and `steps/<step>/tasks/<task_id>`."""
        step = next((s for s in run["steps"] if len(segs) >= 3 and s["step"] == segs[1]), None)
        if step is None or segs[0] != "steps" or segs[2] != "tasks" or len(segs) > 4:
            return self._json(404, {"message": "not found"})
        if len(segs) == 4:
            task = next((t for t in step["tasks"] if t["task_id"] == segs[3]), None)
            if task is None:
                return self._json(404, {"message": "no such task"})
            return self._json(200, _with_usage(task, self.priced), headers)
        tasks = [t for t in step["tasks"] if not query.get("status") or t["status"] == query["status"]]
        limit = max(1, min(int(query.get("limit", INLINE_TASKS)), 500))
        return self._page(headers, "tasks", tasks, offset, limit, lambda t: _with_usage(t, self.priced))

    def _log(self, headers: dict[str, str], segs: list[str]) -> tuple[int, dict[str, str], bytes]:
        flow, run_id, step, task_id, attempt = segs[1], segs[3], segs[5], segs[7], segs[9]
        for run in self.runs:
            if (run["flow"], run["run_id"]) != (flow, run_id):
                continue
            for a in (
                a
                for s in run["steps"]
                if s["step"] == step
                for t in s["tasks"]
                if t["task_id"] == task_id
                for a in t["attempts"]
                if str(a["attempt"]) == attempt and a["log_stream"]
            ):
                lines = [{"ts": a["started_at"], "message": m} for m in LOG_LINES]
                body = {
                    "log_group": a["log_group"] or "/aws/batch/job",
                    "log_stream": a["log_stream"],
                    "lines": lines,
                    "exception": EXCEPTION,
                    "next_token": None,
                }
                return self._json(200, body, headers)
        return self._json(404, {"message": "log stream not found"})

    def _page(
        self,
        headers: dict[str, str],
        key: str,
        items: list[Any],
        offset: int,
        limit: int,
        shape: Callable[[Any], Any] = lambda item: item,
    ) -> tuple[int, dict[str, str], bytes]:
        page = [shape(item) for item in items[offset : offset + limit]]
        token = _token(offset + limit) if offset + limit < len(items) else None
        return self._json(200, {key: page, "next_token": token}, headers)

    @staticmethod
    def _json(
        status: int, body: Any, req_headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        data = json.dumps(body).encode()
        out = {"Content-Type": "application/json"}
        if status == 200:
            etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
            out["ETag"] = etag
            if req_headers and req_headers.get("if-none-match") == etag:
                return 304, out, b""
        return status, out, data

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, port: int = 0) -> str:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, headers, body = api.handle(
                    "GET", self.path, {k.lower(): v for k, v in self.headers.items()}
                )
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix}/"

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", default=None, help="require this x-api-key on API routes")
    parser.add_argument("--prefix", default="", help="serve under a stage path such as /dev")
    parser.add_argument("--empty", action="store_true", help="serve no runs at all")
    args = parser.parse_args()
    api = FixtureAPI(api_key=args.api_key, prefix=args.prefix, runs=[] if args.empty else None)
    url = api.start(args.port)
    print(f"dashboard preview at {url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        api.stop()


if __name__ == "__main__":
    main()
