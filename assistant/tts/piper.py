"""Piper with the bundled en_US-joe-medium voice (or any .onnx voice)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from assistant.audio.chunk import Samples
from assistant.config import TtsSettings
from assistant.errors import ModelError, TtsError
from assistant.models import bundled_path, require_file


class PiperTts:
    """Sentence by sentence, so the first sentence can play while the rest is made."""

    def __init__(self, settings: TtsSettings) -> None:
        from piper import PiperVoice, SynthesisConfig

        path = (require_file(settings.voice, "text-to-speech") if settings.voice
                else bundled_path("piper-en_US-joe-medium"))
        config = Path(str(path) + ".json")
        if not config.exists():
            raise ModelError(f"Piper voice {path} needs its config beside it: {config}",
                             code="model_missing")
        try:
            self._voice = PiperVoice.load(str(path), config_path=str(config))
        except Exception as exc:
            raise ModelError(f"cannot load Piper voice {path}: {str(exc)[:200]}",
                             code="model_corrupt") from None
        self._syn = SynthesisConfig(length_scale=settings.length_scale)
        self.sample_rate = int(self._voice.config.sample_rate)

    def synthesize(self, text: str) -> Iterator[Samples]:
        """int16 audio at :attr:`sample_rate`, one piece per sentence."""
        if not text.strip():
            return
        try:
            for chunk in self._voice.synthesize(text, syn_config=self._syn):
                yield np.asarray(chunk.audio_int16_array, dtype=np.int16)
        except Exception as exc:
            raise TtsError(f"speech synthesis failed: {exc}") from None

    def speak_all(self, text: str) -> Samples:
        parts = list(self.synthesize(text))
        return np.concatenate(parts) if parts else np.zeros(0, np.int16)
