"""Where in a settings file a setting was written: a pydantic error's location
(``("wake", "models", 1, "threshold")``) -> the line of the TOML or YAML file that set it.

So ``hearth config check`` can say ``hearth.toml:31: wake.models.1.threshold: ...``
instead of a path into a data structure the user never sees.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import yaml

Loc = Sequence[str | int]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-.]+(?:\s*\.\s*[A-Za-z0-9_\-"']+)*)\s*=""")


def _parts(dotted: str) -> list[str]:
    return [p.strip().strip("\"'") for p in dotted.split(".")]


def toml_line(text: str, loc: Loc) -> int | None:
    """The 1-based line that sets ``loc`` (or the nearest table that holds it); None if unseen."""
    want = [str(p) for p in loc]
    table: list[str] = []
    counts: dict[tuple[str, ...], int] = {}
    best: tuple[int, int] | None = None  # (matched parts, line)

    def consider(path: list[str], line: int) -> None:
        nonlocal best
        n = 0
        for a, b in zip(path, want, strict=False):
            if a != b:
                break
            n += 1
        if n and (n == len(path) or n == len(want)) and (best is None or n > best[0]):
            best = (n, line)

    for number, raw in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(raw)
        if header:
            names = _parts(header.group(2))
            if header.group(1) == "[[":
                index = counts.get(tuple(names), -1) + 1
                counts[tuple(names)] = index
                table = [*names, str(index)]
            else:
                table = names
            consider(table, number)
            continue
        key = _KEY.match(raw)
        if key:
            consider([*table, *_parts(key.group(1))], number)
    return best[1] if best else None


def yaml_line(text: str, loc: Loc) -> int | None:
    """The 1-based line of the YAML node at ``loc`` (or its nearest parent)."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if str(k.value) == str(part)), None)
            key = next((k for k, v in node.value if str(k.value) == str(part)), None)
            if match is None or key is None:
                break
            line, node = key.start_mark.line + 1, match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def line_of(text: str, loc: Loc, *, is_yaml: bool) -> int | None:
    return yaml_line(text, loc) if is_yaml else toml_line(text, loc)
