"""Find skill plugins: the ``hearth`` entry-point group, and skill folders.

Both paths end the same way: a module with a ``register_skills`` hook is registered
with pluggy and asked for its skills. A folder skill (``skills/coffee/``) is a package
shaped exactly like one on PyPI — a ``pyproject.toml`` whose
``[project.entry-points.hearth]`` names the module — imported from the folder instead
of site-packages; if the same entry point is also installed (``pip install -e``), the
installed one wins. The allowlist is applied *before* importing: a plugin that is not
allowed never runs any code.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import logging
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from assistant.config import PACKAGE_DIR
from assistant.skills import hookspecs
from assistant.skills.api import Skill
from assistant.skills.settings import SkillsSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plugin:
    name: str
    """The entry-point name (by convention, the skill's name)."""
    module: object
    source: str
    """Where it came from: "entry point (dist 1.0)" or "folder /path"."""


@dataclass(frozen=True)
class Problem:
    """A plugin or skill that could not load (the assistant starts without it)."""

    name: str
    source: str
    error: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "source": self.source, "error": self.error}


@dataclass(frozen=True)
class Found:
    skill: Skill[Any]
    plugin: Plugin


def builtin_dir() -> Path | None:
    """The top-level skills/ folder of a source checkout (or an editable install)."""
    folder = PACKAGE_DIR.parent / "skills"
    return folder if folder.is_dir() else None


def allowed(names: Iterable[str], config: SkillsSettings) -> bool:
    """Whether anything called by one of ``names`` (a plugin, a skill) may load."""
    names = set(names)
    if names & set(config.disabled):
        return False
    return "*" in config.enabled or bool(names & set(config.enabled))


def entry_point_plugins(config: SkillsSettings) -> tuple[list[Plugin], list[Problem], set[str]]:
    """Installed plugins in the ``hearth`` group (imported only if allowed)."""
    plugins: list[Plugin] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for ep in sorted(importlib.metadata.entry_points(group=hookspecs.ENTRY_POINT_GROUP),
                     key=lambda e: e.name):
        seen.add(ep.name)
        dist = getattr(ep, "dist", None)
        source = f"entry point {ep.value}" + (f" ({dist.name} {dist.version})" if dist else "")
        if not allowed([ep.name], config):
            continue
        try:
            plugins.append(Plugin(ep.name, ep.load(), source))
        except Exception as exc:  # a broken plugin must not stop the assistant
            problems.append(Problem(ep.name, source, f"import failed: {type(exc).__name__}: {exc}"))
    return plugins, problems, seen


def folder_plugins(folders: Iterable[Path], config: SkillsSettings, skip: set[str],
                   ) -> tuple[list[Plugin], list[Problem], set[str]]:
    """Local skill packages: each subfolder of ``folders`` with a pyproject.toml."""
    plugins: list[Plugin] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for folder in folders:
        if not folder.is_dir():
            problems.append(Problem(folder.name, f"folder {folder}", "skills folder not found"))
            continue
        for sub in sorted(p for p in folder.iterdir() if (p / "pyproject.toml").is_file()):
            source = f"folder {sub}"
            try:
                points = read_entry_points(sub / "pyproject.toml")
            except ValueError as exc:
                problems.append(Problem(sub.name, source, str(exc)))
                continue
            for name, value in points.items():
                seen.add(name)
                if name in skip or not allowed([name], config):
                    continue  # installed too (the installed one wins), or not allowed
                try:
                    plugins.append(Plugin(name, import_from_folder(sub, value), source))
                except Exception as exc:  # reported, the rest still loads
                    problems.append(Problem(name, source, f"import failed: {type(exc).__name__}: {exc}"))
    return plugins, problems, seen


def read_entry_points(pyproject: Path) -> dict[str, str]:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{pyproject}: not a readable pyproject.toml ({exc})") from None
    points = data.get("project", {}).get("entry-points", {}).get(hookspecs.ENTRY_POINT_GROUP)
    if not isinstance(points, dict) or not points:
        raise ValueError(f"{pyproject} declares no [project.entry-points.{hookspecs.ENTRY_POINT_GROUP}]")
    return {str(k): str(v) for k, v in points.items()}


