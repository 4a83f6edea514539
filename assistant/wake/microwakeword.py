"""microWakeWord (pymicro-wakeword 2.5.0): Apache-2.0 models, far less CPU than openWakeWord.

The package's own front end (TFLite Micro's, from pymicro-features) turns each 10 ms of
16 kHz int16 audio into 40 features; every model then runs once per ``stride`` (3)
feature frames and reports the mean of its last ``sliding_window_size`` (5)
probabilities. One 80 ms chunk holds two or three such runs: its score is their highest.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from assistant.audio.chunk import Samples
from assistant.config import WakeModelSettings, model_name_is_bundled
from assistant.errors import ModelError
from assistant.models import package_dir, require_file
from assistant.wake.base import WakeDetector

log = logging.getLogger(__name__)

SLIDING_WINDOW = 5
"""Probabilities averaged for a bare .tflite model (what the bundled manifests say)."""


def _lib() -> Path:
    lib = next(iter((package_dir("pymicro_wakeword") / "lib").glob("*tensorflowlite_c.*")), None)
    if lib is None:
        raise ModelError("pymicro-wakeword has no tensorflowlite_c library for this platform; "
                         "reinstall it", code="model_missing")
    return lib


def model_files(model: WakeModelSettings) -> tuple[Path, dict[str, Any]]:
    """The model's .tflite file and its manifest (``{}`` for a bare .tflite)."""
    if model.path is not None:
        path = require_file(model.path, f"wake word {model.name!r}")
        if path.suffix not in (".json", ".tflite"):
            raise ModelError(f"microWakeWord model {path} must be a .json manifest or a .tflite file",
                             code="model_invalid")
        manifest = path if path.suffix == ".json" else path.with_suffix(".json")
    elif model_name_is_bundled(model.name, "microwakeword"):
        manifest = package_dir("pymicro_wakeword") / "models" / f"{model.name}.json"
    else:
        raise ModelError(f"wake word {model.name!r} is not bundled with microWakeWord; give its "
                         "model file as 'path'", code="model_missing")
    if not manifest.is_file():
        return require_file(model.path or manifest, f"wake word {model.name!r}"), {}
    try:
        config = json.loads(manifest.read_text(encoding="utf-8"))
        tflite = manifest.parent / str(config["model"])
        micro = dict(config["micro"])
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"microWakeWord manifest {manifest} is not valid: {exc!s:.200}",
                         code="model_invalid") from None
    return require_file(tflite, f"wake word {model.name!r}"), micro


def _load(model: WakeModelSettings, lib: Path) -> Any:
    from pymicro_wakeword import MicroWakeWord as Mww
    from pymicro_wakeword.wakeword import TfLiteWakeWord

    tflite, micro = model_files(model)
    # The package hands the file to TFLite unchecked and crashes on a bad one: probe it first.
    probe = TfLiteWakeWord(lib).lib
    handle = probe.TfLiteModelCreateFromFile(str(tflite).encode())
    if not handle:
        raise ModelError(f"cannot load wake word model {tflite}: not a TensorFlow Lite model",
                         code="model_corrupt")
    probe.TfLiteModelDelete(handle)
    try:
        return Mww(model.name, wake_word=model.phrase or model.name, tflite_model=tflite,
                             probability_cutoff=model.threshold,
                             sliding_window_size=int(micro.get("sliding_window_size", SLIDING_WINDOW)),
                             trained_languages=[], libtensorflowlite_c_path=lib)
    except (ValueError, RuntimeError) as exc:  # e.g. a float (openWakeWord) .tflite
        raise ModelError(f"cannot load wake word model {tflite} with microWakeWord: {exc!s:.200}",
                         code="model_invalid") from None


class MicroWakeWord(WakeDetector):
    """One shared feature front end, one streaming model per wake word."""

    def __init__(self, models: list[WakeModelSettings], *, refractory_s: float = 2.0) -> None:
        super().__init__(models, refractory_s=refractory_s)
        lib = _lib()  # first: a missing package is one ModelError, not an ImportError
        from pymicro_wakeword import MicroWakeWordFeatures

        self._models = {m.name: _load(m, lib) for m in models}
        self._features = MicroWakeWordFeatures()

    def _score(self, samples: Samples) -> dict[str, float]:
        best = dict.fromkeys(self._models, 0.0)
        audio = np.asarray(samples, dtype="<i2").tobytes()
        for features in self._features.process_streaming(audio):
            for name, mww in self._models.items():
                p = mww.process_streaming_prob(features)
                if p is not None and p > best[name]:
                    best[name] = float(p)
        return best

    def _reset_engine(self) -> None:
        # The models keep streaming state inside TFLite; the package resets by reloading.
        self._features.reset()
        for mww in self._models.values():
            mww.reset()
