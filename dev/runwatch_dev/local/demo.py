"""The bundled demo: realistic Metaflow runs replayed "now", over about two minutes, through ingest.

A newcomer running `make local` sees live progress on the dashboard without an AWS account:
- a history of three runs from the last day (at their own past times, sent while the live runs wait);
- FanoutFlow: a foreach over six splits that succeeds;
- ScoringFlow on Step Functions: a spot reclaim retried inside the Batch job, then success;
- TrainFlow: a spot reclaim retried by Metaflow as a new job, then success;
- TrainFlow again: a task killed for memory twice (OOM), so the run fails and its siblings are killed;
- ReportFlow: still going when the demo ends, one task waiting in RUNNABLE on a blocked job queue.

The events come from runwatch_dev.local.synth (the shapes Batch and Step Functions emit for Metaflow). Each live
run is simulated with synth's own durations and then compressed onto the wall clock: every time in an event
(`time`, createdAt/startedAt/stoppedAt, attempts, startDate/stopDate) goes through the same affine map, so
they stay consistent with each other, and the event is played when the wall clock reaches its `time`.
`DemoPlayer` takes the clock and the wait as parameters, so a test plays the whole demo instantly.
"""

from __future__ import annotations

import copy
import math
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger

from runwatch_dev.local.demo_logs import write_demo_logs
from runwatch_dev.local.synth import RunSpec, simulate_run

DEFAULT_SEED = 20261126
BLOCKED_REASON = (
    "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - Service cannot fulfill the capacity requested for instance "
    "type [r5.24xlarge]"
)
_DETAIL_TIMES = ("createdAt", "startedAt", "stoppedAt", "startDate", "stopDate", "redriveDate")
_HOUR_MS = 3_600_000

Event = dict[str, Any]


@dataclass(frozen=True, slots=True)
class DemoRun:
    """A run the demo promises, and how it stands when the demo is over."""

    flow: str
    run_id: str
    story: str
    status: str  # run status at the end of the demo
    failure_class: str | None = None  # the run's root cause, for a failed run
    retried_failure: str | None = None  # the failure class of an attempt that was retried, if any
    orchestrator: str = "batch"
    live: bool = True  # replayed now; False for the history


@dataclass(frozen=True, slots=True)
class ScheduledEvent:
    offset: float  # seconds after the demo's start
    event: Event


@dataclass(frozen=True, slots=True)
class Demo:
    start_ms: int
    runs: list[DemoRun]
    schedule: list[ScheduledEvent]  # the live runs, in time order
    history: list[Event]  # the past runs' events, in time order

    @property
    def duration(self) -> float:
        return self.schedule[-1].offset if self.schedule else 0.0


def _ms(iso: str) -> int:
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp() * 1000)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(event: Event) -> int:
    """When an event can have been emitted: not before any time it reports."""
    detail = event["detail"]
    times = [_ms(event["time"])]
    times += [int(detail[name]) for name in _DETAIL_TIMES if detail.get(name) is not None]
    for attempt in detail.get("attempts") or []:
        times += [int(attempt[name]) for name in ("startedAt", "stoppedAt") if attempt.get(name) is not None]
    return max(times)


def _retimed(event: Event, to_wall: Callable[[int], int]) -> tuple[int, Event]:
    """(wall ms to play it at, the event with every time mapped); its `time` is a whole second, rounded up
    so it is never earlier than the facts it reports."""
    moved = copy.deepcopy(event)
    detail = moved["detail"]
    for name in _DETAIL_TIMES:
        if detail.get(name) is not None:
            detail[name] = to_wall(int(detail[name]))
    for attempt in detail.get("attempts") or []:
        for name in ("startedAt", "stoppedAt"):
            if attempt.get(name) is not None:
                attempt[name] = to_wall(int(attempt[name]))
    moved["time"] = _iso(to_wall(_ms(event["time"])))
    at = math.ceil(_instant(moved) / 1000) * 1000
    moved["time"] = _iso(at)
    return at, moved


def _compressed(
    events: list[Event], wall_start: int, seconds: float, cut_at: int | None = None
) -> list[tuple[int, Event]]:
    """Map a simulated run (times from 0) so that its simulated span (or `cut_at`) lasts `seconds`."""
    span = cut_at if cut_at is not None else max(_instant(e) for e in events)
    scale = seconds * 1000 / max(span, 1)
    kept = [e for e in events if cut_at is None or _instant(e) <= cut_at]
    return [_retimed(e, lambda t: wall_start + round(t * scale)) for e in kept]


