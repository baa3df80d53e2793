"""`python -m runwatch_dev.local` (`make local`): runwatch on this machine, no AWS account needed.

Starts Amazon's DynamoDB Local, creates the table from template.yaml, and serves on 127.0.0.1:$PORT the
status API and dashboard (through the API's resolver, as API Gateway proxy events) and `POST /events`
(EventBridge events through the ingest service). Unless DEMO=0 it replays demo runs; with NOTIFY_* set it
reads the table's stream into the notifier; the sweeper runs every SWEEP_INTERVAL_SECONDS. It runs in the
foreground until Ctrl-C or SIGTERM, then stops everything it started (threads and the DynamoDB Local
process) and exits 0.

Environment (or the matching options, see --help): PORT (3000; 0 picks a free port), DEMO (1; 0 = off),
DYNAMODB_PORT (0 = any free; fix it for `sam local`, docs/sam-cli.md),
DATA_DIR (keep the table and the dead letters there across restarts; default: in memory and a temporary
directory), SWEEP_INTERVAL_SECONDS (60), NOTIFY_SLACK_URL / NOTIFY_WEBHOOK_URL / NOTIFY_WEBHOOK_SECRET /
NOTIFY_RULES (docs/notifications.md), LOG_LEVEL or POWERTOOLS_LOG_LEVEL (WARNING).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runwatch.logs.source import LogSource
    from runwatch.services.notify import Notifier
    from runwatch.settings import NotifierSettings, SweeperSettings

TABLE_NAME = "runwatch-local"
DEFAULT_PORT = 3000
READY_LINE = "runwatch is running at {url}  (Ctrl-C to stop)"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class UsageError(ValueError):
    """A setting is malformed; the message names it."""


@dataclass(frozen=True, slots=True)
class LocalConfig:
    port: int = DEFAULT_PORT
    demo: bool = True
    data_dir: Path | None = None
    table_name: str = TABLE_NAME
    dynamodb_port: int = 0  # 0: any free port; a fixed one lets `sam local` containers find DynamoDB Local


def _flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE or value == "":
        return True
    if value in _FALSE:
        return False
    raise UsageError(f"{name} must be 1 or 0, got {raw!r}")


def _port(raw: str, name: str = "PORT") -> int:
    try:
        port = int(raw)
    except ValueError:
        raise UsageError(f"{name} must be a port number, got {raw!r}") from None
    if not 0 <= port <= 65535:
        raise UsageError(f"{name} must be from 0 to 65535, got {port}")
    return port


def parse_config(argv: Sequence[str], env: MutableMapping[str, str]) -> LocalConfig:
    """Options win over the environment. `--rules` is NOTIFY_RULES (written into `env` for the notifier)."""
    parser = argparse.ArgumentParser(
        prog="python -m runwatch_dev.local",
        description="Run runwatch's API, dashboard and event intake on 127.0.0.1 against DynamoDB Local.",
    )
    parser.add_argument("--port", help=f"port on 127.0.0.1 (env PORT, default {DEFAULT_PORT}; 0 = any free)")
    demo = parser.add_mutually_exclusive_group()
    demo.add_argument(
        "--demo", dest="demo", action="store_const", const="1", help="replay demo runs (env DEMO=1)"
    )
    demo.add_argument("--no-demo", dest="demo", action="store_const", const="0", help="no demo (env DEMO=0)")
    parser.add_argument("--data-dir", help="keep the table and dead letters here (env DATA_DIR)")
    parser.add_argument(
        "--dynamodb-port", help="DynamoDB Local's port (env DYNAMODB_PORT, default 0 = any free)"
    )
    parser.add_argument("--rules", help="notification rules file (env NOTIFY_RULES)")
    args = parser.parse_args(list(argv))
    if args.rules:
        env["NOTIFY_RULES"] = args.rules
    data_dir = args.data_dir or env.get("DATA_DIR") or None
    return LocalConfig(
        port=_port(args.port if args.port is not None else env.get("PORT") or str(DEFAULT_PORT)),
        demo=_flag("DEMO", args.demo if args.demo is not None else env.get("DEMO", "1")),
        data_dir=Path(data_dir).expanduser().resolve() if data_dir else None,
        dynamodb_port=_port(
            args.dynamodb_port if args.dynamodb_port is not None else env.get("DYNAMODB_PORT") or "0",
            "DYNAMODB_PORT",
        ),
    )


def prepare_environment(env: MutableMapping[str, str]) -> None:
    """Defaults for a local process, set before Powertools and boto3 are imported: quiet logs, a region, and
    placeholder credentials when none are configured (DynamoDB Local wants some, any will do)."""
    level = env.get("LOG_LEVEL") or env.get("POWERTOOLS_LOG_LEVEL") or "WARNING"
    env["POWERTOOLS_LOG_LEVEL"] = level
    env.setdefault("POWERTOOLS_SERVICE_NAME", "runwatch")
    env.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Runwatch")
    env.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    env.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    env.setdefault("AWS_DEFAULT_REGION", region)
    env.setdefault("AWS_REGION", region)
    import boto3

    if boto3.Session().get_credentials() is None:
        env["AWS_ACCESS_KEY_ID"] = "local"
        env["AWS_SECRET_ACCESS_KEY"] = "local"


def notifications_wanted(env: Mapping[str, str]) -> bool:
    return any(name.startswith("NOTIFY_") and value.strip() for name, value in env.items())


class LocalStack:
    """Everything `make local` runs, started in order and stopped in reverse.

    It works on the process environment (the settings classes read it, and it tells them where the local
    table is), and binds the PynamoDB models, which are module state, to its table: run it in a process of
    its own. Tests start it as a subprocess (tests/integration/local/stack.py).
    """

    def __init__(self, config: LocalConfig, console: Callable[[str], None] = print) -> None:
        self.config = config
        self.env = os.environ
        self.console = console
        self._stops: list[tuple[str, Callable[[], None]]] = []
        self.url = ""
        self.ddb: Any = None
        self.dead_letter_path: Path | None = None
        self._temp_dir: Path | None = None

    def start(self) -> LocalStack:
        """Start everything; on any failure, stop what was started and raise."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        import boto3

        from runwatch.observability import logger
        from runwatch.settings import ApiSettings, IngestSettings, NotifierSettings, SweeperSettings
        from runwatch.wiring import api_factory, build_ingestor, build_local_log_source
        from runwatch_dev.local.apigw import template_routes
        from runwatch_dev.local.dead_letters import FILE_NAME, FileDeadLetters
        from runwatch_dev.local.dynamodb_local import DynamoDBLocal
        from runwatch_dev.local.intake import EventIntake
        from runwatch_dev.local.resolver_pool import ResolverPool
        from runwatch_dev.local.server import LocalServer
        from runwatch_dev.local.table_from_template import create_table

        config, env = self.config, self.env
        # Anything that reads the settings from the environment finds the local table (its endpoint is
        # set once DynamoDB Local runs).
        env["TABLE_NAME"] = config.table_name
        # Cheap checks first, so a mistake is reported before DynamoDB Local's start-up.
        ingest_settings, api_settings = IngestSettings.from_env(env), ApiSettings.from_env(env)
        sweeper_settings = SweeperSettings.from_env(env)
        if config.demo and not env.get("RECONCILE"):
            # The demo's job ids are made up: asking a real AWS account about them would only cost calls.
            sweeper_settings = replace(sweeper_settings, reconcile="off")
        server = LocalServer(template_routes(), port=config.port, console=self.console, logger=logger)
        self._stops.append(("http server", server.stop))
        self.url = server.url
        env.setdefault("DASHBOARD_URL", self.url)  # links in notifications open the local dashboard
        notifier_settings = NotifierSettings.from_env(env) if notifications_wanted(env) else None

        if config.data_dir is not None:
            config.data_dir.mkdir(parents=True, exist_ok=True)
            dead_letter_dir = config.data_dir
        else:
            dead_letter_dir = self._temp_dir = Path(tempfile.mkdtemp(prefix="runwatch-local-"))
        self.dead_letter_path = dead_letter_dir / FILE_NAME
        # Attempts' logs: files under <DATA_DIR or the temporary folder>/logs, else CloudWatch when AWS
        # credentials are configured, else 404.
        log_source = build_local_log_source(str(dead_letter_dir))

        ddb = self.ddb = DynamoDBLocal(
            port=config.dynamodb_port or None,
            db_path=config.data_dir / "dynamodb" if config.data_dir else None,
        )
        self._stops.append(("DynamoDB Local", ddb.stop))
        ddb.start()
        client_args = {
            "endpoint_url": ddb.endpoint,
            "region_name": env["AWS_DEFAULT_REGION"],
        }
        dynamodb = boto3.client("dynamodb", **client_args)
        create_table(dynamodb, config.table_name)
        env["AWS_ENDPOINT_URL_DYNAMODB"] = ddb.endpoint
        ingest_settings = replace(ingest_settings, dynamodb_endpoint=ddb.endpoint)
        notifier = (
            self._build_notifier(replace(notifier_settings, dynamodb_endpoint=ddb.endpoint), log_source)
            if notifier_settings is not None
            else None
        )

        dead_letters = FileDeadLetters(self.dead_letter_path)
        app = ResolverPool(
            api_factory(
                replace(api_settings, dynamodb_endpoint=ddb.endpoint), logger=logger, log_source=log_source
            )
        )
        server.start(app, EventIntake(build_ingestor(ingest_settings), dead_letters, logger=logger))

        if notifier is not None:
            self._start_notifications(notifier, dynamodb, boto3.client("dynamodbstreams", **client_args))
        self._start_sweeper(replace(sweeper_settings, dynamodb_endpoint=ddb.endpoint))
        self.console(READY_LINE.format(url=self.url))
        self.console(f"DynamoDB Local at {ddb.endpoint}, table {config.table_name}")
        if config.data_dir is None:
            self.console(f"rejected events go to {self.dead_letter_path}")
        if config.demo:
            from runwatch_dev.local.demo import DemoPlayer

            # Its own ingestor: posted events need not queue behind the demo's (conditional writes keep the
            # two consistent, as with concurrent Lambda invocations).
            intake = EventIntake(build_ingestor(ingest_settings), dead_letters, logger=logger)
            player = DemoPlayer(
                intake.ingest_all, console=self.console, logger=logger, log_dir=dead_letter_dir
            ).start()
            self._stops.append(("demo", player.stop))

    def _build_notifier(self, settings: NotifierSettings, log_source: LogSource) -> Notifier:
        from runwatch.wiring import build_local_notifier

        # Raises (RulesError, ConfigError) with the reason for a bad rules file or URL: start-up stops there.
        return build_local_notifier(settings, log_source=log_source)

    def _start_notifications(self, notifier: Notifier, dynamodb: Any, streams: Any) -> None:
        from runwatch.observability import logger
        from runwatch_dev.local.stream_poller import StreamPoller

        def notify(records: list[dict[str, Any]]) -> None:
            for failure in notifier.handle_stream_records(records):
                logger.warning(
                    "notification not sent", sequence_number=failure.sequence_number, reason=failure.reason
                )

        poller = StreamPoller(dynamodb, streams, self.config.table_name, notify, logger=logger).start()
        self._stops.append(("stream poller", poller.stop))
        channels = ", ".join(sorted(notifier.channels)) or "no channel configured"
        self.console(f"notifications: on ({channels})")

    def _start_sweeper(self, settings: SweeperSettings) -> None:
        from runwatch.observability import logger
        from runwatch.wiring import build_sweeper
        from runwatch_dev.boto3_clients import Boto3Clients
        from runwatch_dev.local.scheduler import Periodic

        sweeper = build_sweeper(settings, Boto3Clients(), logger=logger)
        job = Periodic(
            "sweeper",
            settings.sweep_interval_seconds,
            lambda: sweeper.sweep(int(time.time() * 1000)),
            logger=logger,
        ).start()
        self._stops.append(("sweeper", job.stop))

    def stop(self) -> None:
        """Stop in reverse order of start; idempotent, and a part that fails to stop does not keep the
        others running."""
        while self._stops:
            name, stop = self._stops.pop()
            try:
                stop()
            except Exception as error:
                self.console(f"warning: stopping the {name} failed: {error}")
        self._clean_temp_dir()

    def _clean_temp_dir(self) -> None:
        temp, self._temp_dir = self._temp_dir, None
        if temp is None:
            return
        if self.dead_letter_path is not None and self.dead_letter_path.is_file():
            self.console(f"rejected events are kept in {self.dead_letter_path}")
            return
        shutil.rmtree(temp, ignore_errors=True)


