"""The fresh interpreter the import probes run in: it sees PATH and the given variables only, runs with the
given flags, arguments, folder and input, and a failure is an error quoting what it wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fresh_interpreter import last_line, run_python

_ECHO = """
import json, os, sys
print("a log line before the answer")
print(json.dumps({
    "args": sys.argv[1:],
    "env": sorted(os.environ),
    "isolated": sys.flags.isolated,
    "no_bytecode": sys.dont_write_bytecode,
    "cwd": os.getcwd(),
    "stdin": sys.stdin.read(),
}))
"""


def test_the_child_runs_as_asked_and_sees_only_path_and_the_given_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RUNWATCH_NOT_PASSED", "1")

    output = run_python(_ECHO, "a", "b", flags=("-I", "-B"), env={"GIVEN": "x"}, cwd=tmp_path, stdin="in")
    answer = json.loads(last_line(output))

    # Python itself may add LC_CTYPE when it coerces a C locale.
    assert set(answer.pop("env")) - {"LC_CTYPE"} == {"GIVEN", "PATH"}
    assert answer == {
        "args": ["a", "b"],
        "isolated": 1,
        "no_bytecode": True,
        "cwd": str(tmp_path),
        "stdin": "in",
    }


def test_the_default_flags_isolate_and_write_bytecode() -> None:
    answer = json.loads(last_line(run_python(_ECHO)))
    assert (answer["isolated"], answer["no_bytecode"], answer["args"]) == (1, False, [])


def test_a_failure_quotes_what_the_child_printed_and_its_error() -> None:
    with pytest.raises(AssertionError, match=r"(?s)exited with 1:\nsaid before\n.*went wrong"):
        run_python("import sys; print('said before'); sys.exit('went wrong')")


def test_printing_nothing_has_no_last_line() -> None:
    with pytest.raises(AssertionError, match="printed nothing"):
        last_line(run_python("pass"))
