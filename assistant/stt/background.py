"""Transcribe the growing utterance beside the audio thread.

While the person speaks, the loop hands the audio so far to this worker (every few
hundred ms of new speech, and whenever the speech stops), then goes on reading audio.
When the turn ends only the last piece is left to decode, often nothing. One job runs
at a time; a newer request replaces one that has not started, so the worker never
falls behind the speaker. The worker thread lives only while there is work (a server
builds a loop per satellite session; idle loops keep no threads).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from assistant.audio.chunk import Samples
from assistant.errors import HearthError


@dataclass(frozen=True)
class Heard:
    """One decode of the command's audio from its start to ``samples``."""

    samples: int
    text: str
    stt_ms: float
    error: HearthError | None = None
    done_at: float = 0.0     # the clock's time when the text was ready


class BackgroundTranscriber:
    """Decodes requests on a worker thread (``threaded=False``: at once, for tests)."""

    def __init__(self, transcribe: Callable[[Samples], str], *, threaded: bool = True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._transcribe = transcribe
        self._clock = clock
        self._threaded = threaded
        self._cv = threading.Condition()
        self._pending: tuple[int, Samples] | None = None   # (generation, audio)
        self._running = 0        # samples of the job being decoded; 0 = none
        self._done: list[Heard] = []
        self._new: list[Heard] = []
        self._generation = 0
        self._worker: threading.Thread | None = None

    @property
    def idle(self) -> bool:
        with self._cv:
            return self._pending is None and self._running == 0

    def reset(self) -> None:
        """A new command: results of jobs still running for the old one are dropped."""
        with self._cv:
            self._generation += 1
            self._pending = None
            self._done.clear()
            self._new.clear()

    def submit(self, audio: Samples) -> None:
        """Decode ``audio`` (the command from its start) when the worker is free."""
        if not self._threaded:
            self._done.append(self._decode(audio))
            self._new.append(self._done[-1])
            return
        with self._cv:
            self._pending = (self._generation, audio)
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="stt-partial", daemon=True)
                self._worker.start()
            self._cv.notify_all()

    def take_new(self) -> list[Heard]:
        """Decodes finished since the last call, oldest first."""
        with self._cv:
            new, self._new = self._new, []
        return new

    def covering(self, samples: int) -> Heard | None:
        """The newest decode of at least ``samples``, waiting for one that is queued or
        running; None when no such job was asked for."""
        with self._cv:
            while True:
                done = [h for h in self._done if h.samples >= samples]
                if done:
                    return done[-1]
                queued = self._pending is not None and len(self._pending[1]) >= samples
                if not queued and self._running < samples:
                    return None
                self._cv.wait()

    def wait_idle(self) -> None:
        with self._cv:
            while self._pending is not None or self._running:
                self._cv.wait()

    def _decode(self, audio: Samples) -> Heard:
        t0 = self._clock()
        try:
            text = self._transcribe(audio)
        except HearthError as exc:
            return Heard(len(audio), "", 0.0, exc, self._clock())
        done = self._clock()
        return Heard(len(audio), text, (done - t0) * 1000.0, None, done)

    def _work(self) -> None:
        while True:
            with self._cv:
                if self._pending is None:
                    self._worker = None
                    return
                generation, audio = self._pending
                self._pending = None
                self._running = max(1, len(audio))
            heard = self._decode(audio)
            with self._cv:
                self._running = 0
                if generation == self._generation:
                    self._done.append(heard)
                    self._new.append(heard)
                self._cv.notify_all()
