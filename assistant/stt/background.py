"""Transcribe the growing utterance beside the audio thread.

While the person speaks, the loop hands the audio so far to this worker (every few
hundred ms of new speech, and whenever the speech stops), then goes on reading audio.
When the turn ends only the last piece is left to decode, often nothing. At a pause the
loop may ask for a second, slower look at the same audio (another ``transcribe``). One
job runs at a time; a newer request replaces one that has not started, so the worker
never falls behind the speaker. The worker thread lives only while there is work (a server
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
    look: str = ""           # which second look made it ("" = the usual decode)


@dataclass(frozen=True)
class _Job:
    generation: int          # the command it was asked for (see reset)
    audio: Samples
    transcribe: Callable[[Samples], str]
    look: str


class BackgroundTranscriber:
    """Decodes requests on a worker thread (``threaded=False``: at once, for tests)."""

    def __init__(self, transcribe: Callable[[Samples], str], *, threaded: bool = True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._transcribe = transcribe
        self._clock = clock
        self._threaded = threaded
        self._cv = threading.Condition()
        self._pending: _Job | None = None
        self._running = 0        # samples of the job being decoded; 0 = none
        self._running_look = ""  # the look of the job being decoded
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

    def submit(self, audio: Samples, *, look: str = "",
               transcribe: Callable[[Samples], str] | None = None) -> None:
        """Decode ``audio`` (the command from its start) when the worker is free; with
        ``transcribe``, that way instead (a second ``look``)."""
        job = _Job(self._generation, audio, transcribe or self._transcribe, look)
        if not self._threaded:
            self._done.append(self._decode(job))
            self._new.append(self._done[-1])
            return
        with self._cv:
            self._pending = job
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
        """The newest decode of at least ``samples``; None when no such job was asked for.
        One done already is taken at once: a decode of more audio queued or running (the
        one asked for as the speech stopped) would only add silence, and waiting for it
        cost a turn its decode time. A second look queued or running is waited for: it
        is newer than the decode it looks again at."""
        with self._cv:
            while True:
                done = [h for h in self._done if h.samples >= samples]
                queued = self._pending is not None and len(self._pending.audio) >= samples
                running = self._running >= samples
                looking = (queued and bool(self._pending and self._pending.look)) or (
                    running and bool(self._running_look))
                if not looking and (done or not (queued or running)):
                    return done[-1] if done else None
                self._cv.wait()

    def wait_idle(self) -> None:
        with self._cv:
            while self._pending is not None or self._running:
                self._cv.wait()

    def _decode(self, job: _Job) -> Heard:
        t0 = self._clock()
        try:
            text = job.transcribe(job.audio)
        except HearthError as exc:
            return Heard(len(job.audio), "", 0.0, exc, self._clock(), job.look)
        done = self._clock()
        return Heard(len(job.audio), text, (done - t0) * 1000.0, None, done, job.look)

    def _work(self) -> None:
        while True:
            with self._cv:
                if self._pending is None:
                    self._worker = None
                    return
                job, self._pending = self._pending, None
                self._running, self._running_look = max(1, len(job.audio)), job.look
            heard = self._decode(job)
            with self._cv:
                self._running, self._running_look = 0, ""
                if job.generation == self._generation:
                    self._done.append(heard)
                    self._new.append(heard)
                self._cv.notify_all()
