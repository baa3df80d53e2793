"""The built layer ships its bytecode: Lambda cannot write .pyc files to /opt, so a module without one is
compiled again at every cold start. Each module has a CPython 3.12 .pyc that is used without comparing the
source's time (unchecked hash: a zip keeps times only to two seconds), and importing a handler from the build
compiles no module of the layer, and no dataclass's methods either (runwatch/dataclass_bytecode.py ships them)."""

from __future__ import annotations

import importlib.util
import json
import os
import sys

import pytest

from tests.build.built import LAYER, built_function_dir
from tests.fresh_interpreter import last_line, run_python

UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, source not checked


def test_every_module_of_the_layer_has_unchecked_hash_bytecode() -> None:
    sources = sorted(LAYER.rglob("*.py"))
    assert len(sources) > 500, "the layer holds runwatch and its dependencies"
    missing, wrong = [], []
    for source in sources:
        compiled = source.parent / "__pycache__" / f"{source.stem}.{sys.implementation.cache_tag}.pyc"
        if not compiled.exists():
            missing.append(str(source.relative_to(LAYER)))
            continue
        header = compiled.read_bytes()[:8]
        if (
            header[:4] != importlib.util.MAGIC_NUMBER
            or int.from_bytes(header[4:], "little") != UNCHECKED_HASH
        ):
            wrong.append(str(source.relative_to(LAYER)))
    assert (missing[:5], wrong[:5]) == ([], [])


_PROBE = """
import builtins, json, sys
import importlib._bootstrap_external as loaders
compiled = []
compile_source = loaders.SourceLoader.source_to_code
run = builtins.exec

def counting(self, data, path, *args, **kwargs):
    compiled.append(path)
    return compile_source(self, data, path, *args, **kwargs)

def counting_texts(source, *args):
    # dataclasses makes each method by running the text of a function that defines it
    if isinstance(source, str) and source.startswith("def __create_fn__("):
        compiled.append("dataclass method: " + source.splitlines()[1].strip())
    return run(source, *args)

loaders.SourceLoader.source_to_code = counting
builtins.exec = counting_texts
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import app
print(json.dumps([path for path in compiled if path.startswith((sys.argv[2], "dataclass method"))]))
"""


@pytest.mark.parametrize(
    "logical_id", ["IngestFunction", "ApiFunction", "NotifierFunction", "SweeperFunction"]
)
def test_a_cold_start_compiles_no_module_of_the_layer(logical_id: str) -> None:
    env = {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "TABLE_NAME": "runwatch-build",
        "REJECTED_QUEUE_URL": "http://127.0.0.1:9/q",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    output = run_python(_PROBE, str(built_function_dir(logical_id)), str(LAYER), flags=("-I", "-B"), env=env)
    assert json.loads(last_line(output)) == []
