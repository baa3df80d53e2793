"""Command line: `python -m runwatch_dev.cli backfill --since 24h` seeds the table from AWS with your credentials.

Reads Batch and Step Functions with the default credential chain (or --profile) and writes to the status
table named by --table or TABLE_NAME (AWS_ENDPOINT_URL_DYNAMODB points it at DynamoDB Local). Options win
over the environment variables of the same meaning; runwatch.wiring builds the runner.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from runwatch.settings import TableSettings

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.I)
_UNIT_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 7 * 86_400_000}


def parse_duration(text: str) -> int:
    """`24h`, `90m`, `7d` -> milliseconds."""
    match = _DURATION.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a duration like 24h, 90m or 7d: {text!r}")
    return int(match.group(1)) * _UNIT_MS[match.group(2).lower()]


class StderrProgress:
    """A one-line progress bar (a counter when the total is unknown), redrawn in place."""

    def __init__(self, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.label = ""
        self.total: int | None = None
        self.done = 0
        self._drawn = -1

    def start(self, label: str, total: int | None = None) -> None:
        self.label, self.total, self.done, self._drawn = label, total, 0, -1
        self._draw()

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._draw()

    def finish(self) -> None:
        self._draw(force=True)
        self.stream.write("\n")
        self.stream.flush()

    def _draw(self, force: bool = False) -> None:
        if self.total:
            filled = self.width * min(self.done, self.total) // self.total
            # Redraw only when the bar moves: a terminal is slow next to a loop.
            if filled == self._drawn and not force:
                return
            self._drawn = filled
            bar = "#" * filled + "-" * (self.width - filled)
            line = f"\r{self.label:<32} [{bar}] {self.done}/{self.total}"
        else:
            if self.done % 100 and not force and self.done > 1:
                return
            line = f"\r{self.label:<32} {self.done}"
        self.stream.write(line)
        self.stream.flush()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="runwatch", description="runwatch command line")
    commands = parser.add_subparsers(dest="command", required=True)
    backfill = commands.add_parser(
        "backfill",
        help="seed the status table from AWS Batch and Step Functions history",
        description="Ingest the jobs and executions AWS still remembers, as if their events had been seen. "
        "Idempotent: run it again, or let live events arrive meanwhile.",
    )
    backfill.add_argument("--since", type=parse_duration, default="24h", help="how far back, e.g. 24h, 3d")
    backfill.add_argument("--table", help="status table (env TABLE_NAME)")
    backfill.add_argument("--region", help="AWS region (default: your AWS configuration)")
    backfill.add_argument("--profile", help="AWS profile for Batch and Step Functions")
    backfill.add_argument("--retention-days", type=int, help="item TTL in days (env RETENTION_DAYS, 90)")
    backfill.add_argument("--no-jobs", action="store_true", help="skip AWS Batch jobs")
    backfill.add_argument("--no-executions", action="store_true", help="skip Step Functions executions")
    backfill.add_argument("--quiet", action="store_true", help="no progress bar")
    backfill.add_argument(
        "--notify",
        action="store_true",
        help="let the notifier send what the backfill changes (still only transitions newer than "
        "NOTIFY_MAX_AGE_MINUTES); without it the backfill notifies nobody",
    )
    return parser


def table_settings(args: argparse.Namespace, env: Mapping[str, str]) -> TableSettings:
    """The table settings from the environment, with --table, --region and --retention-days over it."""
    from runwatch.settings import TableSettings

    options = {"TABLE_NAME": args.table, "AWS_REGION": args.region, "RETENTION_DAYS": args.retention_days}
    return TableSettings.from_env({**env, **{k: str(v) for k, v in options.items() if v is not None}})


def backfill_command(args: argparse.Namespace, stderr: TextIO, env: Mapping[str, str] = os.environ) -> int:
    # Imported here so `--help` and argument errors answer without loading boto3 and PynamoDB.
    import boto3

    from runwatch.aws.batch_jobs import BatchUnavailable
    from runwatch.aws.executions import ExecutionsUnavailable
    from runwatch.services.backfill import NoProgress
    from runwatch.settings import ConfigError
    from runwatch.store.repository import StoreUnavailable
    from runwatch.wiring import build_backfill
    from runwatch_dev.boto3_clients import Boto3Clients

    try:
        settings = table_settings(args, env)
    except ConfigError as exc:
        missing_table = "TABLE_NAME" in exc.variables
        reason = "no table: pass --table or set TABLE_NAME" if missing_table else str(exc)
        stderr.write(f"runwatch backfill: {reason}\n")
        return 2
    try:
        runner = build_backfill(
            settings,
            Boto3Clients(boto3.Session(region_name=args.region, profile_name=args.profile)),
            jobs=not args.no_jobs,
            executions=not args.no_executions,
            progress=NoProgress() if args.quiet else StderrProgress(stderr),
            notify=args.notify,
        )
    except Exception as exc:  # botocore's NoRegionError, ProfileNotFound, ...
        stderr.write(f"runwatch backfill: cannot create AWS clients: {exc}\n")
        return 2
    now = int(time.time() * 1000)
    try:
        report = runner.run(since_ms=now - args.since, now_ms=now)
    except (BatchUnavailable, ExecutionsUnavailable, StoreUnavailable) as exc:
        stderr.write(f"\nrunwatch backfill: stopped: {exc}\n")
        return 1
    for line in report.rejected[:20]:
        stderr.write(f"rejected {line}\n")
    stderr.write(f"runwatch backfill: {report.summary()}\n")
    return 0


def main(argv: Sequence[str] | None = None, stderr: TextIO = sys.stderr) -> int:
    args = _parser().parse_args(argv)
    if args.command == "backfill":
        return backfill_command(args, stderr)
    return 2  # argparse rejects unknown commands before this


if __name__ == "__main__":
    sys.exit(main())