def _shifted(events: list[Event], wall_start: int) -> list[tuple[int, Event]]:
    """A past run at its own pace, starting at `wall_start`."""
    return [_retimed(e, lambda t: wall_start + t) for e in events]


def _local_run_id(start_ms: int, rng: random.Random) -> str:
    # The local runtime's run ids are the start time in microseconds.
    return str(start_ms * 1000 + rng.randrange(1000))


def _sfn_run_id(rng: random.Random) -> str:
    return f"sfn-{uuid.UUID(int=rng.getrandbits(128))}"


def _blocked_report_run(spec: RunSpec, rng: random.Random) -> tuple[list[Event], int]:
    """ReportFlow's events up to the moment one train task is still RUNNABLE, plus the queue-blocked event
    Batch sends for it then; returns them and that moment (simulated ms)."""
    events = simulate_run(spec, rng)
    train_starting = [
        e
        for e in events
        if e["detail"].get("parameters", {}).get("metaflow.step_name") == "train"
        and e["detail"]["status"] == "STARTING"
    ]
    waiting = max(train_starting, key=_instant)  # the task that starts last is still waiting just before
    cut = _instant(waiting) - 1
    runnable = [
        e
        for e in events
        if e["detail"].get("jobId") == waiting["detail"]["jobId"] and e["detail"]["status"] == "RUNNABLE"
    ][-1]
    blocked = copy.deepcopy(runnable)
    blocked["id"] = str(uuid.UUID(int=rng.getrandbits(128)))
    blocked["detail-type"] = "Batch Job Queue Blocked"
    blocked["detail"]["statusReason"] = BLOCKED_REASON
    blocked["time"] = _iso(cut)
    kept = [e for e in events if _instant(e) <= cut]
    return [*kept, blocked], cut


def build_demo(start_ms: int, seed: int = DEFAULT_SEED) -> Demo:
    """The demo's runs and its schedule, with the live runs starting at `start_ms` (epoch ms).

    The same (start, seed) gives the same demo; another start gives other run and job ids, so a demo
    replayed into a kept table (DATA_DIR) adds runs instead of mixing with the earlier ones."""
    rng = random.Random(f"{seed}:{start_ms}")
    runs: list[DemoRun] = []
    timeline: list[tuple[int, Event]] = []
    past: list[tuple[int, Event]] = []

    # -- history: what happened over the last day, at its own pace ------------------------------------------
    history = [
        (26, "TrainFlow", {}, 2, "succeeded", None, "yesterday's training run"),
        (5, "FanoutFlow", {}, 2, "succeeded", None, "this morning's fan-out"),
        (
            3,
            "TrainFlow",
            {"train": {1: ["user_code"] * 3}},
            2,
            "failed",
            "user_code",
            "a bug, three attempts",
        ),
    ]
    for hours_ago, flow, outcomes, max_retries, status, failure, story in history:
        run_start = start_ms - hours_ago * _HOUR_MS
        spec = RunSpec(
            flow,
            _local_run_id(run_start, rng),
            tags=("team:ml",),
            fanout=4,
            max_retries=max_retries,
            outcomes=outcomes,
        )
        past += _shifted(simulate_run(spec, rng), run_start)
        runs.append(DemoRun(flow, spec.run_id, story, status, failure, live=False))

    # -- live runs: (offset s, replay s) ----------------------------------------------------------------------
    fanout = RunSpec("FanoutFlow", _local_run_id(start_ms, rng), user="alice", tags=("team:ml",), fanout=6)
    timeline += _compressed(simulate_run(fanout, rng), start_ms, 75)
    runs.append(DemoRun("FanoutFlow", fanout.run_id, "foreach over 6 splits", "succeeded"))

    scoring = RunSpec(
        "ScoringFlow",
        _sfn_run_id(rng),
        orchestrator="step-functions",
        user="bob",
        state_machine="ScoringFlow",
        tags=("team:ml", "prod"),
        fanout=3,
        outcomes={"train": {1: ["spot", "ok"]}},
    )
    timeline += _compressed(simulate_run(scoring, rng), start_ms + 4_000, 80)
    runs.append(
        DemoRun(
            "ScoringFlow",
            scoring.run_id,
            "Step Functions; a spot reclaim retried inside the Batch job",
            "succeeded",
            retried_failure="spot_reclaim",
            orchestrator="step-functions",
        )
    )

    spot = RunSpec(
        "TrainFlow",
        _local_run_id(start_ms + 10_000, rng),
        user="carol",
        tags=("team:ml",),
        fanout=4,
        outcomes={"train": {1: ["spot", "ok"]}},
    )
    timeline += _compressed(simulate_run(spot, rng), start_ms + 10_000, 85)
    runs.append(
        DemoRun(
            "TrainFlow",
            spot.run_id,
            "a spot reclaim, retried as a new job",
            "succeeded",
            retried_failure="spot_reclaim",
        )
    )

    oom = RunSpec(
        "TrainFlow",
        _local_run_id(start_ms + 25_000, rng),
        user="carol",
        tags=("team:ml",),
        fanout=4,
        max_retries=1,
        outcomes={"train": {2: ["oom", "oom"]}},
    )
    timeline += _compressed(simulate_run(oom, rng), start_ms + 25_000, 60)
    runs.append(DemoRun("TrainFlow", oom.run_id, "out of memory twice: the run fails", "failed", "oom"))

    report = RunSpec("ReportFlow", _local_run_id(start_ms + 35_000, rng), user="dave", fanout=3)
    report_events, cut = _blocked_report_run(report, rng)
    timeline += _compressed(report_events, start_ms + 35_000, 70, cut_at=cut)
    runs.append(
        DemoRun("ReportFlow", report.run_id, "still going: one task waits on a blocked queue", "running")
    )

    # A stable sort keeps each run's own order among events of the same second.
    timeline.sort(key=lambda pair: pair[0])
    past.sort(key=lambda pair: pair[0])
    schedule = [ScheduledEvent(max(0, at - start_ms) / 1000, event) for at, event in timeline]
    return Demo(start_ms=start_ms, runs=runs, schedule=schedule, history=[event for _, event in past])


