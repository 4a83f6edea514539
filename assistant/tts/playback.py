"""Saying replies: synthesized piece by piece on a worker thread, each piece played as soon
as it is ready, so the first words are heard while the rest is still being made and the
voice loop never stops listening (the wake word can pause or stop a reply; barge-in).

A piece is a sentence, or a clause of a long one: Piper's time to the first sound grows
with the length of the first piece it synthesizes.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from assistant.audio.chunk import Samples
from assistant.audio.sinks import AudioSink, DrainingSink, PausableSink, StoppableSink
from assistant.errors import HearthError
from assistant.events import Event, StageClock, TtsPaused, TtsResumed, TtsStarted, TtsStopped
from assistant.llm.sentences import SentenceSplitter
from assistant.stages import Stage

LONG_SENTENCE_WORDS = 10
"""A sentence longer than this is said clause by clause."""
MIN_CLAUSE_WORDS = 3
"""A clause shorter than this is said with the next one (no choppy "Yes," alone)."""
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+")


class Speaker(Protocol):
    sample_rate: int

    def synthesize(self, text: str) -> Iterable[Samples]: ...


def _clauses(sentence: str) -> Iterator[str]:
    if len(sentence.split()) <= LONG_SENTENCE_WORDS:
        yield sentence
        return
    held = ""
    for clause in _CLAUSE_END.split(sentence):
        held = f"{held} {clause}".strip()
        if len(held.split()) >= MIN_CLAUSE_WORDS:
            yield held
            held = ""
    if held:
        yield held


def spoken_pieces(text: str) -> list[str]:
    """The pieces a reply is said in: its sentences, a long one cut after its commas,
    semicolons and colons (the punctuation stays, so Piper still says it as a clause)."""
    splitter = SentenceSplitter()
    sentences = [*splitter.feed(text), splitter.flush() or ""]
    return [piece for s in sentences if s for piece in _clauses(s)]


def unspoken(reply: str, streamed: list[str]) -> str:
    """What is left of a reply once its streamed sentences were said."""
    for sentence in streamed:
        reply = reply.replace(sentence, "", 1)
    return reply.strip()


@dataclass(frozen=True)
class _Reply:
    text: str
    at_ms: float
    generation: int
    stages: StageClock | None


class ReplyPlayback:
    """Says replies in order; :meth:`pause`, :meth:`resume` and :meth:`stop` act on what
    plays now. Times are audio times of the loop's input (``now_ms``: its last chunk's end).

    ``threaded=False`` synthesizes inside :meth:`say` (deterministic, for tests)."""

    def __init__(self, tts: Speaker | None, sink: AudioSink, *, send: Callable[[Event], None],
                 fail: Callable[[HearthError, float], None], wall_ms: Callable[[], float],
                 now_ms: Callable[[], float], clock: Callable[[], float] = time.monotonic,
                 threaded: bool = True) -> None:
        self.tts = tts
        self.sink = sink
        self._send = send
        self._fail = fail
        self._wall_ms = wall_ms
        self._now_ms = now_ms
        self._clock = clock
        self._threaded = threaded
        self._lock = threading.RLock()
        self._jobs: queue.Queue[_Reply | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._generation = 0   # stop() bumps it: audio of older replies is dropped
        self._unsaid = 0       # replies queued or being synthesized
        self._until_ms = -1.0  # the audio made so far plays until here
        self._paused_at: float | None = None
        self._texts: list[str] = []  # what the replies being made or heard say

    # --- what the loop asks ----------------------------------------------------------

    def busy(self, at_ms: float) -> bool:
        """A reply is being made or is heard at ``at_ms`` (paused or not)."""
        with self._lock:
            return self._unsaid > 0 or self._paused_at is not None or at_ms < self._until_ms

    def audible(self, at_ms: float) -> bool:
        """The reply is heard at ``at_ms`` (a paused one is not)."""
        with self._lock:
            return self._paused_at is None and (self._unsaid > 0 or at_ms < self._until_ms)

    def saying(self, at_ms: float) -> str:
        """The words of the replies being made or heard at ``at_ms`` ("" when silent)."""
        with self._lock:
            return " ".join(self._texts) if self.busy(at_ms) else ""

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    @property
    def paused_at(self) -> float | None:
        """Where the reply went silent (None: it is not paused)."""
        return self._paused_at

    @property
    def until_ms(self) -> float:
        """Where the audio made so far ends (-1: nothing made)."""
        return self._until_ms

    # --- saying ----------------------------------------------------------------------

    def say(self, text: str, at_ms: float, stages: StageClock | None = None) -> None:
        """Queue a reply (or one streamed sentence of it) to be said after what is queued;
        ``stages``: the turn it answers, where the time to make it is recorded as Stage.TTS
        (an announcement between turns has none)."""
        if self.tts is None or not text.strip():
            return
        with self._lock:
            if not self.busy(self._now_ms()):
                self._texts = []
            self._texts.append(text)
            self._unsaid += 1
            job = _Reply(text, at_ms, self._generation, stages)
        if not self._threaded:
            self._say(job)
            return
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="reply", daemon=True)
            self._worker.start()
        self._jobs.put(job)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                self._say(job)
            finally:
                self._jobs.task_done()
        self._jobs.task_done()

    def _say(self, job: _Reply) -> None:
        assert self.tts is not None
        rate = self.tts.sample_rate
        t0 = self._clock()
        started = False
        error: str | None = None
        try:
            for piece in spoken_pieces(job.text):
                for samples in self.tts.synthesize(piece):
                    with self._lock:
                        if job.generation != self._generation:
                            return  # stopped while it was being made
                        if not started:
                            started = True
                            self._send(TtsStarted(t_audio_ms=job.at_ms, t_wall_ms=self._wall_ms(),
                                                  text=job.text,
                                                  tts_ms=round((self._clock() - t0) * 1000.0, 1)))
                        self.sink.play(samples, rate)
                        # held in the sink while paused: it plays on from the pause
                        now = self._now_ms() if self._paused_at is None else self._paused_at
                        start = max(job.at_ms, now, self._until_ms)
                        self._until_ms = start + len(samples) * 1000.0 / rate
        except HearthError as exc:
            error = exc.code
            self._fail(exc, job.at_ms)
        finally:
            with self._lock:
                self._unsaid -= 1
                if started:
                    self.sink.finish()
            if job.stages is not None:  # made elsewhere, on this thread: recorded after the fact
                job.stages.record(Stage.TTS, (self._clock() - t0) * 1000.0, error=error)

    # --- barge-in --------------------------------------------------------------------

    def pause(self, at_ms: float, reason: str) -> None:
        """Silence the reply now, keeping the rest to :meth:`resume` (the wake word may
        have been said; its check is still running)."""
        with self._lock:
            sink = self.sink
            if not isinstance(sink, PausableSink) or self._paused_at is not None \
                    or not self.audible(at_ms):
                return  # a sink that cannot pause (a satellite's) plays on until the stop
            sink.pause()
            self._paused_at = at_ms
        self._send(TtsPaused(t_audio_ms=at_ms, t_wall_ms=self._wall_ms(), reason=reason))

    def resume(self, at_ms: float, reason: str) -> None:
        with self._lock:
            if self._paused_at is None:
                return
            if isinstance(self.sink, PausableSink):
                self.sink.resume()
            self._until_ms += max(0.0, at_ms - self._paused_at)
            self._paused_at = None
        self._send(TtsResumed(t_audio_ms=at_ms, t_wall_ms=self._wall_ms(), reason=reason))

    def stop(self, at_ms: float, reason: str) -> None:
        """Cut the reply short: what plays, what is queued and what is still being made."""
        with self._lock:
            self._generation += 1
            while True:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is not None:
                    self._unsaid -= 1
                self._jobs.task_done()
            if isinstance(self.sink, StoppableSink):
                self.sink.stop()
            self._until_ms = -1.0
            self._paused_at = None
        self._send(TtsStopped(t_audio_ms=at_ms, t_wall_ms=self._wall_ms(), reason=reason))

    def reset(self) -> None:
        """A new input stream: its audio clock restarts at 0."""
        with self._lock:
            self._until_ms = -1.0
            self._paused_at = None

    def drain(self) -> None:
        """Wait until every queued reply is made and heard (before the input's end returns),
        then let the worker thread go. A reply paused for a check that never ended plays on."""
        self.resume(self._now_ms(), "end_of_input")
        if self._worker is not None:
            self._jobs.put(None)
            self._jobs.join()
            self._worker.join()
            self._worker = None
        if isinstance(self.sink, DrainingSink):
            self.sink.drain()