def import_from_folder(folder: Path, value: str) -> object:
    """Import ``module[:attr]`` from a package that lives in ``folder`` (or folder/src)."""
    module_path, _, attr = value.partition(":")
    top = module_path.split(".")[0]
    candidates = [folder / top, folder / "src" / top]
    pkg = next((c for c in candidates if (c / "__init__.py").is_file()), None)
    existing = sys.modules.get(top)
    if existing is not None:
        where = Path(getattr(existing, "__file__", "") or "").resolve()
        if pkg is None or pkg.resolve() not in where.parents:
            raise ImportError(f"another module named {top!r} is already imported (from {where})")
    elif pkg is not None:
        spec = importlib.util.spec_from_file_location(top, pkg / "__init__.py",
                                                      submodule_search_locations=[str(pkg)])
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {top} from {pkg}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[top] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[top]
            raise
    else:
        raise ImportError(f"no package {top!r} in {folder} (looked in {folder}/{top} and {folder}/src/{top})")
    obj: object = importlib.import_module(module_path)
    for part in attr.split(".") if attr else []:
        obj = getattr(obj, part)
    return obj


def collect(plugins: Iterable[Plugin]) -> tuple[list[Found], list[Problem]]:
    """Register ``plugins`` with pluggy and call each one's ``register_skills`` hook
    (one at a time, so one broken plugin does not hide the others' skills)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    found: list[Found] = []
    problems: list[Problem] = []
    for plugin in plugins:
        if isinstance(plugin.module, Skill):  # a bare Skill object (tests, the SDK's helper)
            found.append(Found(plugin.module, plugin))
            continue
        try:
            pm.register(plugin.module, name=plugin.name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            problems.append(Problem(plugin.name, plugin.source, f"not a valid plugin: {exc}"))
            continue
        impls = [i for i in pm.hook.register_skills.get_hookimpls() if i.plugin_name == plugin.name]
        if not impls:
            problems.append(Problem(plugin.name, plugin.source, "defines no @hookimpl register_skills"))
            continue
        got: list[Skill[Any]] = []

        def register(skill: Any, _got: list[Skill[Any]] = got, _plugin: Plugin = plugin) -> None:
            if not isinstance(skill, Skill):
                raise TypeError(f"register() takes a Skill, not {type(skill).__name__}")
            _got.append(skill)

        for impl in impls:
            try:
                impl.function(register=register)
            except Exception as exc:  # a plugin's bug stays its own
                problems.append(Problem(plugin.name, plugin.source,
                                        f"register_skills failed: {type(exc).__name__}: {exc}"))
        if not got and not any(p.name == plugin.name for p in problems):
            problems.append(Problem(plugin.name, plugin.source, "registered no skills"))
        found.extend(Found(s, plugin) for s in got)
    return found, problems


def discover(config: SkillsSettings, extra: Iterable[object] = (), *, search: bool = True,
             ) -> tuple[list[Found], list[Problem], set[str]]:
    """Every allowed skill: built-in folder, configured folders, entry points, ``extra``
    (``search=False``: only ``extra``).

    Returns the skills, the problems, and every plugin name seen (allowed or not), so
    an allowlist entry that names nothing can be reported.
    """
    eps: list[Plugin] = []
    local: list[Plugin] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    if search:
        eps, problems, seen = entry_point_plugins(config)
        folders = ([d] if config.builtin and (d := builtin_dir()) else []) + list(config.paths)
        local, more, seen_local = folder_plugins(folders, config, skip=seen)
        problems += more
        seen |= seen_local
    extras = [Plugin(_extra_name(o), o, "given in code") for o in extra]
    found, collect_problems = collect([*local, *eps, *extras])
    return found, [*problems, *collect_problems], seen


def _extra_name(obj: object) -> str:
    if isinstance(obj, Skill):
        return obj.name
    if isinstance(obj, ModuleType):
        return obj.__name__.rsplit(".", 1)[-1]
    return type(obj).__name__
