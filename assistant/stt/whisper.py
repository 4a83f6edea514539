"""faster-whisper (CTranslate2) with the bundled tiny.en, biased toward the home's names."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from assistant.audio.chunk import Samples, to_float
from assistant.config import SttSettings
from assistant.errors import ModelError, SttError
from assistant.models import bundled_path, require_file

log = logging.getLogger(__name__)

_WAKE_PREFIX = re.compile(r"^\s*(?:(?:hey|hi|ok|okay|a)[\s,]+)?(?:jarvis|alexa|mycroft|rhasspy)\b[\s,.!?]*",
                          re.IGNORECASE)


def strip_wake_phrase(text: str) -> str:
    """Whisper often hears the end of the wake phrase; it is not part of the command."""
    return _WAKE_PREFIX.sub("", text).strip()


def bias_prompt(names: list[str]) -> str:
    """An initial prompt that makes the home's own words likely (and sets the style)."""
    return "Hey Jarvis, turn on the " + ", ".join(dict.fromkeys(n.lower() for n in names)) + "."


class WhisperStt:
    def __init__(self, settings: SttSettings, *, prompt: str | None = None) -> None:
        from faster_whisper import WhisperModel

        if settings.model is not None:
            folder = require_file(settings.model, "speech-to-text")
        else:
            folder = bundled_path("whisper-tiny.en").parent
        if not (Path(folder) / "model.bin").is_file():
            raise ModelError(f"speech-to-text model folder {folder} has no model.bin "
                             "(expected a CTranslate2 Whisper model)", code="model_invalid")
        try:
            self._model = WhisperModel(str(folder), device="cpu", compute_type=settings.compute_type,
                                       cpu_threads=settings.threads)
        except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError for bad files
            raise ModelError(f"cannot load speech-to-text model {folder}: {str(exc)[:200]}",
                             code="model_corrupt") from None
        self.settings = settings
        self.prompt = prompt

    def transcribe(self, samples: Samples) -> str:
        """The text of a short command; empty for silence."""
        if len(samples) == 0:
            return ""
        audio = to_float(samples)
        try:
            segments, _info = self._model.transcribe(
                audio,
                language=self.settings.language,
                beam_size=self.settings.beam_size,
                without_timestamps=True,
                condition_on_previous_text=False,
                initial_prompt=self.prompt,
                vad_filter=False,
                temperature=0.0,
            )
            text = " ".join(s.text.strip() for s in segments if s.no_speech_prob < 0.8)
        except Exception as exc:
            raise SttError(f"transcription failed: {exc}") from None
        return strip_wake_phrase(text.strip())

    def warm_up(self) -> None:
        self.transcribe(np.zeros(16000, np.int16))
