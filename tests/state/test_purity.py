"""The import rule of the pure core: `floor/state` needs nothing but the standard library.

The modules are parsed, not imported, so that a forbidden import is caught even where it
would not run. Besides third-party code, the core must not reach for a clock, randomness or
I/O: time, ids and randomness come in as arguments.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import floor.state

STATE_DIR = Path(floor.state.__file__).parent
MODULES = sorted(STATE_DIR.glob("*.py"))
FORBIDDEN = frozenset({"time", "random", "uuid", "os", "asyncio", "socket", "threading"})


def imported_modules(path: Path) -> list[str]:
    """Every absolute module name `path` imports (relative imports as `floor.state.x`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                names.append(f"floor.state.{node.module or ''}".rstrip("."))
            else:
                assert node.module is not None
                names.append(node.module)
    return names


def dynamic_imports(path: Path) -> list[str]:
    """Calls that import by name at run time (`__import__`, `importlib.import_module`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "__import__":
                found.append("__import__")
            if isinstance(func, ast.Attribute) and func.attr == "import_module":
                found.append("import_module")
    return found


def test_the_core_has_modules() -> None:
    """The glob finds the core's modules (so the rules below check something)."""
    names = {m.name for m in MODULES}
    assert {"__init__.py", "model.py", "decide.py", "evolve.py", "wire.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_imports_only_stdlib_and_the_core(path: Path) -> None:
    """Each core module imports only the standard library and `floor.state` itself."""
    for name in imported_modules(path):
        top = name.split(".")[0]
        if top == "floor":
            assert name == "floor.state" or name.startswith("floor.state."), name
        else:
            assert top in sys.stdlib_module_names, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_clock_randomness_or_io(path: Path) -> None:
    """No core module imports time, random, uuid, os, asyncio, socket or threading."""
    used = {name.split(".")[0] for name in imported_modules(path)}
    assert not used & FORBIDDEN, f"{path.name} imports {sorted(used & FORBIDDEN)}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_dynamic_imports(path: Path) -> None:
    """No core module imports by name at run time, which would dodge the rules above."""
    assert dynamic_imports(path) == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_builtin_io(path: Path) -> None:
    """No core module opens files, reads input or prints."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    calls = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert not calls & {"open", "input", "print", "exec", "eval"}


def test_the_checker_catches_forbidden_imports(tmp_path: Path) -> None:
    """The parser sees plain, dotted, from- and relative imports (a self-check)."""
    source = tmp_path / "bad.py"
    source.write_text(
        "import os.path\nfrom time import monotonic\nfrom . import model\n"
        "from .wire import seconds\nimport attr\n__import__('random')\n",
        encoding="utf-8",
    )
    assert imported_modules(source) == [
        "os.path",
        "time",
        "floor.state",
        "floor.state.wire",
        "attr",
    ]
    assert dynamic_imports(source) == ["__import__"]
