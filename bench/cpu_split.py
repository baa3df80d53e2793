"""Whose CPU a benchmark phase spent: this process's (the consumers, botocore included) and DynamoDB Local's.

On the bench machine both share the same cores, so a rate measured against DynamoDB Local is a ratio of CPU
per unit of work on each side. Reading the two apart says which side a change has to cut. DynamoDB Local's
CPU is its process's user and system time from /proc (Linux); elsewhere it is left out.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path


def _own_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _process_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of another process, None when /proc cannot tell."""
    stat = Path(f"/proc/{pid}/stat")
    if pid is None or not stat.exists():
        return None
    # Fields after the command name (which may hold spaces) start at state; utime and stime are the 12th and 13th.
    fields = stat.read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuSplit:
    """CPU seconds spent between start() and stop(): here and in the server process."""

    server_pid: int | None
    own: float = 0.0
    server: float | None = None

    def start(self) -> None:
        self.own = -_own_seconds()
        started = _process_seconds(self.server_pid)
        self.server = None if started is None else -started

    def stop(self) -> None:
        self.own += _own_seconds()
        ended = _process_seconds(self.server_pid)
        self.server = None if ended is None or self.server is None else self.server + ended

    def per(self, count: int, prefix: str) -> dict[str, dict[str, float | str]]:
        """`<prefix>.client_cpu_ms` and `<prefix>.server_cpu_ms` per unit of work."""
        figures: dict[str, dict[str, float | str]] = {
            f"{prefix}.client_cpu_ms": {"value": round(self.own * 1000 / count, 2), "unit": "ms"}
        }
        if self.server is not None:
            figures[f"{prefix}.server_cpu_ms"] = {"value": round(self.server * 1000 / count, 2), "unit": "ms"}
        return figures
