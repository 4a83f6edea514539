"""The stages of a turn, in pipeline order (as Home Assistant's ``PipelineStage``).

Each value is the ``stage`` of that stage's error (:mod:`assistant.errors`) and of the
``error`` event it becomes, so a dashboard, a log line and ``--json`` name a stage alike.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from enum import StrEnum


class Stage(StrEnum):
    WAKE = "wake"
    """openWakeWord (and the Whisper second stage): was the wake word said?"""
    VAD = "vad"
    """Silero VAD and the endpointer: when did the request end?"""
    STT = "stt"
    """faster-whisper: what was said?"""
    UNDERSTAND = "understand"
    """Templates, then the local LLM: what is meant?"""
    SKILL = "skill"
    """A plugin skill that owns the intent decides."""
    CLOUD = "cloud"
    """The cloud, only as the privacy policy permits."""
    HOME = "home"
    """The home backend applies the actions."""
    TTS = "tts"
    """Piper speaks the reply."""

    @property
    def order(self) -> int:
        return list(Stage).index(self)


StageWatch = Callable[[Stage], AbstractContextManager[object]]
"""Times a stage that runs inside another's code (a skill, the cloud inside understanding):
``with watch(Stage.CLOUD): ...``. The pipeline's is its turn's ``StageClock.span``."""


def unwatched(_stage: Stage) -> AbstractContextManager[object]:
    """A :data:`StageWatch` that times nothing (a caller outside a turn)."""
    return nullcontext()
