"""Moved to :mod:`assistant.settings.server` (settings flow one way); kept for imports that
still name this module."""

from assistant.settings.server import *  # noqa: F403
