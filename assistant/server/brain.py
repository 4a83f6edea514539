"""The models and the home, loaded once and shared by every source (satellites, the
microphone, the HTTP API, Wyoming services).

Each source gets its own wake detector, VAD and endpointer (they carry stream state);
speech-to-text and TTS are shared behind locks (on 2 cores, one transcription at a
time with both threads is faster than two fighting), and understanding + acting is
serialized per turn. Each source keeps its own conversation memory, so a "yes" in the
kitchen never answers a question asked in the bedroom.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from assistant.audio.chunk import Samples
from assistant.config import Settings
from assistant.events import EventSink
from assistant.home.base import HomeBackend
from assistant.loop import Speaker, Transcriber
from assistant.pipeline import Pipeline, TurnResult
from assistant.understand.router import Understander
from assistant.wake.base import WakeDetector

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


def _memory(conversation: Any) -> dict[str, Any]:
    return {f.name: getattr(conversation, f.name) for f in dataclasses.fields(conversation)}


def _restore(conversation: Any, memory: dict[str, Any]) -> None:
    for name, value in memory.items():
        setattr(conversation, name, value)


class SentenceRouter:
    """The cloud path streams reply sentences to listeners; there is one cloud path and
    many rooms, so its one listener is this router, pointed (under the turn lock) at the
    source whose turn it is."""

    def __init__(self) -> None:
        self._target: Callable[[str], None] | None = None

    @contextlib.contextmanager
    def routed_to(self, target: Callable[[str], None] | None) -> Iterator[None]:
        saved, self._target = self._target, target
        try:
            yield
        finally:
            self._target = saved

    def __call__(self, sentence: str) -> None:
        target = self._target
        if target is not None:
            target(sentence)


class SharedPipeline(Pipeline):
    """A :class:`Pipeline` for one source over the shared home and understander.

    The understander's conversation object stays the same object (fallbacks may hold
    it); its *fields* are swapped in and out, under the turn lock, for this source's;
    the persistent conversation memory is keyed by ``memory_key`` for the turn.
    After each turn the privacy path's trace is taken (so it never leaks into another
    source's turn): it becomes :attr:`last_privacy`.
    """

    def __init__(self, home: HomeBackend, understander: Understander, lock: threading.RLock, *,
                 area: str | None, emit: EventSink, memory_key: str = "default",
                 privacy_report: Callable[[], dict[str, Any]] | None = None,
                 sentences: SentenceRouter | None = None) -> None:
        super().__init__(home, understander, device_area=area, emit=emit)
        self._lock = lock
        self.memory_key = memory_key
        self._sentences = sentences
        self.on_sentence: Callable[[str], None] | None = None
        """Where this source says a streamed cloud sentence (its loop's ``speak_streamed``)."""
        self._privacy_report = privacy_report
        self.last_privacy: dict[str, Any] | None = None
        conv = understander.conversation
        self._own: dict[str, Any] | None = (
            _memory(type(conv)()) if dataclasses.is_dataclass(conv) else None)

    def handle_text(self, text: str, **kwargs: Any) -> TurnResult:
        with self._lock, self._memory_key():
            conv = self.understander.conversation
            if self._own is None:
                return self._turn(text, kwargs)
            shared = _memory(conv)
            _restore(conv, self._own)
            try:
                return self._turn(text, kwargs)
            finally:
                self._own = _memory(conv)
                _restore(conv, shared)

    @contextlib.contextmanager
    def _memory_key(self) -> Iterator[None]:
        memory = getattr(self.understander, "memory", None)
        if memory is None or not hasattr(memory, "key"):
            yield
            return
        saved, memory.key = memory.key, self.memory_key
        try:
            yield
        finally:
            memory.key = saved

    def _turn(self, text: str, kwargs: dict[str, Any]) -> TurnResult:
        if self._sentences is None:
            result = super().handle_text(text, **kwargs)
        else:
            with self._sentences.routed_to(self.on_sentence):
                result = super().handle_text(text, **kwargs)
        self.last_privacy = self._privacy_report() if self._privacy_report else None
        return result


class Brain:
    """Load everything once (a missing model fails here, at start, with one line)."""

    def __init__(self, settings: Settings) -> None:
        from assistant.app import VoiceAssistant

        t0 = time.monotonic()
        self.settings = settings
        self.voice = VoiceAssistant(settings, use_wake=False, speak=True)
        try:
            self.home = self.voice.home
            self.understander = self.voice.understander
            self.device_area: str = self.home.area(settings.device_area).id
            self.turn_lock = threading.RLock()
            assert self.voice.tts is not None
            self.stt = LockedTranscriber(self.voice.stt, threading.Lock())
            self.tts = LockedSpeaker(self.voice.tts, threading.Lock())
            self.new_wake([settings.wake.default])  # prove the wake model loads, now
            self.llm_load_s = self._warm_local_llm()
            self.sentences = SentenceRouter()
            cloud = getattr(self.voice, "cloud", None)
            if cloud is not None and hasattr(cloud, "add_listener"):
                cloud.add_listener(self.sentences)
        except BaseException:
            self.voice.close()
            raise
        self.load_s = time.monotonic() - t0

    def _warm_local_llm(self) -> float | None:
        """Load the local LLM now. ``hearth ask`` loads it lazily, on the first request the
        templates miss; in a daemon that first miss would hold every room's turn for the
        ~8 s the load takes (measured with bench_satellites). A load failure is left to
        the fallback itself, as before: the server still starts."""
        from assistant.understand.ranking import LazyRanker

        ranker = getattr(getattr(self.voice, "local_llm", None), "ranker", None)
        if not isinstance(ranker, LazyRanker):
            return None
        t0 = time.monotonic()
        try:
            ranker.ranker  # noqa: B018 - building it is the point
        except Exception as exc:  # the fallback reports its own failure per turn
            log.warning("the local LLM did not load at start: %s", str(exc)[:200])
            return None
        return round(time.monotonic() - t0, 2)

    def new_wake(self, names: list[str]) -> WakeDetector:
        """A fresh detector (it keeps stream state) for one source: openWakeWord, with the
        Whisper second stage when configured, sharing the loaded Whisper model."""
        from assistant.wake.factory import build_wake_detector

        return build_wake_detector(self.settings, names, whisper=self.voice.stt.model)

    @property
    def retry_stt(self) -> Callable[[Samples], str] | None:
        """For the loops: the second, more biased transcription, when the model has one."""
        return self.stt.transcribe_retry if self.stt.can_retry else None

    def new_vad(self) -> Any:
        from assistant.vad.silero import SileroVad

        return SileroVad()

    @property
    def frame_ms(self) -> float:
        from assistant.vad.silero import FRAME_MS

        return FRAME_MS

    def pipeline_for(self, area: str | None, emit: EventSink, *,
                     memory_key: str = "default") -> SharedPipeline:
        """A pipeline for one source. ``memory_key``: its conversation ("default" is the
        device's own, shared with ``hearth ask``; each satellite has its own)."""
        skills = getattr(self.voice, "skills", None)
        if skills is not None:  # as the assistant does: "system status" sees every turn
            emit = skills.observe(emit)
        return SharedPipeline(self.home, self.understander, self.turn_lock,
                              area=area or self.device_area, emit=emit,
                              memory_key=memory_key, privacy_report=self._privacy_report,
                              sentences=self.sentences)

    def _privacy_report(self) -> dict[str, Any]:
        """The ``privacy`` object ``hearth ask --json`` prints, for the turn just handled."""
        from assistant.privacy.cli import turn_report

        return turn_report(self.voice.cloud, self._settings_now(), explain=False)[0]

    def _settings_now(self) -> Settings:
        cloud = getattr(self.voice, "cloud", None)
        privacy = getattr(cloud, "privacy", None)
        if privacy is None:
            return self.settings
        return self.settings.model_copy(update={"privacy": privacy})

    @property
    def privacy_mode_applies(self) -> bool:
        """Whether switching the mode reaches the cloud path (it holds ``privacy``)."""
        return getattr(getattr(self.voice, "cloud", None), "privacy", None) is not None

    def set_privacy_mode(self, mode: str) -> None:
        """Switch the cloud path's privacy mode for the turns that follow (under the turn
        lock, so no turn sees half a change)."""
        cloud = getattr(self.voice, "cloud", None)
        if cloud is None or getattr(cloud, "privacy", None) is None:
            log.warning("the cloud path has no live privacy mode; mode kept by the server only")
            return
        with self.turn_lock:
            cloud.privacy = cloud.privacy.model_copy(update={"mode": mode})

    def close(self) -> None:
        self.voice.close()
