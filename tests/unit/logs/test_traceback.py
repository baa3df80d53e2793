"""The failure a log tail shows: the last Python exception, its traceback, and Metaflow's own lines."""

from __future__ import annotations

import traceback as tb

import pytest

from runwatch.logs.traceback import (
    MAX_EXCEPTION_CHARS,
    MAX_TRACEBACK_LINES,
    find_failure,
)

PREAMBLE = [
    "Setting up task environment.",
    "Downloading code package...",
    "Code package downloaded.",
    "Task is starting.",
    "fitting 12 segments",
]


def printed_by_metaflow(exc: BaseException) -> list[str]:
    """The lines Metaflow's CLI prints for an exception from user code (print_unknown_exception)."""
    try:
        raise exc
    except BaseException:
        text = tb.format_exc()
    return ["    Internal error", *text.splitlines()]


def test_a_user_codes_exception_is_found_with_its_traceback() -> None:
    lines = [*PREAMBLE, "<flow ChurnFlow step fit> failed:", *printed_by_metaflow(ValueError("bad input"))]
    found = find_failure(lines)
    assert found.exception == "ValueError: bad input"
    assert found.traceback[0] == "Traceback (most recent call last):"
    assert found.traceback[-1] == "ValueError: bad input"
    assert any(line.startswith('  File "') for line in found.traceback)
    assert found.metaflow_lines == ("<flow ChurnFlow step fit> failed:", "Internal error")


def test_the_reference_tail_with_an_elided_traceback() -> None:
    lines = [
        "Task is starting.",
        "fitting 12 segments",
        "    Internal error",
        "Traceback (most recent call last):",
        '  File "/metaflow/metaflow/cli.py", line 1155, in main',
        '    start(auto_envvar_prefix="METAFLOW", obj=state)',
        '  File "/metaflow/churn_flow.py", line 88, in fit',
        "    features = frame[self.feature_columns]",
        "KeyError: \"['customer_tenure'] not in index\"",
    ]
    assert find_failure(lines).exception == "KeyError: \"['customer_tenure'] not in index\""
    assert len(find_failure(lines).traceback) == 6


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (KeyError("x"), "KeyError: 'x'"),
        (KeyboardInterrupt(), "KeyboardInterrupt"),
        (ValueError("first line\nsecond line\nthird"), "ValueError: first line"),
    ],
)
def test_exception_lines_of_every_shape(exc: BaseException, expected: str) -> None:
    assert find_failure([*PREAMBLE, *printed_by_metaflow(exc)]).exception == expected


def test_a_dotted_exception_name_and_a_long_message() -> None:
    message = "CUDA out of memory. Tried to allocate 2.00 GiB " + "x" * 1000
    lines = [
        "Traceback (most recent call last):",
        '  File "/metaflow/train.py", line 40, in train',
        "    loss = model(batch)",
        "           ^^^^^^^^^^^^",
        f"torch.cuda.OutOfMemoryError: {message}",
    ]
    exception = find_failure(lines).exception
    assert exception is not None
    assert exception.startswith("torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate")
    assert len(exception) == MAX_EXCEPTION_CHARS


def chained(explicit: bool) -> BaseException:
    try:
        try:
            raise KeyError("missing")
        except KeyError as inner:
            if explicit:
                raise RuntimeError("could not load features") from inner
            raise RuntimeError("could not load features")  # noqa: B904 - the implicit chain is the point
    except RuntimeError as outer:
        return outer
    raise AssertionError("unreachable")


@pytest.mark.parametrize("explicit", [True, False])
def test_in_a_chain_the_final_exception_wins(explicit: bool) -> None:
    lines = printed_by_metaflow(chained(explicit))
    separator = (
        "The above exception was the direct cause of the following exception:"
        if explicit
        else "During handling of the above exception, another exception occurred:"
    )
    assert separator in lines and "KeyError: 'missing'" in lines
    found = find_failure(lines)
    assert found.exception == "RuntimeError: could not load features"
    assert "KeyError: 'missing'" not in found.traceback
    assert found.traceback[0] == "Traceback (most recent call last):"


def test_output_after_the_traceback_does_not_hide_it() -> None:
    lines = [
        *printed_by_metaflow(ValueError("bad input")),
        "2026-11-27 06:04:10.000 [1700000000/fit/3 (pid 4242)] Task failed.",
        "2026-11-27 06:04:11.000 [1700000000/fit/3 (pid 4300)] Task is starting (retry).",
        "fitting 12 segments",
        "Error: this line is output, not an exception",
        "Done",
    ]
    found = find_failure(lines)
    assert found.exception == "ValueError: bad input"
    assert found.metaflow_lines == (
        "Internal error",
        "2026-11-27 06:04:10.000 [1700000000/fit/3 (pid 4242)] Task failed.",
        "2026-11-27 06:04:11.000 [1700000000/fit/3 (pid 4300)] Task is starting (retry).",
    )


def test_no_traceback_means_no_exception() -> None:
    lines = [*PREAMBLE, "Error: connection refused", "KeyError: 'x' (printed, not raised)", "Killed"]
    found = find_failure(lines)
    assert found == find_failure(lines)
    assert (found.exception, found.traceback, found.metaflow_lines) == (None, (), ())
    assert find_failure([]).exception is None


