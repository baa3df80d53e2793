"""Run a piece of Python in a fresh interpreter: what a module loads, compiles or connects at import is only
seen in a process that has imported nothing yet (pytest's own has loaded boto3, pydantic and the rest).

The child is `sys.executable` with the given flags (`-I` by default: no user site, no PYTHON* variables, no
current folder on sys.path) and an environment of PATH and `env` only, so nothing from the developer's
machine or the tests' own environment reaches it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

_TAIL = 3000  # characters of each output quoted when the child fails


def run_python(
    code: str,
    *args: str,
    flags: Sequence[str] = ("-I",),
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdin: str | None = None,
    timeout: float = 120,
) -> str:
    """What `python <flags> -c code args` printed; raises AssertionError with the tail of its output and
    errors when it exits with a failure."""
    result = subprocess.run(
        [sys.executable, *flags, "-c", code, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), **(env or {})},
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"python exited with {result.returncode}:\n{result.stdout[-_TAIL:]}\n{result.stderr[-_TAIL:]}"
        )
    return result.stdout


def last_line(output: str) -> str:
    """The last line printed (a probe prints its answer last, after anything the code under test logs)."""
    lines = output.strip().splitlines()
    if not lines:
        raise AssertionError("python printed nothing")
    return lines[-1]
