"""Licences in plain sight: each engine's licence as its installed package states it, and
the ``[licences] commercial_use`` switch (a set-up free of non-commercial terms).

The models' own licences are in the model registry (:mod:`assistant.models`); code and
weights often differ (openWakeWord's code is Apache-2.0, its pre-trained models are not).
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass

from assistant.errors import ConfigError
from assistant.settings import Settings, WakeModelSettings

NON_COMMERCIAL_ENGINE = "openwakeword"
"""The engine whose bundled models forbid commercial use (CC BY-NC-SA 4.0)."""
COMMERCIAL_ENGINE = "microwakeword"
"""Its stand-in with Apache-2.0 models."""


@dataclass(frozen=True)
class Engine:
    stage: str
    name: str
    package: str
    """The distribution whose metadata states the licence."""
    note: str = ""


ENGINES: tuple[Engine, ...] = (
    Engine("wake", "openWakeWord", "openwakeword",
           "the code; its pre-trained models are CC BY-NC-SA 4.0"),
    Engine("wake", "microWakeWord", "pymicro-wakeword"),
    Engine("wake, vad", "ONNX Runtime", "onnxruntime"),
    Engine("stt", "faster-whisper", "faster-whisper"),
    Engine("stt", "CTranslate2", "ctranslate2"),
    Engine("understand", "hassil", "hassil"),
    Engine("understand", "Home Assistant intents", "home-assistant-intents"),
    Engine("llm", "llama.cpp (llama-cpp-python)", "llama-cpp-python"),
    Engine("tts", "Piper", "piper-tts",
           "GPL: whoever redistributes Hearth with it must offer its source under the GPL too"),
)


def package_licence(package: str) -> tuple[str | None, str]:
    """``(version, licence)`` from the installed package's metadata; version None = not installed."""
    try:
        meta = importlib.metadata.metadata(package)
    except importlib.metadata.PackageNotFoundError:
        return None, "not installed"
    expression = meta.get_all("License-Expression") or []
    if expression:
        return meta["Version"], str(expression[0])
    text = str((meta.get_all("License") or [""])[0]).strip()
    if text and "\n" not in text and len(text) <= 60:
        return meta["Version"], text
    classifiers = [c.rsplit(" :: ", 1)[-1] for c in meta.get_all("Classifier") or []
                   if c.startswith("License :: ")]
    return meta["Version"], ", ".join(classifiers) or "not stated in its metadata"


def engine_rows() -> list[dict[str, str | None]]:
    """One row per engine: stage, name, package, version, licence, note."""
    rows: list[dict[str, str | None]] = []
    for e in ENGINES:
        version, licence = package_licence(e.package)
        rows.append({"stage": e.stage, "name": e.name, "package": e.package, "version": version,
                     "licence": licence, "note": e.note})
    return rows


def for_commercial_use(settings: Settings) -> Settings:
    """With ``commercial_use``, the wake engine becomes microWakeWord unless the default wake
    word is a model file of the user's own (their own terms, not openWakeWord's)."""
    wake = settings.wake
    if not settings.licences.commercial_use or wake.engine != NON_COMMERCIAL_ENGINE:
        return settings
    own = any(m.name == wake.default and m.engine in (wake.engine, None) and m.path is not None
              for m in wake.models)
    if own:
        return settings
    return settings.model_copy(update={"wake": wake.model_copy(update={"engine": COMMERCIAL_ENGINE})})


def check_wake_models(settings: Settings, models: list[WakeModelSettings]) -> None:
    """Refuse openWakeWord's bundled (non-commercial) models under ``commercial_use``."""
    if not settings.licences.commercial_use or settings.wake.engine != NON_COMMERCIAL_ENGINE:
        return
    for m in models:
        if m.path is None:
            raise ConfigError(
                f"wake word {m.name!r}: openWakeWord's pre-trained models are CC BY-NC-SA 4.0 "
                "(non-commercial) and [licences] commercial_use = true; use the microwakeword "
                "engine or a wake model file of your own (path = ...)")
