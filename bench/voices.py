"""Speech and noise for benchmark audio: espeak-ng and the bundled Piper voice at 16 kHz,
the eval-data noise files mixed in at a chosen SNR, resampling and a damaged-FLAC reader.
(The wake-word and coffee benchmarks build their audio from these.)"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from assistant.audio.chunk import SAMPLE_RATE
from assistant.audio.files import read_audio

ESPEAK_VOICES = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan",
                 "en-gb-x-gbcwmd", "en-029", "en-us-nyc")
ESPEAK_VARIANTS = ("", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
                   "klatt", "klatt2", "klatt3", "Andy", "Annie", "Alex", "belinda", "david",
                   "edward", "linda", "max", "michael", "paul", "steph", "robert", "john")
FloatAudio = npt.NDArray[np.float32]


def to_i16(x: FloatAudio) -> npt.NDArray[np.int16]:
    return (np.clip(x, -1.0, 1.0) * 32767.0).astype(np.int16)


def active_power(x: FloatAudio) -> float:
    """Mean power of the frames within 30 dB of the loudest (speech, not the pauses)."""
    n = 320
    frames = x[: len(x) // n * n].reshape(-1, n) if len(x) >= n else x.reshape(1, -1)
    power = (frames.astype(np.float64) ** 2).mean(axis=1)
    active = power[power >= power.max() / 1000.0]
    return float(active.mean()) if len(active) else 0.0


class NoisePool:
    """The eval-data noise files, from which random segments are mixed in."""

    def __init__(self, files: Sequence[Path]) -> None:
        self.names = [f.stem for f in files]
        self.audio = [read_audio(f).astype(np.float32) / 32768.0 for f in files]

    def segment(self, n: int, rng: np.random.Generator) -> tuple[str, FloatAudio]:
        i = int(rng.integers(len(self.audio)))
        src = self.audio[i]
        reps = int(np.ceil((n + len(src)) / len(src)))
        looped = np.tile(src, reps)
        start = int(rng.integers(len(src)))
        return self.names[i], looped[start : start + n]

    def mix(self, speech: FloatAudio, snr_db: float, rng: np.random.Generator,
            ref_power: float | None = None) -> tuple[str, FloatAudio]:
        """Speech plus noise at ``snr_db`` relative to the speech's active power."""
        name, noise = self.segment(len(speech), rng)
        sp = ref_power if ref_power is not None else active_power(speech)
        npow = float((noise.astype(np.float64) ** 2).mean()) or 1e-12
        gain = np.sqrt(sp / (npow * 10.0 ** (snr_db / 10.0)))
        out = speech + gain * noise
        peak = float(np.abs(out).max())
        if peak > 0.99:
            out = out * (0.99 / peak)
        return name, out.astype(np.float32)


def dither(n: int, rng: np.random.Generator) -> FloatAudio:
    """A -84 dBFS floor: real microphones are never digitally silent."""
    return (rng.normal(0.0, 2.0, n) / 32768.0).astype(np.float32)


def resample(x: FloatAudio, rate: int) -> FloatAudio:
    import soxr

    if rate == SAMPLE_RATE:
        return x.astype(np.float32)
    return np.asarray(soxr.resample(x, rate, SAMPLE_RATE, quality="HQ"), dtype=np.float32)


def decode_damaged(path: Path) -> FloatAudio:
    """A FLAC file libsndfile gives up on ("lost sync"), decoded by ffmpeg (PyAV), which
    skips the damaged frames."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = int(stream.rate or SAMPLE_RATE)
        frames = [f.to_ndarray() for f in container.decode(stream)]
    data = np.concatenate(frames, axis=-1)
    scale = 1.0 if data.dtype.kind == "f" else float(2 ** (8 * data.dtype.itemsize - 1))
    mono = data.reshape(-1, data.shape[-1]).mean(axis=0) / scale
    return resample(mono.astype(np.float32), rate)


def espeak(text: str, out: Path, *, voice: str, speed: int, pitch: int, gap: int = 0) -> FloatAudio:
    """espeak-ng -> 16 kHz float. ``text`` may hold many sentences (one process for all)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write(text)
        txt = f.name
    try:
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-g", str(gap),
                        "-f", txt, "-w", str(out)], check=True, capture_output=True)
    finally:
        os.unlink(txt)
    import soundfile as sf

    data, rate = sf.read(str(out), dtype="float32")
    out.unlink()
    return resample(np.asarray(data, dtype=np.float32), int(rate))


class Piper:
    """The bundled Piper voice with per-call synthesis settings."""

    def __init__(self) -> None:
        from piper import PiperVoice

        from assistant.models import bundled_path

        path = bundled_path("piper-en_US-joe-medium")
        self.voice = PiperVoice.load(str(path), config_path=str(path) + ".json")
        self.rate = int(self.voice.config.sample_rate)

    def say(self, text: str, *, length_scale: float = 1.0, noise_scale: float = 0.667,
            noise_w_scale: float = 0.8) -> FloatAudio:
        from piper import SynthesisConfig

        cfg = SynthesisConfig(length_scale=length_scale, noise_scale=noise_scale,
                              noise_w_scale=noise_w_scale)
        parts = [np.asarray(c.audio_int16_array, dtype=np.float32) / 32768.0
                 for c in self.voice.synthesize(text, syn_config=cfg)]
        audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        return resample(audio, self.rate)
