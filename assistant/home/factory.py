"""Pick the home backend the settings ask for."""

from __future__ import annotations

from assistant.config import Settings, configs_dir
from assistant.home.base import HomeBackend


def open_home(settings: Settings) -> HomeBackend:
    """Open the configured backend (the demo home unless told otherwise)."""
    from assistant.home.demo import DemoHome

    definition = settings.home.demo_home or configs_dir() / "demo_home.yaml"
    state_db = settings.home.state_db or settings.data_dir / "home.sqlite"
    return DemoHome(definition, state_db)
