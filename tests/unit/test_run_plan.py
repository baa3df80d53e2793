"""The index a run listing reads: the most selective one for the filters given, the rest on the read."""

from __future__ import annotations

import pytest

from runwatch.domain.run_state import RunKey, RunState
from runwatch.domain.times import iso
from runwatch.store.run_plan import RunFilter, plan_read

T0 = 1_795_000_000_000


@pytest.mark.parametrize(
    ("where", "index", "partition", "keyed"),
    [
        (RunFilter(), "recent", "RUNS", set()),
        (RunFilter(account="111111111111", orchestrator="batch"), "recent", "RUNS", set()),
        (RunFilter(statuses=("failed",)), "by_status", "STATUS#failed", {"status"}),
        (RunFilter(statuses=("failed", "timed_out")), "recent", "RUNS", set()),
        (RunFilter(statuses=("failed",), since="2026"), "by_status", "STATUS#failed", {"status"}),
        (RunFilter(branch="prod"), "recent", "RUNS", set()),
        (
            RunFilter(project="churn", statuses=("failed",)),
            "by_project_only",
            "PROJECTONLY#churn",
            {"project"},
        ),
        (RunFilter(tags=("team:ml",), project="churn"), "tags", "TAG#team:ml", {"tag"}),
        (RunFilter(tags=("z", "a"), statuses=("failed",)), "tags", "TAG#a", {"tag"}),
        (RunFilter(user="alice", tags=("team:ml",)), "by_user", "USER#alice", {"user"}),
        (RunFilter(flow="F", user="alice", tags=("x",)), "by_flow", "FLOW#F", {"flow"}),
        (
            RunFilter(flow="F", user="alice", project="churn", branch="prod"),
            "by_project",
            "PROJECT#churn#prod",
            {"project", "branch"},
        ),
    ],
)
def test_the_most_selective_index_is_read(
    where: RunFilter, index: str, partition: str, keyed: set[str]
) -> None:
    plan = plan_read(where)
    assert (plan.index, plan.partition, set(plan.keyed)) == (index, partition, keyed)


def test_only_a_tag_plan_keys_a_tag() -> None:
    assert plan_read(RunFilter(tags=("b", "a"))).keyed_tag == "a"
    assert plan_read(RunFilter(user="u", tags=("a",))).keyed_tag is None


def test_describe_binds_every_filter_and_keeps_the_first_release_spelling() -> None:
    assert RunFilter(flow="F", statuses=("failed",)).describe() == {
        "list": "flow_runs",
        "flow": "F",
        "status": "failed",
        "account": None,
    }
    both = RunFilter(statuses=("b", "a"), tags=("y", "x"), user="u", since="s")
    assert both.describe() == RunFilter(statuses=("a", "b"), tags=("x", "y"), user="u", since="s").describe()
    variants = [
        RunFilter(user="u"),
        RunFilter(project="u"),
        RunFilter(branch="u"),
        RunFilter(tags=("u",)),
        RunFilter(orchestrator="u"),
        RunFilter(since="u"),
        RunFilter(until="u"),
        RunFilter(tags=("u", "v")),
    ]
    assert len({tuple(sorted(v.describe().items())) for v in variants}) == len(variants)


def test_matches_checks_every_filter() -> None:
    run = RunState(
        key=RunKey("F", "1", account="111111111111", region="us-east-1"),
        orchestrator="batch",
        user="alice",
        project="churn",
        branch="prod",
        tags=("a", "b"),
        first_seen_at=T0,
    )
    started = iso(T0)
    assert started is not None
    assert RunFilter(flow="F", user="alice", tags=("b",), statuses=("running",), since=started).matches(run)
    assert RunFilter(until=started, account="111111111111", orchestrator="batch").matches(run)
    for miss in (
        RunFilter(flow="G"),
        RunFilter(user="bob"),
        RunFilter(project="fraud"),
        RunFilter(branch="test"),
        RunFilter(tags=("a", "c")),
        RunFilter(statuses=("failed",)),
        RunFilter(account="222222222222"),
        RunFilter(orchestrator="step-functions"),
        RunFilter(since=iso(T0 + 1)),
        RunFilter(until=iso(T0 - 1)),
    ):
        assert not miss.matches(run), miss