def test_a_tail_cut_inside_a_traceback_still_yields_its_exception() -> None:
    lines = [
        "    df = load(path)",
        '  File "/metaflow/io.py", line 12, in load',
        "    return pd.read_parquet(path)",
        "FileNotFoundError: [Errno 2] No such file or directory: 'features.parquet'",
    ]
    found = find_failure(lines)
    assert found.exception == "FileNotFoundError: [Errno 2] No such file or directory: 'features.parquet'"
    assert found.traceback == tuple(lines[1:])


def test_an_exception_line_without_frames_before_it_is_not_an_exception() -> None:
    assert find_failure(["    some indented output", "ValueError: looks like one"]).exception is None


def test_a_syntax_error_in_an_imported_module() -> None:
    lines = [
        "Traceback (most recent call last):",
        '  File "/metaflow/churn_flow.py", line 3, in <module>',
        "    from features import build",
        '  File "/metaflow/features.py", line 7',
        "    x = = 1",
        "        ^",
        "SyntaxError: invalid syntax",
    ]
    assert find_failure(lines).exception == "SyntaxError: invalid syntax"
    assert find_failure(lines).traceback == tuple(lines)


def test_a_syntax_error_in_the_flow_file_itself_has_no_header() -> None:
    lines = [
        "Task is starting.",
        '  File "/metaflow/churn_flow.py", line 12',
        "    def fit(self:",
        "           ^",
        "SyntaxError: '(' was never closed",
    ]
    found = find_failure(lines)
    assert found.exception == "SyntaxError: '(' was never closed"
    assert found.traceback[0] == '  File "/metaflow/churn_flow.py", line 12'


def test_an_exception_group_gives_the_group_line() -> None:
    lines = [
        "  + Exception Group Traceback (most recent call last):",
        '  |   File "/metaflow/churn_flow.py", line 40, in fit',
        '  |     raise ExceptionGroup("two shards failed", errors)',
        "  | ExceptionGroup: two shards failed (2 sub-exceptions)",
        "  +-+---------------- 1 ----------------",
        "    | ValueError: shard a",
        "    +---------------- 2 ----------------",
        "    | TypeError: shard b",
        "    +------------------------------------",
    ]
    found = find_failure(lines)
    assert found.exception == "ExceptionGroup: two shards failed (2 sub-exceptions)"
    assert found.traceback[0] == "Exception Group Traceback (most recent call last):"


def test_a_metaflow_exception_stands_for_the_exception() -> None:
    lines = [
        *PREAMBLE,
        "Step fit timed out after 0 hours, 10 minutes, 0 seconds",
        "<flow ChurnFlow step fit> failed:",
        "    @timeout:",
        "    Step fit timed out after 0 hours, 10 minutes, 0 seconds",
        "    Stack when the timeout was raised:",
        '    >    File "/metaflow/churn_flow.py", line 88, in fit',
        "",
    ]
    found = find_failure(lines)
    assert found.exception == "@timeout: Step fit timed out after 0 hours, 10 minutes, 0 seconds"
    assert found.traceback == ()
    assert found.metaflow_lines == (
        "Step fit timed out after 0 hours, 10 minutes, 0 seconds",
        "<flow ChurnFlow step fit> failed:",
        "@timeout:",
        "Step fit timed out after 0 hours, 10 minutes, 0 seconds",
    )


def test_a_metaflow_exception_with_its_location() -> None:
    lines = [
        "    Data store error in file churn_flow.py on line 12:",
        "    No completed attempts of the task",
    ]
    assert find_failure(lines).exception == "Data store error: No completed attempts of the task"


def test_the_wrappers_and_bootstraps_failures_are_metaflow_lines() -> None:
    lines = [
        "Downloading code package...",
        "Failed to download code package from s3://acme-metaflow/metaflow/ScoringFlow/data/f3/f3a1 after 6 tries. Exiting...",
        "Bootstrap failed while executing: micromamba create --yes",
    ]
    assert find_failure(lines).metaflow_lines == tuple(lines[1:])


def test_colour_codes_do_not_hide_anything() -> None:
    lines = ["\x1b[1m    Internal error\x1b[0m", *printed_by_metaflow(ValueError("bad"))[1:]]
    found = find_failure(lines)
    assert found.exception == "ValueError: bad"
    assert found.metaflow_lines == ("Internal error",)


def test_a_long_traceback_keeps_its_header_and_innermost_frames() -> None:
    frames = [
        line for n in range(200) for line in (f'  File "/m/f.py", line {n}, in f{n}', f"    f{n + 1}()")
    ]
    lines = [
        "Traceback (most recent call last):",
        *frames,
        "RecursionError: maximum recursion depth exceeded",
    ]
    found = find_failure(lines)
    assert len(found.traceback) == MAX_TRACEBACK_LINES
    assert found.traceback[0] == "Traceback (most recent call last):"
    assert found.traceback[-2:] == ("    f200()", "RecursionError: maximum recursion depth exceeded")
