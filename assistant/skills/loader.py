"""Find skill plugins: the ``hearth`` entry-point group, for built-in and third-party
skills alike.

A module an entry point names with a ``register_skills`` hook is registered with
pluggy and asked for its skills. The built-in skills (``skills/*/`` in the source
tree) are distributions of their own, installed beside Hearth (``scripts/setup.sh``
installs them editable, ``deploy/install.sh`` from their wheels), so they load through
the same path as ``pip install hearth-something``. The allowlist is applied *before*
importing: a plugin that is not allowed never runs any code.
"""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pluggy

from assistant.settings.skills import SkillsSettings
from assistant.skills import hookspecs
from assistant.skills.api import Skill

log = logging.getLogger(__name__)

BUILTIN = ("coffee", "help", "home_control", "lists", "system_status", "time_date", "timers")
"""The skills Hearth ships (``skills/<name>/``, distribution ``hearth-<name>``): when one
the allowlist lets in is not installed, the assistant says so once and runs without it."""


@dataclass(frozen=True)
class Plugin:
    name: str
    """The entry-point name (by convention, the skill's name)."""
    module: object
    source: str
    """Where it came from: "entry point module (dist 1.0)" or "given in code"."""


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


def allowed(names: Iterable[str], config: SkillsSettings) -> bool:
    """Whether anything called by one of ``names`` (a plugin, a skill) may load."""
    names = set(names)
    if names & set(config.disabled):
        return False
    return "*" in config.enabled or bool(names & set(config.enabled))


def entry_point_plugins(config: SkillsSettings) -> tuple[list[Plugin], list[Problem], set[str]]:
    """Installed plugins in the ``hearth`` group (imported only if allowed): the built-in
    ones first, so a third-party skill cannot take an intent a built-in one owns."""
    plugins: list[Plugin] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for ep in sorted(importlib.metadata.entry_points(group=hookspecs.ENTRY_POINT_GROUP),
                     key=lambda e: (e.name not in BUILTIN, e.name)):
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


def missing_builtins(config: SkillsSettings, seen: set[str]) -> list[Problem]:
    """The built-in skills the allowlist lets in that no installed entry point provides:
    one problem for all of them, naming the fix."""
    missing = [n for n in BUILTIN if n not in seen and allowed([n], config)]
    if not missing:
        return []
    how = "bash scripts/setup.sh installs them in a checkout, or pip install dist/hearth_*.whl"
    return [Problem(", ".join(missing), "built-in", f"not installed ({how})")]


def discover(config: SkillsSettings, extra: Iterable[object] = (), *, search: bool = True,
             ) -> tuple[list[Found], list[Problem], set[str]]:
    """Every allowed skill: installed entry points (built-in and third-party), then
    ``extra`` (``search=False``: only ``extra``).

    Returns the skills, the problems, and every plugin name seen (allowed or not), so
    an allowlist entry that names nothing can be reported.
    """
    eps: list[Plugin] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    if search:
        eps, problems, seen = entry_point_plugins(config)
        problems += missing_builtins(config, seen)
    extras = [Plugin(_extra_name(o), o, "given in code") for o in extra]
    found, collect_problems = collect([*eps, *extras])
    return found, [*problems, *collect_problems], seen


def _extra_name(obj: object) -> str:
    if isinstance(obj, Skill):
        return obj.name
    if isinstance(obj, ModuleType):
        return obj.__name__.rsplit(".", 1)[-1]
    return type(obj).__name__
