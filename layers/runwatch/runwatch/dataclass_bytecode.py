"""Dataclass methods compiled when the layer is built, instead of at every cold start.

`@dataclass` writes each class's `__init__`, `__repr__`, `__eq__`, `__hash__` (and a frozen class's `__setattr__`
and `__delattr__`) as source text and runs `exec` on it: compiling that text is about three quarters of the CPU a
class costs to create (some 1.3 of 1.8 ms for a frozen one on the functions' machine), and a function's import
creates 50 to 100 of them. The layer's build (layers/runwatch/Makefile) runs `main`, which imports every runwatch
module once while recording each text's code object, and ships them, marshalled, next to this module. At a cold
start runwatch/__init__.py calls `install`: dataclasses' `exec` then runs the shipped code of a text it knows, and
compiles any other text as before.

The classes are the same: a shipped code object is what `exec` makes of the same text (the same compiler, checked
by the file's magic number as for a .pyc, and no future flags inherited). Without a file, as in the source tree
and the tests, or with one written by another Python version, dataclasses is left alone.
"""

from __future__ import annotations

import builtins
import dataclasses
import importlib
import marshal
import os
from collections.abc import Callable, Iterable, Mapping
from importlib.util import MAGIC_NUMBER
from typing import Any

SHIPPED = os.path.join(os.path.dirname(__file__), "dataclass_bytecode.marshal")

Exec = Callable[[str, dict[str, Any], dict[str, Any]], None]


def load(path: str = SHIPPED) -> dict[str, bytes]:
    """Each recorded text's marshalled code; empty without a file, or with one of another Python's bytecode."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        return {}
    if not data.startswith(MAGIC_NUMBER):
        return {}
    codes: dict[str, bytes] = marshal.loads(data[len(MAGIC_NUMBER) :])
    return codes


def shipped_exec(codes: Mapping[str, bytes]) -> Exec:
    """An `exec` for dataclasses: a known text runs its shipped code (unmarshalled when first asked for, so a
    function pays only for its own classes), any other is compiled."""

    def run(source: str, globals: dict[str, Any], locals: dict[str, Any]) -> None:
        shipped = codes.get(source)
        builtins.exec(source if shipped is None else marshal.loads(shipped), globals, locals)

    return run


def _use_exec(function: Exec | None) -> None:
    """Make dataclasses look `exec` up in its own namespace first (None: back to the builtin)."""
    namespace = vars(dataclasses)
    if function is None:
        namespace.pop("exec", None)
    else:
        namespace["exec"] = function


def install(path: str = SHIPPED) -> bool:
    """Have dataclasses run the code shipped in `path`; False (and nothing changed) without usable code."""
    codes = load(path)
    if codes:
        _use_exec(shipped_exec(codes))
    return bool(codes)


def record(modules: Iterable[str]) -> dict[str, bytes]:
    """Import `modules` (and what they import) and return the marshalled code of every dataclass text compiled
    meanwhile; a module imported before is not imported again, so its classes are not recorded."""
    codes: dict[str, bytes] = {}

    def recording(source: str, globals: dict[str, Any], locals: dict[str, Any]) -> None:
        # As `exec` compiles a text: file name "<string>", no future flags from this module.
        code = compile(source, "<string>", "exec", dont_inherit=True)
        codes[source] = marshal.dumps(code)
        builtins.exec(code, globals, locals)

    _use_exec(recording)
    try:
        for name in modules:
            importlib.import_module(name)
    finally:
        _use_exec(None)
    return codes


def save(codes: Mapping[str, bytes], path: str) -> None:
    """Write `record`'s codes for `load`, marked with this Python's bytecode magic number."""
    with open(path, "wb") as file:
        file.write(MAGIC_NUMBER + marshal.dumps(dict(codes)))


def main(path: str = SHIPPED) -> None:
    """The layer build's step: record every runwatch module's dataclasses and write them to `path`."""
    import pkgutil

    import runwatch

    # A generator: walking the packages imports them, and their classes are recorded too.
    save(record(module.name for module in pkgutil.walk_packages(runwatch.__path__, "runwatch.")), path)
