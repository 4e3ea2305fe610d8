"""The shape of the code: layers point one way, no import cycles, no huge modules.

Imports are read from the source (ast), imports inside functions included, so a
cycle cannot hide behind a late import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("service", "feeds")
MAX_LINES = 600
#: Who may import whom: a module of the key's package never imports one of the listed.
FORBIDDEN = {
    "feeds": ("service", "flask"),
    "service.store": ("service.entries", "service.mirror", "service.questionnaire",
                      "service.http", "service.cli"),
    "service.entries": ("service.mirror", "service.questionnaire", "service.http", "service.cli"),
    "service.mirror": ("service.questionnaire", "service.http", "service.cli"),
    "service.questionnaire": ("service.mirror", "service.http", "service.cli"),
    "service.vocab": ("service.",),
    "service.fields": ("service.store", "service.entries", "service.http", "service.cli"),
    "service.http": ("service.cli",),
}  # fmt: skip


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = modules()


def _resolve(name: str) -> str | None:
    """The module of ours that an imported name lives in (a package's __init__ counts)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports(module: str, path: Path) -> Iterator[str]:
    """Every module of ours that ``module`` imports, at any depth of its code."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            resolved = _resolve(target)
            if resolved and resolved != module:
                yield resolved


def graph() -> dict[str, set[str]]:
    edges = {name: set(imports(name, path)) for name, path in MODULES.items()}
    # ``import service.x`` runs ``service/__init__``: not an edge of the module graph.
    for name, targets in edges.items():
        edges[name] = {t for t in targets if not name.startswith(t + ".")}
    return edges


def test_no_import_cycles() -> None:
    edges = graph()
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_layers_point_one_way() -> None:
    wrong = []
    for name, path in MODULES.items():
        for package, banned in FORBIDDEN.items():
            if name != package and not name.startswith(package + "."):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else []
                )
                for imported in names:
                    if any(imported == b.rstrip(".") or imported.startswith(b.rstrip(".") + ".")
                           for b in banned):  # fmt: skip
                        wrong.append(f"{name} imports {imported}")
    assert not wrong, wrong


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name: str) -> None:
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{name}: {lines} lines (at most {MAX_LINES})"


def test_every_package_says_what_lives_there() -> None:
    for name, path in MODULES.items():
        if path.name == "__init__.py":
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
            assert doc and len(doc) > 40, f"{name} has no docstring"
