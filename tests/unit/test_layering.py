"""The runwatch package keeps its layers: imports point one way, and only the store knows PynamoDB.

api -> services -> domain / store; domain imports no other layer; notify and aws never reach into services or
the API; the composition root (runwatch.wiring) may import anything. Each module's imports are read with
`ast` (including imports inside functions), so a violation is named with the module and the import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "runwatch" / "runwatch"

LAYERS = ("domain", "store", "services", "api", "notify", "aws", "events", "wiring")
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "domain": ("services", "store", "api", "notify", "aws", "events", "wiring"),
    "store": ("services", "api", "wiring"),
    "services": ("api", "wiring"),
    "notify": ("services", "api", "wiring"),
    "aws": ("services", "api", "wiring"),
    "events": ("services", "api", "wiring"),
}
STORE_ONLY = ("runwatch.store.models", "pynamodb")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. runwatch.services.queries
    target: str  # what it imports, e.g. runwatch.api.schemas
    line: int

    def __str__(self) -> str:
        return f"{self.module} imports {self.target} (line {self.line})"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(path: Path, modules: frozenset[str]) -> Iterator[Import]:
    """What `path` imports; `from runwatch.store import models` counts as runwatch.store.models."""
    module = _module_name(path)
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module, path.name == "__init__.py", node)
            submodules = [f"{source}.{a.name}" for a in node.names if f"{source}.{a.name}" in modules]
            for target in submodules or [source]:
                yield Import(module, target, node.lineno)


def _all_imports() -> list[Import]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = frozenset(_module_name(path) for path in paths)
    return [i for path in paths for i in imports_of(path, modules)]


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "runwatch" and parts[1] in LAYERS else None


def _is_within(target: str, prefix: str) -> bool:
    return target == prefix or target.startswith(prefix + ".")


def layer_violations(imports: list[Import]) -> list[str]:
    found = []
    for i in imports:
        source, target = layer_of(i.module), layer_of(i.target)
        if source in FORBIDDEN and target in FORBIDDEN[source]:
            found.append(f"{i}: {source} must not import {target}")
    return sorted(set(found))


def store_only_violations(imports: list[Import]) -> list[str]:
    found = []
    for i in imports:
        if layer_of(i.module) in ("store", "wiring"):
            continue
        for prefix in STORE_ONLY:
            if _is_within(i.target, prefix):
                found.append(f"{i}: only runwatch.store may import {prefix}")
    return sorted(set(found))


def dev_violations(imports: list[Import]) -> list[str]:
    return sorted(
        {f"{i}: the layer must not import dev tools" for i in imports if _is_within(i.target, "runwatch_dev")}
    )


IMPORTS = _all_imports()


def test_the_package_is_found() -> None:
    assert any(i.module.startswith("runwatch.services") for i in IMPORTS)


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layers_import_one_way(layer: str) -> None:
    violations = [v for v in layer_violations(IMPORTS) if v.startswith(f"runwatch.{layer}")]
    assert not violations, "\n".join(violations)


def test_only_the_store_knows_pynamodb_and_the_table_models() -> None:
    violations = store_only_violations(IMPORTS)
    assert not violations, "\n".join(violations)


def test_the_layer_never_imports_dev_tools() -> None:
    violations = dev_violations(IMPORTS)
    assert not violations, "\n".join(violations)


def test_the_checks_name_the_module_and_the_import(tmp_path: Path) -> None:
    """The checks themselves: a made-up violation is reported with its module and import."""
    bad = [
        Import("runwatch.services.queries", "runwatch.api.schemas", 3),
        Import("runwatch.notify.message", "runwatch.store.models", 7),
        Import("runwatch.wiring", "runwatch.api.app", 1),
        Import("runwatch.store.repository", "pynamodb.models", 2),
        Import("runwatch.aws.session", "runwatch_dev.cli", 9),
    ]
    assert layer_violations(bad) == [
        "runwatch.services.queries imports runwatch.api.schemas (line 3): services must not import api"
    ]
    assert store_only_violations(bad) == [
        "runwatch.notify.message imports runwatch.store.models (line 7): only runwatch.store may import "
        "runwatch.store.models"
    ]
    assert dev_violations(bad) == [
        "runwatch.aws.session imports runwatch_dev.cli (line 9): the layer must not import dev tools"
    ]
