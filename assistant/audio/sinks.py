"""Where the spoken reply goes: a speaker, a WAV file, or nowhere."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from assistant.audio.chunk import Samples
from assistant.audio.files import write_wav
from assistant.audio.sources import find_device, import_sounddevice


@runtime_checkable
class AudioSink(Protocol):
    """Receives reply audio as it is synthesized; ``finish`` ends one reply. A sink that
    plays may also be a :class:`StoppableSink`, a :class:`PausableSink` (barge-in) and a
    :class:`DrainingSink`."""

    def play(self, samples: Samples, rate: int) -> None: ...

    def finish(self) -> None: ...


@runtime_checkable
class StoppableSink(AudioSink, Protocol):
    """Can cut the reply short (the wake word was said over it)."""

    def stop(self) -> None: ...


@runtime_checkable
class PausableSink(StoppableSink, Protocol):
    """Can also go silent and play on from where it stopped (while the wake word heard
    over the reply is checked). A satellite's cannot: its reply plays on until the stop."""

    def pause(self) -> None: ...

    def resume(self) -> None: ...


@runtime_checkable
class DrainingSink(AudioSink, Protocol):
    """Plays on after ``finish`` (a device's buffer): ``drain`` waits until it is heard."""

    def drain(self) -> None: ...


class NullSink:
    def play(self, samples: Samples, rate: int) -> None:
        pass

    def finish(self) -> None:
        pass


class WavSink:
    """Collects a reply and writes it to ``path`` when it is finished (last reply wins)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._parts: list[Samples] = []
        self._rate = 22050

    def play(self, samples: Samples, rate: int) -> None:
        self._parts.append(samples)
        self._rate = rate

    def finish(self) -> None:
        if self._parts:
            write_wav(self.path, np.concatenate(self._parts), self._rate)
            self._parts = []


SPEAKER_LATENCY_S = 0.1
"""The device's buffer: a pause is heard this late (PortAudio's "low" underruns at load 8)."""


class SpeakerSink:
    """Plays through a sounddevice output stream that reads from a buffer, on PortAudio's
    thread: the loop goes on listening while the reply plays, and the wake word can pause,
    resume or stop it (barge-in) between two of the device's blocks."""

    def __init__(self, device: str | int | None = None) -> None:
        self._sd = import_sounddevice()
        self._device = find_device(self._sd, device, "output")
        self._lock = threading.Lock()
        self._buffer = np.zeros(0, np.int16)
        self._paused = False
        self._stream: Any = None
        self._rate = 0
        self._empty = threading.Event()
        self._empty.set()

    def play(self, samples: Samples, rate: int) -> None:
        if rate != self._rate:
            self.drain()  # what plays at the old rate ends first
            self._open(rate)
        with self._lock:
            self._buffer = np.concatenate([self._buffer, np.asarray(samples, np.int16)])
            self._empty.clear()

    def finish(self) -> None:
        pass

    def pause(self) -> None:
        """Silence at once; what is left plays on :meth:`resume`."""
        with self._lock:
            self._paused = True

    def resume(self) -> None:
        with self._lock:
            self._paused = False

    def stop(self) -> None:
        """Stop the reply now: what is left is dropped."""
        with self._lock:
            self._buffer = np.zeros(0, np.int16)
            self._paused = False
            self._empty.set()

    def drain(self) -> None:
        """Wait until everything queued has been played (before the process exits)."""
        self._empty.wait()
        if self._stream is not None:
            time.sleep(float(self._stream.latency))  # the device's own buffer

    def _open(self, rate: int) -> None:
        if self._stream is not None:
            self._stream.close()
        self._stream = self._sd.OutputStream(samplerate=rate, channels=1, dtype="int16",
                                             device=self._device, callback=self._fill,
                                             latency=SPEAKER_LATENCY_S)
        self._rate = rate
        self._stream.start()

    def _fill(self, out: np.ndarray, frames: int, when: Any, status: Any) -> None:
        with self._lock:
            n = 0 if self._paused else min(frames, len(self._buffer))
            out[:n, 0] = self._buffer[:n]
            out[n:] = 0
            self._buffer = self._buffer[n:]
            if not len(self._buffer):
                self._empty.set()
