"""Skills as plugins: the small, typed API a skill is written against.

Import what a skill needs from here::

    from assistant.skills import Action, Intent, Permissions, Response, Skill, SkillContext, hookimpl

The machinery (discovery, the registry, the runner) lives in the submodules and is
imported only by the composition root, so importing this package stays cheap.
"""

from assistant.skills.api import (
    Intent,
    IntentInfo,
    NoSettings,
    Permissions,
    Response,
    Skill,
    SkillContext,
    TimerInfo,
)
from assistant.skills.hookspecs import hookimpl
from assistant.understand.result import Action, Decision

__all__ = [
    "Action",
    "Decision",
    "Intent",
    "IntentInfo",
    "NoSettings",
    "Permissions",
    "Response",
    "Skill",
    "SkillContext",
    "TimerInfo",
    "hookimpl",
]
