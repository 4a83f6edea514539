"""The models and the home, loaded once (by one :class:`~assistant.runtime.Runtime`) and
shared by every source (satellites, the microphone, the HTTP API, Wyoming services).

Each source gets its own wake detector, VAD and endpointer (they carry stream state);
speech-to-text and TTS are shared behind locks (on 2 cores, one transcription at a
time with both threads is faster than two fighting), so is the local LLM (inside
``LocalLlm``; ``llm.parallel`` gives it more contexts). Understanding + acting is
serialised per room, not for the house: each source has its own conversation (a lock,
follow-up context, memory), so rooms speak side by side and a "yes" in the kitchen never
answers a question asked in the bedroom.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from assistant.audio.chunk import Samples
from assistant.config import Settings
from assistant.events import EventSink
from assistant.home.base import HomeBackend
from assistant.loop import Transcriber, VadFrames, VoiceLoop
from assistant.pipeline import Pipeline, Turn
from assistant.runtime import Hearing, Runtime
from assistant.tts.playback import Speaker
from assistant.understand.router import Understander
from assistant.wake.base import WakeDetector

if TYPE_CHECKING:
    from assistant.audio.sinks import AudioSink
    from assistant.vad.silero import SileroVad

log = logging.getLogger(__name__)


class LockedTranscriber:
    """One transcription at a time on the shared Whisper model.

    ``on_call(wait_s, run_s)`` (set by the server) sees how long each call queued for the
    model and how long it ran: the numbers that decide how many satellites fit."""

    def __init__(self, inner: Transcriber, lock: threading.Lock) -> None:
        self._inner = inner
        self._lock = lock
        self.on_call: Callable[[float, float], None] = lambda _w, _r: None

    def transcribe(self, samples: Samples) -> str:
        return self._locked(self._inner.transcribe, samples)

    @property
    def can_retry(self) -> bool:
        return bool(getattr(self._inner, "can_retry", False))

    def transcribe_retry(self, samples: Samples) -> str:
        """The second, more biased transcription (for audio whose first matched nothing)."""
        inner: Any = self._inner
        return self._locked(inner.transcribe_retry, samples)

    @property
    def can_look_wide(self) -> bool:
        return hasattr(self._inner, "transcribe_wide")

    def transcribe_wide(self, samples: Samples) -> str:
        """On Whisper's full window (a second look at the words before a pause)."""
        inner: Any = self._inner
        return self._locked(inner.transcribe_wide, samples)

    def _locked(self, call: Callable[[Samples], str], samples: Samples) -> str:
        t0 = time.monotonic()
        with self._lock:
            t1 = time.monotonic()
            try:
                return call(samples)
            finally:
                self.on_call(t1 - t0, time.monotonic() - t1)


class LockedSpeaker:
    """The shared Piper voice, locked per sentence so replies in two rooms interleave."""

    def __init__(self, inner: Speaker, lock: threading.Lock) -> None:
        self._inner = inner
        self._lock = lock
        self.sample_rate = inner.sample_rate

    def synthesize(self, text: str) -> Iterator[Samples]:
        parts = iter(self._inner.synthesize(text))
        while True:
            with self._lock:
                part = next(parts, None)
            if part is None:
                return
            yield part


class SharedPipeline(Pipeline):
    """A :class:`Pipeline` for one source over the shared home and understander, in its
    own room (``memory_key``): its turns wait for its room's lock, never another room's."""

    def __init__(self, home: HomeBackend, understander: Understander, lock: threading.RLock, *,
                 area: str | None, emit: EventSink, memory_key: str = "default") -> None:
        super().__init__(home, understander, device_area=area, emit=emit, room=memory_key)
        self.lock = lock
        """This room's turn lock (sources that share a room share it)."""
        self.memory_key = memory_key

    def run(self, turn: Turn, **kwargs: Any) -> Turn:
        with self.lock:
            return super().run(turn, **kwargs)


