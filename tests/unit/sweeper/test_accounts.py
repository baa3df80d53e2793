"""The sweeper across accounts: member accounts' lookups go through an assumed role (moto STS), or are
skipped and counted without one; the central account's own jobs keep the function's describers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from runwatch.aws.accounts import REFRESH_MARGIN_SECONDS, AccountDescribers
from runwatch.aws.batch_jobs import BatchJobs
from tests.unit.sweeper.test_sweep_rules import HOUR, T0, Executions, Jobs, Reads, _run, _sweeper, _task

HOME = "123456789012"  # moto's account: GetCallerIdentity answers it
MEMBER = "210987654321"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(tz=UTC).timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sts() -> Any:
    with mock_aws():
        yield boto3.client("sts", region_name="us-east-1")


def _describers(sts: Any, role: str | None, clock: Clock | None = None) -> tuple[AccountDescribers, Jobs]:
    own = Jobs()
    made: list[tuple[str, dict[str, Any]]] = []

    def make_client(service: str, **kwargs: Any) -> Any:
        made.append((service, kwargs))
        return boto3.client(service, **kwargs)

    describers = AccountDescribers(
        lambda: sts,
        role,
        home_region="us-east-1",
        own=(own, Executions()),
        make_client=make_client,
        clock=clock or Clock(),
    )
    return describers, own


def test_own_account_in_its_region_uses_the_functions_describers(sts: Any) -> None:
    describers, own = _describers(sts, role=None)
    assert describers.jobs_in(HOME, "us-east-1") is own
    assert isinstance(describers.jobs_in(HOME, "eu-west-1"), BatchJobs)  # same role, another region
    assert describers.assumed == 0


def test_member_account_without_a_role_name_has_no_describer(sts: Any) -> None:
    describers, _ = _describers(sts, role=None)
    assert describers.jobs_in(MEMBER, "us-east-1") is None
    assert describers.executions_in(MEMBER, "us-east-1") is None
    assert describers.assumed == 0


def test_member_account_role_is_assumed_once_until_shortly_before_expiry(sts: Any) -> None:
    clock = Clock()
    describers, _ = _describers(sts, role="runwatch-reconcile", clock=clock)

    first = describers.jobs_in(MEMBER, "us-east-1")
    again = describers.executions_in(MEMBER, "us-east-1")
    assert first is not None and again is not None
    assert describers.assumed == 1
    # moto's AssumeRole credentials last an hour; inside the refresh margin they are renewed.
    clock.now += 3600 - REFRESH_MARGIN_SECONDS + 1
    assert describers.jobs_in(MEMBER, "us-east-1") is not None
    assert describers.assumed == 2


def test_sweeper_skips_and_counts_member_lookups_without_a_role(sts: Any) -> None:
    describers, own = _describers(sts, role=None)
    home_task = _task("r1", "1", "RUNNING", T0)
    member_task = _task("r2", "2", "RUNNING", T0)
    member_task = replace(member_task, key=replace(member_task.key, account=MEMBER))
    member_run = _run("r3", T0, orchestrator="step-functions")
    member_run = replace(member_run, key=replace(member_run.key, account=MEMBER))
    reads = Reads(runs=[member_run], tasks=[home_task, member_task])
    sweeper, _, _ = _sweeper(reads, jobs=own, executions=Executions(), places=describers)

    report = sweeper.sweep(T0 + HOUR)

    assert own.asked == [["job-1"]]  # only the central account's job
    assert report.lookups_skipped == 2  # the member's job and its execution
    assert report.reconcile_errors == 0


def test_sweeper_asks_a_member_account_through_its_role(sts: Any) -> None:
    describers, own = _describers(sts, role="runwatch-reconcile")
    member_task = _task("r2", "2", "RUNNING", T0)
    member_task = replace(member_task, key=replace(member_task.key, account=MEMBER))
    sweeper, _, _ = _sweeper(Reads(tasks=[member_task]), jobs=own, executions=Executions(), places=describers)

    report = sweeper.sweep(T0 + HOUR)

    assert own.asked == []  # not the central account's describer
    assert describers.assumed == 1
    assert (report.lookups_skipped, report.jobs_missing) == (0, 1)  # moto's Batch there knows no such job
