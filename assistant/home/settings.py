"""Moved to :mod:`assistant.settings.home` (settings flow one way); kept for imports that
still name this module."""

from assistant.settings.home import *  # noqa: F403
