"""Compute used: what each attempt's container asked for, times how long it ran, summed exactly.

An attempt holds the vCPUs, memory and GPUs of its Batch job (or of its node, for a multi-node job). Its
usage is resources x running time (started -> stopped, or -> now while it runs). Sums are kept as integers
(milli-vCPU x ms, MiB x ms, GPU x ms) so that a step summary can add and subtract them exactly, whatever the
order of events: a finished attempt adds its products; a running one adds its resources and its resources x
start time, from which the usage "now" is `now x resources - resources x start`, computed at read without
reading any task. Attempts that failed (including those Metaflow or Batch killed) also count as waste.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields

from runwatch.domain.task_state import AttemptState, TaskState

MS_PER_HOUR = 3_600_000
MIB_PER_GIB = 1024
COUNTER_PREFIX = "use:"


@dataclass(frozen=True, slots=True)
class UsageTotals:
    """Exact integer sums over attempts: finished ones as products, running ones as resources and
    resources x start (epoch ms). Addable and subtractable like counters."""

    vcpu_ms: int = 0  # milli-vCPU x ms of finished attempts
    memory_ms: int = 0  # MiB x ms
    gpu_ms: int = 0  # GPU x ms
    wasted_vcpu_ms: int = 0  # milli-vCPU x ms of attempts that failed or were killed
    live_vcpu: int = 0  # milli-vCPU of running attempts
    live_vcpu_at: int = 0  # sum of milli-vCPU x started_at of running attempts
    live_memory: int = 0  # MiB
    live_memory_at: int = 0
    live_gpu: int = 0
    live_gpu_at: int = 0

    def counters(self) -> dict[str, int]:
        """As step summary counters (`use:<field>`), non-zero ones only."""
        return {f"{COUNTER_PREFIX}{f.name}": v for f in fields(self) if (v := getattr(self, f.name))}

    @staticmethod
    def of_counters(counters: Mapping[str, int]) -> UsageTotals:
        """The `use:` counters of a step summary (other counters are ignored)."""
        return UsageTotals(
            **{f.name: int(counters.get(f"{COUNTER_PREFIX}{f.name}", 0)) for f in fields(UsageTotals)}
        )

    def plus(self, other: UsageTotals) -> UsageTotals:
        return UsageTotals(*(getattr(self, name) + getattr(other, name) for name in _TOTALS_FIELDS))

    def at(self, now_ms: int) -> UsageHours:
        """The usage as of `now_ms`: running attempts count up to then."""
        vcpu = self.vcpu_ms + max(0, now_ms * self.live_vcpu - self.live_vcpu_at)
        memory = self.memory_ms + max(0, now_ms * self.live_memory - self.live_memory_at)
        gpu = self.gpu_ms + max(0, now_ms * self.live_gpu - self.live_gpu_at)
        return UsageHours(
            vcpu_hours=vcpu / 1000 / MS_PER_HOUR,
            memory_gib_hours=memory / MIB_PER_GIB / MS_PER_HOUR,
            gpu_hours=gpu / MS_PER_HOUR,
            wasted_vcpu_hours=self.wasted_vcpu_ms / 1000 / MS_PER_HOUR,
        )


# The field names once: dataclasses.fields() on every addition was a tenth of mapping a run detail's tasks.
_TOTALS_FIELDS = tuple(f.name for f in fields(UsageTotals))


def total(parts: Iterable[UsageTotals]) -> UsageTotals:
    result: UsageTotals | None = None
    for part in parts:
        result = part if result is None else result.plus(part)
    return UsageTotals() if result is None else result


@dataclass(frozen=True, slots=True)
class Prices:
    """USD per vCPU-hour, GiB-hour and GPU-hour; None when not configured."""

    vcpu_hour: float | None = None
    gib_hour: float | None = None
    gpu_hour: float | None = None

    @property
    def configured(self) -> bool:
        return any(p is not None for p in (self.vcpu_hour, self.gib_hour, self.gpu_hour))


@dataclass(frozen=True, slots=True)
class UsageHours:
    vcpu_hours: float = 0.0
    memory_gib_hours: float = 0.0
    gpu_hours: float = 0.0
    wasted_vcpu_hours: float = 0.0

    def cost(self, prices: Prices) -> float | None:
        """Estimated USD at `prices` (an unset price counts as 0); None when no price is configured."""
        if not prices.configured:
            return None
        return (
            self.vcpu_hours * (prices.vcpu_hour or 0.0)
            + self.memory_gib_hours * (prices.gib_hour or 0.0)
            + self.gpu_hours * (prices.gpu_hour or 0.0)
        )

    def plus(self, other: UsageHours) -> UsageHours:
        return UsageHours(
            self.vcpu_hours + other.vcpu_hours,
            self.memory_gib_hours + other.memory_gib_hours,
            self.gpu_hours + other.gpu_hours,
            self.wasted_vcpu_hours + other.wasted_vcpu_hours,
        )


def milli_vcpu(vcpu: float | None) -> int:
    return 0 if vcpu is None else round(vcpu * 1000)


def attempt_usage(attempt: AttemptState) -> UsageTotals:
    """One attempt's sums: finished (started and stopped), running (started, not stopped), or nothing."""
    started, stopped = attempt.started_at, attempt.stopped_at
    vcpu, memory, gpu = milli_vcpu(attempt.vcpu), attempt.memory_mib or 0, attempt.gpu or 0
    if started is None or not (vcpu or memory or gpu):
        return UsageTotals()
    if stopped is None:
        if attempt.status not in ("starting", "running"):
            return UsageTotals()  # ended without a stop time: its running time is unknown
        return UsageTotals(
            live_vcpu=vcpu,
            live_vcpu_at=vcpu * started,
            live_memory=memory,
            live_memory_at=memory * started,
            live_gpu=gpu,
            live_gpu_at=gpu * started,
        )
    ran = max(0, stopped - started)
    wasted = vcpu * ran if attempt.status == "failed" else 0
    return UsageTotals(vcpu * ran, memory * ran, gpu * ran, wasted)


def task_usage(state: TaskState | None) -> UsageTotals:
    """The sum of the task's attempts."""
    return total(attempt_usage(a) for a in state.attempts) if state is not None else UsageTotals()


def usage_counters(state: TaskState | None) -> Counter[str]:
    """A task's usage as step summary counters."""
    return Counter(task_usage(state).counters())