class Rooms:
    """One pipeline per source over a shared home and understander, one lock per room:
    a room's turns follow each other, rooms run side by side (the models that need it
    sit behind their own locks). Needs no audio model, so tests build it from a text-only
    :class:`~assistant.runtime.Runtime`."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.device_area = runtime.device_area
        self._locks: dict[str, threading.RLock] = {}
        self._locks_lock = threading.Lock()

    def lock(self, room: str) -> threading.RLock:
        with self._locks_lock:
            lock = self._locks.get(room)
            if lock is None:
                lock = self._locks[room] = threading.RLock()
            return lock

    def pipeline_for(self, area: str | None, emit: EventSink, *,
                     memory_key: str = "default") -> SharedPipeline:
        """A pipeline for one source. ``memory_key``: its room's conversation ("default" is
        the device's own, shared with ``hearth ask``; each satellite has its own)."""
        a = self.runtime
        return SharedPipeline(a.home, a.understander, self.lock(memory_key),
                              area=area or self.device_area,
                              emit=a.skills.observe(emit),  # "system status" sees every turn
                              memory_key=memory_key)


class Brain:
    """The server's view of one :class:`Runtime` (loaded at start: a missing model fails
    here, with one line): the shared models behind their locks, and a pipeline per room."""

    def __init__(self, settings: Settings) -> None:
        t0 = time.monotonic()
        self.settings = settings
        self.runtime = Runtime(settings, hearing=Hearing(use_wake=False, speak=True))
        try:
            self.home = self.runtime.home
            self.understander = self.runtime.understander
            self.rooms = Rooms(self.runtime)
            self.device_area = self.rooms.device_area
            assert self.runtime.tts is not None
            self.stt = LockedTranscriber(self.runtime.stt, threading.Lock())
            self.tts = LockedSpeaker(self.runtime.tts, threading.Lock())
            self.new_wake([settings.wake.default])  # prove the wake model loads, now
            # ``hearth ask`` loads the local LLM on the first request the templates miss;
            # in a daemon that first miss would hold its room's turn for the ~8 s the load
            # takes (measured with bench_satellites), so it loads now.
            self.llm_load_s = self.runtime.load_local_llm()
        except BaseException:
            self.runtime.close()
            raise
        self.load_s = time.monotonic() - t0

    def new_wake(self, names: list[str]) -> WakeDetector:
        """A fresh detector (it keeps stream state) for one source: openWakeWord, with the
        Whisper second stage when configured, sharing the loaded Whisper model."""
        return self.runtime.new_wake(names)

    @property
    def retry_stt(self) -> Callable[[Samples], str] | None:
        """For the loops: the second, more biased transcription, when the model has one."""
        return self.stt.transcribe_retry if self.stt.can_retry else None

    @property
    def wide_stt(self) -> Callable[[Samples], str] | None:
        """For the loops: the second look at the words before a pause, when the model has one."""
        return self.stt.transcribe_wide if self.stt.can_look_wide else None

    def new_vad(self) -> SileroVad:
        from assistant.vad.silero import SileroVad

        return SileroVad()

    @property
    def frame_ms(self) -> float:
        from assistant.vad.silero import FRAME_MS

        return FRAME_MS

    def new_loop(self, pipeline: SharedPipeline, *, vad: VadFrames, wake: WakeDetector | None,
                 speaks: bool, sink: AudioSink, emit: EventSink, area: str | None) -> VoiceLoop:
        """The voice loop of one source (the microphone, a satellite): its own VAD and wake
        detector, the shared models behind their locks, its room's pipeline (the loop says
        the cloud's streamed sentences, its turn's ``reply_sentence`` events)."""
        loop = VoiceLoop(self.settings, pipeline=pipeline, stt=self.stt, retry_stt=self.retry_stt,
                         wide_stt=self.wide_stt, vad=vad, frame_ms=self.frame_ms, wake=wake,
                         tts=self.tts if speaks else None, sink=sink, emit=emit, area=area)
        return loop

    def pipeline_for(self, area: str | None, emit: EventSink, *,
                     memory_key: str = "default") -> SharedPipeline:
        """A pipeline for one source, in its room (see :class:`Rooms`)."""
        return self.rooms.pipeline_for(area, emit, memory_key=memory_key)

    def privacy_report(self, turn: Turn) -> dict[str, Any]:
        """The ``privacy`` object ``hearth ask --json`` prints, for a turn just handled."""
        from assistant.privacy.cli import turn_report

        return turn_report(turn.privacy, self.runtime.settings_now(), explain=False)[0]

    @property
    def privacy_mode_applies(self) -> bool:
        """Whether switching the mode reaches the cloud path (the runtime always has one)."""
        return True

    def set_privacy_mode(self, mode: str) -> None:
        """Switch the privacy mode for the turns that follow, on every path that can leave
        the house (the cloud fallback and the skills)."""
        self.runtime.set_privacy_mode(mode)

    def close(self) -> None:
        self.runtime.close()
