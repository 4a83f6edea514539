"""Every setting Hearth has, as frozen, validated models: a leaf that imports nothing else
of Hearth, so any stage can receive its section without pulling in another stage.

Loading (files, the privacy policy file, relative paths) is :mod:`assistant.config`'s job.
A test (tests/test_imports.py) keeps this package a leaf.
"""

from __future__ import annotations

from assistant.settings.base import (
    Frozen,
)
from assistant.settings.home import (
    ExposureSettings,
    HomeAssistantSettings,
    HomeSettings,
    MqttSettings,
)
from assistant.settings.licences import (
    LicenceSettings,
)
from assistant.settings.privacy import (
    DEFAULT_REDACT,
    REDACT_KINDS,
    CloudSettings,
    Effect,
    PolicyRule,
    PrivacyMode,
    PrivacySettings,
    RedactKind,
)
from assistant.settings.root import (
    Settings,
    default_data_dir,
)
from assistant.settings.server import (
    LOOPBACK_HOSTS,
    SatelliteSettings,
    ServerSettings,
    is_loopback,
)
from assistant.settings.skills import (
    SkillsSettings,
)
from assistant.settings.understand import (
    ConversationSettings,
    LocalLlmSettings,
)
from assistant.settings.voice import (
    BUNDLED_WAKE_MODELS,
    WAKE_ENGINES,
    AudioSettings,
    SttSettings,
    TtsSettings,
    VadSettings,
    WakeModelSettings,
    WakeSettings,
    WakeVerifierSettings,
    model_name_is_bundled,
)

__all__ = [
    "BUNDLED_WAKE_MODELS",
    "DEFAULT_REDACT",
    "LOOPBACK_HOSTS",
    "REDACT_KINDS",
    "WAKE_ENGINES",
    "AudioSettings",
    "CloudSettings",
    "ConversationSettings",
    "Effect",
    "ExposureSettings",
    "Frozen",
    "HomeAssistantSettings",
    "HomeSettings",
    "LicenceSettings",
    "LocalLlmSettings",
    "MqttSettings",
    "PolicyRule",
    "PrivacyMode",
    "PrivacySettings",
    "RedactKind",
    "SatelliteSettings",
    "ServerSettings",
    "Settings",
    "SkillsSettings",
    "SttSettings",
    "TtsSettings",
    "VadSettings",
    "WakeModelSettings",
    "WakeSettings",
    "WakeVerifierSettings",
    "default_data_dir",
    "is_loopback",
    "model_name_is_bundled",
]
