"""Imports run downward: (errors, config, process, checkpoint, rundir, cards) -> (rules,
abstraction) -> games -> solver -> eval -> chunks -> lab -> cli. A lower package that needs a
name from a higher one means the name lives in the wrong place."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "holdem_lab"

_ORDER = ("rules", "abstraction", "games", "solver", "eval", "chunks", "lab", "cli")
_BOTTOM = ("errors", "config", "process", "checkpoint", "rundir", "cards")
FORBIDDEN: dict[str, tuple[str, ...]] = {
    **{name: _ORDER for name in _BOTTOM},
    "rules": _ORDER[2:],
    "abstraction": _ORDER[2:],
    "games": _ORDER[3:],
    "solver": _ORDER[4:],
    "eval": _ORDER[5:],
    "chunks": _ORDER[6:],
    "lab": _ORDER[7:],
}
"""For each package, the packages above it that it must not import (at module level or
inside a function)."""


def imported_modules(source: str, module: str) -> set[str]:
    """Every holdem_lab module `source` (the text of holdem_lab.<module>) imports, anywhere in
    the file, without the `holdem_lab.` prefix; relative imports are resolved."""
    package = module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = ["holdem_lab", *package[:len(package) - node.level + 1]]
                full = ".".join(parts + ([node.module] if node.module else []))
            else:
                full = node.module or ""
            # `from holdem_lab import x` (or `from .. import x`) names a module x
            names = [full] if full != "holdem_lab" else [f"{full}.{a.name}" for a in node.names]
        else:
            continue
        found.update(name.removeprefix("holdem_lab.") for name in names
                     if name.startswith("holdem_lab."))
    return found


def upward_imports(source: str, module: str) -> list[str]:
    """The imports of holdem_lab.<module> that point to a package above its own."""
    forbidden = FORBIDDEN.get(module.split(".")[0], ())
    return sorted(target for target in imported_modules(source, module)
                  if target.split(".")[0] in forbidden)


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            out.append((".".join(parts), path))
    return out


def test_every_layered_package_is_found() -> None:
    packages = {name.split(".")[0] for name, _ in _modules()}
    assert set(FORBIDDEN) | {t for targets in FORBIDDEN.values() for t in targets} <= packages


@pytest.mark.parametrize(("module", "path"), _modules(), ids=[m for m, _ in _modules()])
def test_no_upward_import(module: str, path: Path) -> None:
    assert upward_imports(path.read_text(encoding="utf-8"), module) == []


def test_an_upward_import_is_caught() -> None:
    source = ("from holdem_lab.games.tree import DECISION\n"
              "import holdem_lab.cli.train\n"
              "def late():\n"
              "    from holdem_lab.solver.kernels import run_iterations\n"
              "    from ..eval import exact\n"
              "    from . import tree\n")
    assert upward_imports(source, "games.small") == ["cli.train", "eval", "solver.kernels"]
    assert upward_imports(source, "eval.match") == ["cli.train"]
    assert upward_imports(source, "lab.views") == ["cli.train"]
    assert upward_imports(source, "cli.lab") == []
    assert imported_modules("from .. import errors\n", "games.small") == {"errors"}
    assert imported_modules("from . import game\n", "games.small") == {"games"}


def test_chunk_and_lab_functions_stay_readable() -> None:
    """No function in chunks/ or lab/ grows past 100 lines: a plan, a loop and a report tangled
    in one function is what the runner was before it was split."""
    long = []
    for package in ("chunks", "lab"):
        for path in sorted((PACKAGE / package).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    length = (node.end_lineno or node.lineno) - node.lineno + 1
                    if length > 100:
                        long.append(f"{package}/{path.name}: {node.name} ({length} lines)")
    assert long == []
