"""The ``[skills]`` settings section: which skills load, their settings, the timeout."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from assistant.settings.base import Frozen


class SkillsSettings(Frozen):
    """``[skills]`` in the config file; ``[skills.settings.<name>]`` tables hold each
    skill's own settings, validated against the skill's schema at start."""

    enabled: tuple[str, ...] = ("*",)
    """The allowlist: skill (or plugin) names that may load; "*" = every installed skill
    (the built-in ones are installed packages too). A plugin not allowed here is never
    even imported."""
    disabled: tuple[str, ...] = ()
    """Names never loaded, even when "*" allows everything."""
    timeout_s: float = Field(5.0, gt=0.0, le=120.0)
    """A handler that takes longer gets a spoken error; the turn never waits longer."""
    ring_every_s: float = Field(20.0, ge=1.0, le=3600.0)
    """An unanswered timer rings again after this long."""
    max_rings: int = Field(6, ge=1, le=100)
    """A timer stops ringing after this many rings without an answer."""
    settings: Mapping[str, Mapping[str, Any]] = Field(default_factory=dict)
    """Each skill's settings by skill name: ``[skills.settings.coffee] default_size = "large"``."""
