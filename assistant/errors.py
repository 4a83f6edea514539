"""One exception type per stage, each with a stable ``code``.

The CLI turns any :class:`HearthError` into one line on stderr and a non-zero exit;
the pipeline turns it into a ``StageFailed`` event and keeps running.
"""

from __future__ import annotations

from assistant.stages import Stage


class HearthError(Exception):
    """Base of every error Hearth reports to a user."""

    code = "error"
    stage: str = "hearth"
    """The :class:`~assistant.stages.Stage` that failed (or config, models, audio: before any)."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)


class ConfigError(HearthError):
    code = "config_invalid"
    stage = "config"


class ModelError(HearthError):
    code = "model_unavailable"
    stage = "models"


class AudioError(HearthError):
    code = "audio_invalid"
    stage = "audio"


class WakeError(HearthError):
    code = "wake_failed"
    stage = Stage.WAKE


class VadError(HearthError):
    code = "vad_failed"
    stage = Stage.VAD


class SttError(HearthError):
    code = "stt_failed"
    stage = Stage.STT


class UnderstandError(HearthError):
    code = "understand_failed"
    stage = Stage.UNDERSTAND


class HomeError(HearthError):
    code = "home_failed"
    stage = Stage.HOME


class TtsError(HearthError):
    code = "tts_failed"
    stage = Stage.TTS


class SkillError(HearthError):
    code = "skill_failed"
    stage = Stage.SKILL


class CloudError(HearthError):
    code = "cloud_failed"
    stage = Stage.CLOUD
