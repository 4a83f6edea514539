"""Where the spoken reply goes: a speaker, a WAV file, or nowhere."""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.audio.chunk import Samples
from assistant.audio.files import write_wav
from assistant.audio.sources import find_device, import_sounddevice


class AudioSink(Protocol):
    """Receives reply audio as it is synthesized; ``finish`` ends one reply."""

    def play(self, samples: Samples, rate: int) -> None: ...

    def finish(self) -> None: ...


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


class SpeakerSink:
    """Plays through sounddevice on its own thread: the loop goes on listening while the
    reply plays, so the wake word can stop it (:meth:`stop`, barge-in)."""

    def __init__(self, device: str | int | None = None) -> None:
        self._sd = import_sounddevice()
        self._device = find_device(self._sd, device, "output")
        self._queue: queue.Queue[tuple[Samples, int]] = queue.Queue()
        self._idle = threading.Event()
        self._idle.set()
        threading.Thread(target=self._play_queued, name="speaker", daemon=True).start()

    def play(self, samples: Samples, rate: int) -> None:
        self._idle.clear()
        self._queue.put((samples, rate))

    def finish(self) -> None:
        pass

    def stop(self) -> None:
        """Stop the reply now: what is queued is dropped, what plays is cut."""
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._sd.stop()

    def drain(self) -> None:
        """Wait until everything queued has been played (before the process exits)."""
        self._idle.wait()

    def _play_queued(self) -> None:
        while True:
            try:
                samples, rate = self._queue.get(timeout=0.1)
            except queue.Empty:
                self._idle.set()
                continue
            self._sd.play(samples, rate, device=self._device, blocking=True)