def _console(line: str) -> None:
    print(line, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    env = os.environ
    try:
        config = parse_config(sys.argv[1:] if argv is None else argv, env)
    except UsageError as error:
        print(f"runwatch: {error}", file=sys.stderr)
        return EXIT_USAGE
    prepare_environment(env)

    stopping = threading.Event()
    received: list[int] = []

    def request_stop(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        stopping.set()

    # Installed before anything starts, so a signal during start-up still stops cleanly.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, request_stop)

    stack = LocalStack(config, _console)
    try:
        stack.start()
    except Exception as error:
        stack.stop()
        print(f"runwatch: cannot start: {_reason(error)}", file=sys.stderr)
        return EXIT_USAGE if _is_usage_error(error) else EXIT_FAILED

    code = EXIT_OK
    while not stopping.wait(0.5):
        # Ctrl-C reaches DynamoDB Local too (same process group): give our own handler a moment to say so.
        if stack.ddb is not None and not stack.ddb.running and not stopping.wait(1.0):
            print("runwatch: DynamoDB Local exited unexpectedly:\n" + stack.ddb.log_tail(), file=sys.stderr)
            code = EXIT_FAILED
            break
    if received:
        _console(f"stopping ({signal.Signals(received[0]).name})")
    stack.stop()
    _console("stopped")
    return code


def _reason(error: BaseException) -> str:
    return str(error) or type(error).__name__


def _is_usage_error(error: BaseException) -> bool:
    from runwatch.notify.rules import RulesError
    from runwatch.settings import ConfigError
    from runwatch_dev.local.server import PortInUse

    return isinstance(error, ConfigError | RulesError | PortInUse | UsageError)


if __name__ == "__main__":
    sys.exit(main())
