"""openWakeWord 0.5.1 on ONNX runtime, with the models its wheel ships or a user's own."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from assistant.audio.chunk import Samples
from assistant.config import WakeModelSettings, model_name_is_bundled
from assistant.errors import ModelError
from assistant.models import bundled_path, package_dir, require_file
from assistant.wake.base import WakeDetector

log = logging.getLogger(__name__)


def model_file(model: WakeModelSettings) -> Path:
    if model.path is not None:
        path = require_file(model.path, f"wake word {model.name!r}")
        if path.suffix not in (".onnx", ".tflite"):
            raise ModelError(f"wake word model {path} must be an .onnx or .tflite file",
                             code="model_invalid")
        return path
    if not model_name_is_bundled(model.name, "openwakeword"):
        raise ModelError(f"wake word {model.name!r} is not bundled; give its model file as 'path'",
                         code="model_missing")
    return bundled_path(model.name)


class OpenWakeWord(WakeDetector):
    """One shared feature extractor, one small classifier per wake word."""

    def __init__(self, models: list[WakeModelSettings], *, refractory_s: float = 2.0) -> None:
        super().__init__(models, refractory_s=refractory_s)
        package_dir("openwakeword")  # a missing package is one ModelError, not an ImportError
        from openwakeword.model import Model

        files = {m.name: model_file(m) for m in models}
        framework = "tflite" if all(p.suffix == ".tflite" for p in files.values()) else "onnx"
        try:
            self._model = Model(wakeword_models=[str(p) for p in files.values()],
                                inference_framework=framework)
        except Exception as exc:  # onnxruntime raises its own types for corrupt files
            raise ModelError(f"cannot load wake word model(s) {', '.join(map(str, files.values()))}: "
                             f"{str(exc).splitlines()[0][:200]}", code="model_corrupt") from None
        # openWakeWord names each model by its file stem; map back to ours.
        self._labels = {p.stem: name for name, p in files.items()}

    def _score(self, samples: Samples) -> dict[str, float]:
        raw = self._model.predict(np.asarray(samples, dtype=np.int16))
        return {self._labels.get(k, k): float(v) for k, v in raw.items()}

    def _reset_engine(self) -> None:
        # 0.5.1 can only clear its prediction buffer; flush the feature window (~1.3 s)
        # with quiet noise so the audio heard before cannot score again.
        quiet = np.random.default_rng(0).integers(-4, 5, size=16 * 1280).astype(np.int16)
        for start in range(0, len(quiet), 1280):
            self._model.predict(quiet[start : start + 1280])
        self._model.reset()
