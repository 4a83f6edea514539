"""``Settings``: every section, one field per stage."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field

from assistant.settings.base import Frozen
from assistant.settings.home import HomeSettings
from assistant.settings.licences import LicenceSettings
from assistant.settings.privacy import CloudSettings, PrivacySettings
from assistant.settings.server import ServerSettings
from assistant.settings.skills import SkillsSettings
from assistant.settings.understand import ConversationSettings, LocalLlmSettings
from assistant.settings.voice import (
    AudioSettings,
    SttSettings,
    TtsSettings,
    VadSettings,
    WakeSettings,
)


def default_data_dir() -> Path:
    """Where state lives: ``$HEARTH_DATA_DIR`` or ``~/.local/share/hearth``."""
    env = os.environ.get("HEARTH_DATA_DIR")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".local" / "share" / "hearth"


def default_cache_dir() -> Path:
    """Files that can be made again: ``$HEARTH_CACHE_DIR``, else ``$XDG_CACHE_HOME/hearth``
    or ``~/.cache/hearth``."""
    env = os.environ.get("HEARTH_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "hearth"


class Settings(Frozen):
    """Everything Hearth can be told. Sections mirror the pipeline stages."""

    device_area: str = "living_room"
    """The area of the device that listens; resolves "turn on the light"."""
    data_dir: Path = Field(default_factory=default_data_dir)
    """State: the home's SQLite database, the audit log, lists, timers."""
    cache_dir: Path = Field(default_factory=default_cache_dir)
    """Derived files shared by every data dir (the local LLM's Q8_0 copy of its weights,
    made once per model file rather than once per data dir)."""
    audio: AudioSettings = AudioSettings()
    wake: WakeSettings = WakeSettings()
    vad: VadSettings = VadSettings()
    stt: SttSettings = SttSettings()
    tts: TtsSettings = TtsSettings()
    llm: LocalLlmSettings = LocalLlmSettings()
    conversation: ConversationSettings = ConversationSettings()
    home: HomeSettings = HomeSettings()
    privacy: PrivacySettings = PrivacySettings()
    """What may leave the device (see configs/privacy.toml and docs/privacy.md)."""
    cloud: CloudSettings = CloudSettings()
    """The OpenAI-compatible endpoint the privacy policy may escalate to."""
    server: ServerSettings = ServerSettings()
    """`hearth serve`: HTTP API, dashboard, Wyoming satellites (assistant/settings/server.py)."""
    skills: SkillsSettings = SkillsSettings()
    """Which skills load, their settings, the handler timeout (assistant/settings/skills.py)."""
    licences: LicenceSettings = LicenceSettings()
    """Whether models with non-commercial terms may run (assistant/settings/licences.py)."""
