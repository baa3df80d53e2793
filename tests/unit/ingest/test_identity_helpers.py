"""What the command line and the state machine name say about a run."""

from __future__ import annotations

import pytest

from runwatch.domain.identity import parse_state_machine_name, read_command


@pytest.mark.parametrize(
    ("name", "flow", "prefix", "expected"),
    [
        ("demo.prod.FanoutFlow", "FanoutFlow", None, ("demo", "prod")),
        ("demo.test.feature_x.FanoutFlow", "FanoutFlow", None, ("demo", "test.feature_x")),
        ("demo.user.alice.FanoutFlow", "FanoutFlow", None, ("demo", "user.alice")),
        ("my_proj.prod.b1.TrainFlow", "TrainFlow", None, ("my_proj", "prod.b1")),
        ("acme_demo.prod.FanoutFlow", "FanoutFlow", "acme", ("demo", "prod")),
        ("ScoringFlow", "ScoringFlow", None, (None, None)),
        ("acme_ScoringFlow", "ScoringFlow", "acme", (None, None)),
    ],
)
def test_state_machine_name(
    name: str, flow: str, prefix: str | None, expected: tuple[str | None, str | None]
) -> None:
    parsed = parse_state_machine_name(name, flow, prefix)
    assert (parsed.project, parsed.branch) == expected


@pytest.mark.parametrize(
    ("script", "tags", "branch", "retries", "split"),
    [
        (
            "python flow.py step train --run-id 1 --task-id 3 --split-index 1 --max-user-code-retries 2 --tag team:ml",
            ("team:ml",),
            None,
            2,
            1,
        ),
        ("python flow.py --production step end --tag b --tag a --tag b", ("a", "b"), "prod", None, None),
        ("python flow.py --branch exp1 step start", (), "test.exp1", None, None),
        ("python flow.py --production --branch exp1 step start", (), "prod.exp1", None, None),
        (
            "python flow.py step x --tag 'owner:data eng' --split-index $METAFLOW_SPLIT_INDEX",
            ("owner:data eng",),
            None,
            None,
            None,
        ),
        # Unquoted values are taken as they are; quotes and escapes inside one are the shell's to undo.
        (
            "python flow.py step x --tag it\\'s --tag a\\:b --tag x#y",
            ("a:b", "it's", "x#y"),
            None,
            None,
            None,
        ),
    ],
)
def test_command_line(
    script: str, tags: tuple[str, ...], branch: str | None, retries: int | None, split: int | None
) -> None:
    facts = read_command(["bash", "-c", script])
    assert (facts.tags, facts.branch, facts.max_user_code_retries, facts.split_index) == (
        tags,
        branch,
        retries,
        split,
    )
