"""The one hook a plugin implements, in pluggy's terms (project name ``hearth``).

A plugin is any module that defines::

    from assistant.skills import hookimpl

    @hookimpl
    def register_skills(register):
        register(skill)

and is named by the ``hearth`` entry-point group (``pip install``; the built-in skills
in the top-level ``skills/`` folder are installed the same way). The hook receives a
callback, as simonw/llm's hooks do, so a plugin can register several skills, or none
(say, when a dependency is missing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT = "hearth"
ENTRY_POINT_GROUP = "hearth"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_skills(register: Callable[[Any], None]) -> None:
    """Call ``register(skill)`` for each :class:`~assistant.skills.api.Skill` this plugin offers."""
