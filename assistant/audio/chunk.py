"""The unit of audio that flows through the loop."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
CHUNK_MS = 80
CHUNK_SAMPLES = SAMPLE_RATE * CHUNK_MS // 1000  # 1280: what openWakeWord wants

Samples = npt.NDArray[np.int16]


@dataclass(frozen=True)
class AudioChunk:
    """80 ms of 16 kHz mono int16, stamped with its position in the input."""

    samples: Samples
    t_audio_ms: float

    @property
    def duration_ms(self) -> float:
        return len(self.samples) * 1000.0 / SAMPLE_RATE

    @property
    def end_ms(self) -> float:
        return self.t_audio_ms + self.duration_ms


def chunked(samples: Samples, chunk_samples: int = CHUNK_SAMPLES) -> Iterator[AudioChunk]:
    """Split a whole signal into chunks; the last one is zero-padded to full size."""
    for start in range(0, len(samples), chunk_samples):
        part = samples[start : start + chunk_samples]
        if len(part) < chunk_samples:
            part = np.concatenate([part, np.zeros(chunk_samples - len(part), dtype=np.int16)])
        yield AudioChunk(part, start * 1000.0 / SAMPLE_RATE)


class Reframer:
    """Audio in pieces of any length (socket packets, sound-card blocks, stdin reads) ->
    whole chunks stamped with their position; the remainder waits for the next piece, and
    :meth:`flush` pads it to a last whole chunk."""

    def __init__(self, size: int = CHUNK_SAMPLES) -> None:
        self.size = size
        self.pos = 0
        """Samples handed out so far."""
        self._rest: Samples = np.zeros(0, np.int16)

    def push(self, samples: Samples) -> list[AudioChunk]:
        buf = np.concatenate([self._rest, samples]) if len(self._rest) else samples
        n, size = len(buf) // self.size, self.size
        out = [AudioChunk(buf[i * size:(i + 1) * size].copy(),
                          (self.pos + i * size) * 1000.0 / SAMPLE_RATE) for i in range(n)]
        self._rest = buf[n * size:].copy()
        self.pos += n * size
        return out

    def flush(self) -> AudioChunk | None:
        """The remainder, zero-padded to a whole chunk (None when there is none)."""
        if not len(self._rest):
            return None
        part = np.concatenate([self._rest, np.zeros(self.size - len(self._rest), np.int16)])
        self._rest = np.zeros(0, np.int16)
        chunk = AudioChunk(part, self.pos * 1000.0 / SAMPLE_RATE)
        self.pos += self.size
        return chunk


def pcm16(data: bytes) -> Samples:
    """Little-endian 16-bit PCM bytes -> samples (a trailing odd byte is dropped)."""
    out: Samples = np.frombuffer(data[: len(data) - len(data) % 2], dtype="<i2").astype(np.int16)
    return out


def to_float(samples: Samples) -> npt.NDArray[np.float32]:
    return (samples.astype(np.float32) / 32768.0).astype(np.float32)


def to_int16(samples: npt.NDArray[np.floating[Any]]) -> Samples:
    out: Samples = (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)
    return out