class DemoPlayer:
    """Plays `build_demo(now)` into `sink`, each live event when the clock reaches its time.

    Live events due at the same second go to the sink together (one list). The history is sent one event
    at a time while the next live event is not yet due, so the live runs keep to the clock however slow the
    store is. `clock()` gives epoch seconds and `wait(seconds)` returns True when the player must stop; the
    defaults are the wall clock and a stop event.
    """

    def __init__(
        self,
        sink: Callable[[list[Event]], object],
        *,
        clock: Callable[[], float] = time.time,
        wait: Callable[[float], bool] | None = None,
        console: Callable[[str], None] | None = None,
        seed: int = DEFAULT_SEED,
        logger: Logger | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self._sink = sink
        # Where the failed attempts' logs are written (DATA_DIR: the local log source reads DATA_DIR/logs).
        self._log_dir = log_dir
        self._clock = clock
        self._stopping = threading.Event()
        self._wait = wait or self._stopping.wait
        self._console = console or (lambda line: None)
        self._seed = seed
        self._log = logger or Logger(service="runwatch")
        self._thread: threading.Thread | None = None
        self.demo: Demo | None = None
        self.played = 0
        self.finished = False

    def play(self) -> Demo:
        start = self._clock()
        demo = self.demo = build_demo(int(start * 1000), self._seed)
        if self._log_dir is not None:
            write_demo_logs([*demo.history, *(item.event for item in demo.schedule)], self._log_dir)
        live = sum(1 for run in demo.runs if run.live)
        self._console(
            f"demo: replaying {live} Metaflow runs over the next {demo.duration:.0f} s "
            f"(and {len(demo.runs) - live} from the last day); DEMO=0 turns it off"
        )
        pending = list(demo.schedule)
        backlog = list(demo.history)
        while pending or backlog:
            if self._stopping.is_set():
                return demo
            due = pending[0].offset if pending else None
            delay = start + due - self._clock() if due is not None else 0.0
            if backlog and (due is None or delay > 0):
                self._send([backlog.pop(0)])
                continue
            if delay > 0 and self._wait(delay):
                return demo
            batch = [item.event for item in pending if item.offset <= (due or 0.0)]
            pending = pending[len(batch) :]
            self._send(batch)
        self.finished = True
        self._console("demo: all events played; ReportFlow stays running, waiting on its blocked queue")
        return demo

    def _send(self, events: list[Event]) -> None:
        try:
            self._sink(events)
        except Exception:  # the store may be restarting; the next batch may pass
            self._log.exception("demo events failed", events=len(events))
        self.played += len(events)

    def start(self) -> DemoPlayer:
        self._thread = threading.Thread(target=self.play, name="demo", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
