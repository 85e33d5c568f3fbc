"""The layout's rules (ARCHITECTURE, STYLE): who may import whom, no import cycles, and
modules small enough to read. The sources are parsed, not imported, so every import counts,
including those inside functions and under TYPE_CHECKING."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLOOR = ROOT / "floor"
MAX_LINES = 450


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(FLOOR.rglob("*.py"))}


def imports_of(name: str) -> Iterator[str]:
    """The modules `name` imports: a `from package import submodule` names the submodule."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}".rstrip(".")
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield sub if sub in MODULES else base


def floor_imports(name: str) -> set[str]:
    return {m for m in imports_of(name) if m in MODULES and m != name}


def top(module: str) -> str:
    return module.partition(".")[0]


@pytest.mark.parametrize("name", [n for n in MODULES if n.startswith("floor.protocol")])
def test_the_protocol_imports_only_the_stdlib_msgpack_and_the_core(name: str) -> None:
    """floor/protocol is pure: the standard library, msgpack, floor.state and itself."""
    for module in imports_of(name):
        allowed = (
            top(module) in sys.stdlib_module_names
            or top(module) == "msgpack"
            or module.startswith(("floor.state", "floor.protocol"))
        )
        assert allowed, f"{name} imports {module}"


@pytest.mark.parametrize("name", [n for n in MODULES if n.startswith("floor.host")])
def test_the_host_never_imports_the_transport(name: str) -> None:
    """The meeting host speaks to connections through the protocol, never the transport."""
    for module in imports_of(name):
        assert not module.startswith("floor.transport"), f"{name} imports {module}"


@pytest.mark.parametrize(
    "name", [n for n in MODULES if n.startswith(("floor.state", "floor.protocol", "floor.host"))]
)
def test_nothing_below_the_transport_reaches_up(name: str) -> None:
    """The core, the protocol and the host never import the composition root, the services
    bundle, the admin service or the transport."""
    up = ("floor.app", "floor.services", "floor.admin", "floor.transport", "floor.cli")
    for module in floor_imports(name):
        assert not module.startswith(up), f"{name} imports {module}"


def test_the_import_graph_of_floor_has_no_cycle() -> None:
    """Following imports from any module of floor/ never leads back to it."""
    graph = {name: floor_imports(name) for name in MODULES}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = [*path[path.index(name) :], name]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for imported in sorted(graph[name]):
            visit(imported, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_the_rules_see_every_kind_of_import() -> None:
    """The parser above finds plain, from-package-submodule and relative imports."""
    assert "floor.protocol.messages" in floor_imports("floor.protocol.session")
    assert "floor.state" in floor_imports("floor.protocol.messages")
    assert "floor.host.meeting" in floor_imports("floor.host")


SOURCES = sorted(FLOOR.rglob("*.py")) + sorted((ROOT / "web_client").rglob("*.js"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_450_lines(path: Path) -> None:
    """One concept per module, a few hundred lines at most (STYLE rule 8)."""
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines"
