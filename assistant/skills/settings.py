"""Moved to :mod:`assistant.settings.skills` (settings flow one way); kept for imports that
still name this module."""

from assistant.settings.skills import *  # noqa: F403
