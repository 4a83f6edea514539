"""Moved to :mod:`assistant.settings.privacy` (settings flow one way); kept for imports that
still name this module."""

from assistant.settings.privacy import *  # noqa: F403
