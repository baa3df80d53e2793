"""Start the real local stack (`python -m runwatch_dev.local`) as a subprocess and talk HTTP to it.

For any test that needs the whole thing running - these integration tests, the browser tests:

    from tests.integration.local.stack import start_local_stack

    stack = start_local_stack(demo=False, work_dir=tmp_path)  # free port, in-memory table, no demo
    try:
        stack.post_events([event, ...]).json()          # {"accepted": 1, "ignored": 0, ...}
        stack.get("/runs?limit=5").json()
        page.goto(stack.url)                            # the dashboard
    finally:
        stack.stop()                                    # SIGTERM; returns the exit code (0)

`start_local_stack` returns once the stack prints that it is ready (the table exists and requests are
served). With `demo=True`, `stack.wait_for_output("demo: all events played")` waits for the whole demo
(about two minutes). Its output (the request log, errors) is in `stack.output()`. The `local_stack`
fixture in conftest.py wraps this and stops every stack a test started.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
READY = re.compile(r"runwatch is running at (http://\S+)")
DEAD_LETTERS = re.compile(r"rejected events go to (\S+)")
# The stack's own settings come from these; a test passes what it wants through `env`.
_CLEARED = ("PORT", "DEMO", "DATA_DIR", "TABLE_NAME", "AWS_ENDPOINT_URL_DYNAMODB", "DASHBOARD_URL")
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class LocalStackProcess:
    def __init__(self, process: subprocess.Popen[bytes], log_path: Path, data_dir: Path | None) -> None:
        self.process = process
        self.log_path = log_path
        self.data_dir = data_dir
        self.url = ""
        self.dead_letter_path: Path | None = data_dir / "dead-letters.jsonl" if data_dir else None

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_output(self, pattern: str, timeout: float = 300.0) -> re.Match[str]:
        """Wait until the stack's output matches `pattern` (a regular expression); fail if it exits first."""
        compiled = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            found = compiled.search(self.output())
            if found:
                return found
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the local stack exited with {self.process.returncode} before printing {pattern!r}:\n"
                    + self.output()
                )
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the local stack did not print {pattern!r} in {timeout:.0f} s:\n{self.output()}"
                )
            time.sleep(0.1)

    # -- HTTP ------------------------------------------------------------------------------------------------
    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        request = urllib.request.Request(
            self.url.rstrip("/") + path, data=body, method=method, headers=headers or {}
        )
        try:
            with _NO_PROXY.open(request, timeout=60) as response:
                return Reply(response.status, dict(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers.items()), error.read())

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self.request("GET", path, headers=headers)

    def post_events(self, events: Any) -> Reply:
        """POST /events with `events` (a list, one event, or raw bytes sent as they are)."""
        body = events if isinstance(events, bytes) else json.dumps(events).encode()
        return self.request("POST", "/events", body, {"Content-Type": "application/json"})

    def dead_letters(self) -> list[dict[str, Any]]:
        if self.dead_letter_path is None or not self.dead_letter_path.is_file():
            return []
        return [json.loads(line) for line in self.dead_letter_path.read_text().splitlines() if line.strip()]

    # -- processes -------------------------------------------------------------------------------------------
    def dynamodb_local_pids(self) -> list[int]:
        """The DynamoDB Local (java) processes this stack started, while it runs."""
        return [pid for pid in _children(self.pid) if b"DynamoDBLocal.jar" in _cmdline(pid)]

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, wait for the exit, return the exit code (SIGKILL and raise if it does not exit)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise TimeoutError(
                    f"the local stack ignored SIGTERM for {timeout:.0f} s:\n{self.output()}"
                ) from None
        return int(self.process.returncode)


def local_stack_command() -> list[str]:
    return [sys.executable, "-m", "runwatch_dev.local"]


def start_local_stack(
    port: int = 0,
    demo: bool = False,
    data_dir: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300.0,
    wait: bool = True,
    work_dir: str | os.PathLike[str] | None = None,
) -> LocalStackProcess:
    """Start the stack; `port=0` picks a free port. `env` adds or overrides variables (NOTIFY_*, ...).

    Its output goes to a log file in `work_dir`, which is also its TMPDIR (pass pytest's `tmp_path` so
    nothing is left behind; default: the system's temporary directory). With `wait=False` it returns at
    once (for tests of start-up failures: see `process.wait()`)."""
    child_env = {name: value for name, value in os.environ.items() if name not in _CLEARED}
    child_env = {name: value for name, value in child_env.items() if not name.startswith("NOTIFY_")}
    python_path = [str(ROOT / "layers" / "runwatch"), str(ROOT / "dev"), str(ROOT)]
    if child_env.get("PYTHONPATH"):
        python_path.append(child_env["PYTHONPATH"])
    child_env.update(
        PYTHONPATH=os.pathsep.join(python_path),
        PYTHONUNBUFFERED="1",
        PORT=str(port),
        DEMO="1" if demo else "0",
    )
    if data_dir is not None:
        child_env["DATA_DIR"] = str(data_dir)
    if work_dir is not None:
        child_env["TMPDIR"] = str(work_dir)
    child_env.update(env or {})
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept after the process ends, for its output
        prefix="runwatch-local-", suffix=".log", dir=work_dir, delete=False
    )
    with log:
        # A session of its own: a Ctrl-C on pytest reaches the fixture's teardown, not the stack directly.
        process = subprocess.Popen(
            local_stack_command(),
            cwd=ROOT,
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack = LocalStackProcess(process, Path(log.name), Path(data_dir) if data_dir is not None else None)
    if not wait:
        return stack
    try:
        stack.url = stack.wait_for_output(READY.pattern, timeout).group(1)
        if stack.dead_letter_path is None:
            stack.dead_letter_path = Path(stack.wait_for_output(DEAD_LETTERS.pattern, timeout).group(1))
    except BaseException:
        stack.stop()
        raise
    return stack


def _children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            children.append(int(entry.name))
    return children


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def process_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
