"""Build the wake stage the daemon, `hearth wake test` and the benchmark all use."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from assistant.config import Settings, WakeModelSettings, wake_model
from assistant.licences import check_wake_models
from assistant.wake.base import WakeDetector
from assistant.wake.verify import Verifier

FirstStage = Callable[[list[WakeModelSettings], float], WakeDetector]


def _openwakeword(models: list[WakeModelSettings], refractory_s: float) -> WakeDetector:
    from assistant.wake.openwakeword import OpenWakeWord

    return OpenWakeWord(models, refractory_s=refractory_s)


def _microwakeword(models: list[WakeModelSettings], refractory_s: float) -> WakeDetector:
    from assistant.wake.microwakeword import MicroWakeWord

    return MicroWakeWord(models, refractory_s=refractory_s)


ENGINES: dict[str, FirstStage] = {"openwakeword": _openwakeword, "microwakeword": _microwakeword}
"""``[wake] engine`` -> the first stage it builds."""


def with_engine(settings: Settings, engine: str | None) -> Settings:
    """``settings`` with ``[wake] engine`` replaced (``--wake-engine``); None leaves it."""
    if engine is None or engine == settings.wake.engine:
        return settings
    return settings.model_copy(update={"wake": settings.wake.model_copy(update={"engine": engine})})


def wake_models(settings: Settings, names: Sequence[str] | None = None) -> list[WakeModelSettings]:
    """The models to listen for: ``names`` (bundled or configured), else the default."""
    return [wake_model(settings, n) for n in (names or [settings.wake.default])]


def build_wake_detector(
    settings: Settings,
    names: Sequence[str] | None = None,
    *,
    first_stage: FirstStage | None = None,
    verifier: Verifier | None = None,
    second_stage: bool | None = None,
    whisper: Any | None = None,
) -> WakeDetector:
    """The configured engine, wrapped in the Whisper second stage when enabled and any model
    wants it.

    ``first_stage`` and ``verifier`` are for tests and the benchmark (a replay of cached
    scores, a cached verifier); ``second_stage`` overrides ``wake.verifier.enabled``;
    ``whisper`` shares an already loaded faster-whisper model with the second stage.
    """
    models = wake_models(settings, names)
    check_wake_models(settings, models)
    if first_stage is None:
        first_stage = ENGINES[settings.wake.engine]
    enabled = settings.wake.verifier.enabled if second_stage is None else second_stage
    if not enabled or not any(m.verify for m in models):
        return first_stage(models, settings.wake.refractory_s)
    # the first stage proposes candidates from the lower threshold; the second decides
    candidates = [m.model_copy(update={"threshold": m.candidate_threshold})
                  if m.verify and m.candidate_threshold is not None else m for m in models]
    inner = first_stage(candidates, settings.wake.refractory_s)
    from assistant.wake.second_stage import VerifiedWakeDetector

    if verifier is None:
        from assistant.wake.verify import WhisperPhraseVerifier

        vs = settings.wake.verifier
        verifier = WhisperPhraseVerifier(settings.stt, min_similarity=vs.min_similarity,
                                         context_s=vs.context_s, model=whisper)
    return VerifiedWakeDetector(inner, verifier, settings.wake.verifier, models=models)
