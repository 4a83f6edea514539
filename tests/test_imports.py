"""The package graph: settings flow one way, and Hearth's parts form no import cycle.

Every import counts (inside functions and under ``TYPE_CHECKING`` too): a cycle that
only shows at run time is still a cycle for whoever has to read or move the code.
A part is the first name under ``assistant`` (``assistant.home.mqtt`` -> ``home``).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"

Edges = dict[str, dict[str, list[str]]]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            target = ".".join([*base, node.module] if node.module else base)
        else:
            target = node.module or ""
        if target == "assistant":  # from assistant import config
            yield from (f"assistant.{alias.name}" for alias in node.names)
        else:
            yield target


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "assistant"


def import_edges() -> Edges:
    """part -> imported part -> where (``file:line module``)."""
    edges: Edges = defaultdict(lambda: defaultdict(list))
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            for target in _imported(node, module, path.name == "__init__.py"):
                if target.split(".")[0] != "assistant":
                    continue
                source, dest = _part(module), _part(target)
                if source != dest:
                    edges[source][dest].append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {target}")
    return edges


def cycles(edges: Edges) -> list[list[str]]:
    """Strongly connected parts (Tarjan), each a cycle of two or more."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group: list[str] = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _describe(edges: Edges, group: list[str]) -> str:
    lines = [" <-> ".join(group)]
    for source in group:
        for dest in group:
            for where in edges[source].get(dest, [])[:2]:
                lines.append(f"  {source} -> {dest}: {where}")
    return "\n".join(lines)


def test_settings_import_nothing_else_of_hearth() -> None:
    edges = import_edges()
    assert "settings" in {d for dests in edges.values() for d in dests}, "nobody reads settings?"
    assert dict(edges.get("settings", {})) == {}


def test_parts_form_no_import_cycle() -> None:
    edges = import_edges()
    found = cycles(edges)
    assert not found, "import cycles between parts:\n" + "\n".join(_describe(edges, g) for g in found)


def test_the_checker_sees_a_cycle_through_a_function_import() -> None:
    """The check itself can fail: a cycle hidden in a function body is found."""
    tree = ast.parse("def f():\n    from assistant.b.x import y\n")
    targets = [t for node in ast.walk(tree) for t in _imported(node, "assistant.a.m", False)]
    assert targets == ["assistant.b.x"]
    edges: Edges = {"a": {"b": ["f"]}, "b": {"c": ["g"]}, "c": {"a": ["h"]}, "d": {"a": ["i"]}}
    assert cycles(edges) == [["a", "b", "c"]]
