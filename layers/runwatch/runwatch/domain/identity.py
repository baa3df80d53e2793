"""Metaflow identity helpers: what a job's command line and a state machine's name say about a run.

The authoritative identity comes from a job's `parameters` (see metaflow-events.md §5); these helpers read
the parts Metaflow only puts in the command line or in the state machine name.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

_OPTION = re.compile(r"--(tag|branch|max-user-code-retries|split-index)[ =]('[^']*'|\"[^\"]*\"|\S+)")
_PRODUCTION = re.compile(r"(?:^|\s)--production(?:\s|$)")


@dataclass(frozen=True, slots=True)
class CommandFacts:
    """What Metaflow's container command line tells about a task."""

    tags: tuple[str, ...] = ()
    branch: str | None = None
    max_user_code_retries: int | None = None
    split_index: int | None = None


def _unquote(value: str) -> str:
    if not any(c in value for c in "'\"\\"):  # nothing the shell would unquote (most values)
        return value
    try:
        parts = shlex.split(value)
    except ValueError:
        return value
    return parts[0] if parts else ""


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def read_command(command: list[str] | None) -> CommandFacts:
    """Extract run tags, the @project branch, retry limit and foreach index from the command line.

    Only the `step` part of the script matters; shell placeholders (Step Functions) are not numbers and are
    ignored rather than guessed.
    """
    if not command:
        return CommandFacts()
    script = " ".join(command)
    tags: list[str] = []
    values: dict[str, str] = {}
    for name, raw in _OPTION.findall(script):
        value = _unquote(raw)
        if name == "tag":
            if value not in tags:
                tags.append(value)
        else:
            values.setdefault(name, value)
    production = bool(_PRODUCTION.search(script))
    branch_option = values.get("branch")
    branch = None
    if production:
        branch = f"prod.{branch_option}" if branch_option else "prod"
    elif branch_option:
        branch = f"test.{branch_option}"
    return CommandFacts(
        tags=tuple(sorted(tags)),
        branch=branch,
        max_user_code_retries=_int_or_none(values.get("max-user-code-retries")),
        split_index=_int_or_none(values.get("split-index")),
    )


@dataclass(frozen=True, slots=True)
class StateMachineName:
    """`[<prefix>_]<project>.<branch>.<Flow>` or `[<prefix>_]<Flow>` (step_functions_cli.py)."""

    project: str | None
    branch: str | None


def parse_state_machine_name(name: str, flow: str | None, prefix: str | None = None) -> StateMachineName:
    """Project and branch from a Metaflow state machine name; None when the name carries no @project.

    Project names may contain "_", so a METAFLOW_SFN_STATE_MACHINE_PREFIX is only stripped when known.
    """
    if prefix and name.startswith(prefix + "_"):
        name = name[len(prefix) + 1 :]
    if "." not in name:
        return StateMachineName(None, None)
    project, rest = name.split(".", 1)
    if flow and rest.endswith("." + flow):
        branch: str | None = rest[: -len(flow) - 1]
    else:
        branch = rest.rsplit(".", 1)[0] if "." in rest else None
    return StateMachineName(project or None, branch or None)


def sfn_run_id(execution_name: str) -> str:
    return f"sfn-{execution_name}"


def execution_arn(partition: str, region: str, account: str, state_machine: str, name: str) -> str:
    return f"arn:{partition}:states:{region}:{account}:execution:{state_machine}:{name}"


def state_machine_arn_of_execution(arn: str) -> str:
    """arn:aws:states:r:a:execution:<sm>:<name> -> arn:aws:states:r:a:stateMachine:<sm>."""
    parts = arn.split(":")
    return ":".join([*parts[:5], "stateMachine", parts[6]])


def arn_partition(arn: str | None) -> str:
    if arn and arn.startswith("arn:"):
        return arn.split(":")[1]
    return "aws"
