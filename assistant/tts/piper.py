"""Piper with the bundled en_US-joe-medium voice (or any .onnx voice)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from assistant.audio.chunk import Samples
from assistant.config import TtsSettings
from assistant.errors import ModelError, TtsError
from assistant.models import bundled_path, require_file
from assistant.tts.cache import PieceCache


def quiet_session(path: Path) -> Any:
    """An ONNX session whose idle threads sleep instead of spinning: on 2 cores, spinning
    threads starve the wake word and Whisper running beside them."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(path), sess_options=options,
                                        providers=["CPUExecutionProvider"])


class PiperTts:
    """Sentence by sentence, so the first sentence can play while the rest is made; a
    text said recently comes from :attr:`cache`."""

    def __init__(self, settings: TtsSettings) -> None:
        from piper import PiperConfig, PiperVoice, SynthesisConfig

        path = (require_file(settings.voice, "text-to-speech") if settings.voice
                else bundled_path("piper-en_US-joe-medium"))
        config = Path(str(path) + ".json")
        if not config.exists():
            raise ModelError(f"Piper voice {path} needs its config beside it: {config}",
                             code="model_missing")
        try:
            self._voice = PiperVoice(config=PiperConfig.from_dict(json.loads(config.read_text())),
                                     session=quiet_session(path))
        except Exception as exc:
            raise ModelError(f"cannot load Piper voice {path}: {str(exc)[:200]}",
                             code="model_corrupt") from None
        self._syn = SynthesisConfig(length_scale=settings.length_scale)
        self.sample_rate = int(self._voice.config.sample_rate)
        self.cache = PieceCache(settings.cache_pieces)

    def synthesize(self, text: str) -> Iterator[Samples]:
        """int16 audio at :attr:`sample_rate`, one piece per sentence."""
        if not text.strip():
            return
        cached = self.cache.get(text)
        if cached is not None:
            yield from cached
            return
        made: list[Samples] = []
        try:
            for chunk in self._voice.synthesize(text, syn_config=self._syn):
                made.append(np.asarray(chunk.audio_int16_array, dtype=np.int16))
                yield made[-1]
        except Exception as exc:
            raise TtsError(f"speech synthesis failed: {exc}") from None
        self.cache.put(text, tuple(made))  # only when made whole (a stopped reply is not)

    def speak_all(self, text: str) -> Samples:
        parts = list(self.synthesize(text))
        return np.concatenate(parts) if parts else np.zeros(0, np.int16)
