"""Dataclass methods shipped compiled (runwatch/dataclass_bytecode.py) make the same classes as compiling them,
without compiling; a file of another Python's bytecode, or none, changes nothing.

Installing changes the interpreter's dataclasses module, so each case that installs runs in a fresh interpreter:
one records a sample module's classes and writes the file, the next imports the module with and without it.
"""

from __future__ import annotations

import dataclasses
import json
import marshal
from pathlib import Path

from runwatch.dataclass_bytecode import install, load, save, shipped_exec
from tests.fresh_interpreter import last_line, run_python

LAYER = Path(__file__).resolve().parents[2] / "layers" / "runwatch"

SAMPLE = '''
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class Point:
    """A frozen, slotted class, as most of runwatch's."""

    x: int
    y: int = 0
    tags: tuple[str, ...] = ()


@dataclasses.dataclass(kw_only=True)
class Counter:
    name: str
    seen: list[str] = dataclasses.field(default_factory=list)
'''

_RECORD = """
import sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from runwatch.dataclass_bytecode import record, save
codes = record(["sample_records"])
save(codes, sys.argv[3])
print(len(codes))
"""

# What the sample's classes do, and how many dataclass method texts were compiled to make them.
_USE = """
import builtins, dataclasses, json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from runwatch.dataclass_bytecode import install
installed = install(sys.argv[3])
compiled = []
run = builtins.exec

def counting(source, *args):
    if isinstance(source, str) and source.startswith("def __create_fn__("):
        compiled.append(source)
    return run(source, *args)

builtins.exec = counting
from sample_records import Counter, Point

point = Point(1, tags=("a",))
try:
    point.x = 2
    frozen = "assigned"
except dataclasses.FrozenInstanceError as error:
    frozen = str(error)
counter = Counter(name="c")
counter.seen.append("x")
print(json.dumps({
    "installed": installed,
    "compiled": len(compiled),
    "repr": [repr(point), repr(counter), repr(Counter(name="d"))],
    "eq": [point == Point(1, 0, ("a",)), point == Point(2), counter == Counter(name="c", seen=["x"])],
    "hash": hash(point) == hash(Point(1, tags=("a",))),
    "frozen": frozen,
    "replaced": repr(dataclasses.replace(point, y=5)),
    "fields": [f.name for f in dataclasses.fields(Point)],
    "slots": Point.__slots__,
    "match_args": Point.__match_args__,
}))
"""


def _python(code: str, *args: str) -> str:
    """The last line `code` prints in a fresh interpreter that writes no bytecode."""
    return last_line(run_python(code, *args, flags=("-I", "-B"), timeout=60))


def test_shipped_methods_make_the_same_classes_without_compiling(tmp_path: Path) -> None:
    (tmp_path / "sample_records.py").write_text(SAMPLE)
    shipped = tmp_path / "dataclass_bytecode.marshal"
    recorded = int(_python(_RECORD, str(tmp_path), str(LAYER), str(shipped)))

    with_file = json.loads(_python(_USE, str(tmp_path), str(LAYER), str(shipped)))
    without = json.loads(_python(_USE, str(tmp_path), str(LAYER), str(tmp_path / "none.marshal")))

    assert (with_file.pop("installed"), with_file.pop("compiled")) == (True, 0)
    assert without.pop("installed") is False
    assert without.pop("compiled") == recorded > 0
    assert with_file == without
    assert with_file["frozen"] == "cannot assign to field 'x'"
    assert with_file["repr"][0] == "Point(x=1, y=0, tags=('a',))"
    assert with_file["eq"] == [True, False, True]


def test_a_file_of_another_python_is_not_used(tmp_path: Path) -> None:
    code = marshal.dumps(compile("x = 1", "<string>", "exec"))
    other = tmp_path / "other.marshal"
    other.write_bytes(b"\x00\x00\r\n" + marshal.dumps({"x = 1": code}))

    assert load(str(other)) == {}
    assert load(str(tmp_path / "missing.marshal")) == {}
    assert install(str(other)) is False
    assert "exec" not in vars(dataclasses)


def test_a_saved_file_is_loaded_back(tmp_path: Path) -> None:
    codes = {"x = 1": marshal.dumps(compile("x = 1", "<string>", "exec"))}
    path = tmp_path / "codes.marshal"
    save(codes, str(path))

    assert load(str(path)) == codes


def test_a_known_text_runs_its_shipped_code_and_any_other_is_compiled() -> None:
    # The shipped code for "x = 1" is deliberately another text's, to see which one runs.
    run = shipped_exec({"x = 1": marshal.dumps(compile("x = 2", "<string>", "exec"))})
    known: dict[str, object] = {}
    other: dict[str, object] = {}

    run("x = 1", {}, known)
    run("x = 3", {}, other)

    assert (known, other) == ({"x": 2}, {"x": 3})
