"""The composition root: one :class:`Runtime` builds Hearth from the frozen settings, once.

The home backend, the skills, the privacy policy with its audit (inside the cloud
fallback), the conversation memory, the understander (templates, the local LLM, the
cloud) and the pipeline — and, when asked to hear, the audio models (Whisper, the VAD,
the wake word, Piper) and the voice loop. ``hearth ask`` and ``hearth listen``, the
server's :class:`~assistant.server.brain.Brain` and the tests all build this one object.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar, get_args

from assistant.config import PrivacyMode, Settings, wake_model
from assistant.errors import ConfigError, HearthError
from assistant.events import EventSink, discard
from assistant.home import open_home
from assistant.home.base import HomeBackend
from assistant.pipeline import Pipeline, Turn
from assistant.settings.privacy import PrivacySettings
from assistant.skills.registry import SkillRegistry
from assistant.understand.cloud_fallback import CloudFallback
from assistant.understand.context import ConversationMemory
from assistant.understand.local_llm import LocalLlmFallback
from assistant.understand.router import Fallback, Understander

if TYPE_CHECKING:
    from assistant.audio.chunk import AudioChunk
    from assistant.audio.sinks import AudioSink
    from assistant.loop import VoiceLoop
    from assistant.stt.whisper import WhisperStt
    from assistant.tts.piper import PiperTts
    from assistant.vad.silero import SileroVad
    from assistant.wake.base import WakeDetector

T = TypeVar("T")


@dataclass(frozen=True)
class Hearing:
    """The audio half a :class:`Runtime` loads beside the text half."""

    wake_words: tuple[str, ...] = ()
    """The wake models to listen for; none: the config's ``wake.default``."""
    use_wake: bool = True
    """False: every input is speech that follows a wake word (no wake model is loaded)."""
    speak: bool = True
    """Load Piper and say the replies."""
    progress: bool = False
    """Say on stderr how long each model took to load."""


@dataclass(frozen=True)
class AudioModels:
    """The loaded audio models (Whisper, the VAD and the wake detector keep stream state
    per loop; a server gives each source its own VAD and wake detector)."""

    stt: WhisperStt
    vad: SileroVad
    wake: WakeDetector | None
    tts: PiperTts | None


def timed(what: str, load: Callable[..., T], progress: bool, *args: Any) -> T:
    """Load something slow, then say on stderr how long it took (models take seconds)."""
    t0 = time.monotonic()
    result = load(*args)
    if progress:
        sys.stderr.write(f"loaded {what} in {time.monotonic() - t0:.1f} s\n")
        sys.stderr.flush()
    return result


class Runtime:
    """Everything a turn needs, built from ``settings``; with ``hearing``, the voice loop too."""

    def __init__(self, settings: Settings, *, emit: EventSink = discard, explain: bool = False,
                 hearing: Hearing | None = None, sink: AudioSink | None = None) -> None:
        self.settings = settings
        self.audio: AudioModels | None = None
        self._loop: VoiceLoop | None = None
        if hearing is None:
            self._build_text(emit, explain)
            return
        self._build_with_hearing(hearing, emit, explain, sink)

    # --- the text half: home, skills, understanding, pipeline ----------------------

    def _build_text(self, emit: EventSink, explain: bool) -> None:
        settings = self.settings
        self.home: HomeBackend = open_home(settings)
        try:
            self.skills = SkillRegistry(settings, self.home, emit=emit)
            fallbacks: list[Fallback] = []  # the local LLM first, then the cloud
            self.cloud = CloudFallback(settings, self.home, explain=explain)
            fallbacks.append(self.cloud)
            memory = ConversationMemory(settings.data_dir / "conversation.sqlite",
                                        follow_up_s=settings.conversation.follow_up_s,
                                        confirm_s=settings.conversation.confirm_s)
            self.understander = Understander(self.home, fallbacks=fallbacks, skills=self.skills,
                                             memory=memory)
            self.cloud.attach(self.understander.conversation)
            self.local_llm: LocalLlmFallback | None = None
            if settings.llm.enabled:  # loaded on the first request the templates miss
                self.local_llm = LocalLlmFallback.from_settings(
                    settings, self.home, templates=self.understander.templates, lazy=True)
                self.understander.fallbacks.insert(0, self.local_llm)
            self.device_area: str = self.home.area(settings.device_area).id
        except BaseException:
            self.close()
            raise
        self.pipeline = Pipeline(self.home, self.understander, device_area=self.device_area,
                                 emit=self.skills.observe(emit))

    def ask(self, text: str, *, area: str | None = None, dry_run: bool = False) -> Turn:
        return self.pipeline.handle_text(text, area=area, dry_run=dry_run)

    @property
    def privacy(self) -> PrivacySettings:
        """The privacy policy as it is now (:meth:`set_privacy_mode` switches its mode)."""
        return self.cloud.privacy

    def settings_now(self) -> Settings:
        """The settings with the privacy policy as it is now."""
        return self.settings.model_copy(update={"privacy": self.privacy})

    def set_privacy_mode(self, mode: str) -> None:
        """Switch the privacy mode for the turns that follow, on every path that can send
        text off the device: the cloud fallback and the skills' cloud checks. Each holds one
        frozen value, so a turn sees the old mode or the new, never half a change."""
        if mode not in get_args(PrivacyMode):
            raise ConfigError(f"unknown privacy mode {mode!r} (local_only, ask or allow)")
        privacy = self.cloud.privacy.model_copy(update={"mode": mode})
        self.cloud.privacy = privacy
        self.skills.privacy = privacy

    def load_local_llm(self) -> float | None:
        """Load the lazy local LLM now; seconds it took, or None (off, or it failed: the
        ranker reports a failure once and tries again later)."""
        from assistant.understand.ranking import LazyRanker

        ranker = getattr(self.local_llm, "ranker", None)
        if not isinstance(ranker, LazyRanker):
            return None
        t0 = time.monotonic()
        try:
            ranker.ranker  # noqa: B018 - building it is the point
        except HearthError:
            return None
        return round(time.monotonic() - t0, 2)

    # --- the audio half: models and the voice loop ---------------------------------

    def _build_with_hearing(self, hearing: Hearing, emit: EventSink, explain: bool,
                            sink: AudioSink | None) -> None:
        from assistant.models import quiet_openmp
        from assistant.stt.grammar import PhraseGraph
        from assistant.stt.whisper import WhisperStt

        quiet_openmp()  # before CTranslate2's OpenMP loads (a library user has no CLI to do it)
        # Import the model runtimes here, once: two loader threads importing one package
        # at the same time see it half-initialised.
        import faster_whisper  # noqa: F401
        import openwakeword.model
        import openwakeword.vad  # noqa: F401

        from assistant.tts.piper import PiperTts
        from assistant.vad.silero import SileroVad

        settings, progress = self.settings, hearing.progress
        names = list(hearing.wake_words) or [settings.wake.default]
        for name in names if hearing.use_wake else []:
            wake_model(settings, name)  # an unknown wake word fails now, before anything loads

        def load_wake(stt: Future[WhisperStt]) -> WakeDetector | None:
            return self._new_wake(names, stt.result()) if hearing.use_wake else None

        def load_stt(prompt: str | None, retry_prompt: str | None) -> WhisperStt:
            # the retry's n-best list is read against the sentences in play (templates, skills)
            stt = WhisperStt(settings.stt, prompt=prompt, retry_prompt=retry_prompt,
                             accepts=lambda text: self.understander.is_complete_command(text, area=None),
                             phrases=PhraseGraph(self.skills.sentences()))
            stt.warm_up()
            return stt

        def load_tts() -> PiperTts | None:
            if not hearing.speak:
                return None
            tts = PiperTts(settings.tts)
            tts.speak_all("Ready.")  # the first synthesis is slow; not on the first reply
            return tts

        # The models load in parallel (their runtimes release the GIL): cold start is
        # bounded by the slowest, not the sum.
        with ThreadPoolExecutor(max_workers=3, thread_name_prefix="load") as pool:
            tts_f = pool.submit(timed, "text-to-speech (Piper)", load_tts, progress)
            timed("home and sentence templates", self._build_text, progress, emit, explain)
            try:
                stt_f = pool.submit(timed, "speech-to-text (faster-whisper)", load_stt, progress,
                                    *self._stt_prompts())
                wake_f = pool.submit(timed, f"wake word ({', '.join(names)})", load_wake, progress,
                                     stt_f)
                vad = timed("voice activity detector", SileroVad, progress)
                self.audio = AudioModels(stt=stt_f.result(), vad=vad, wake=wake_f.result(),
                                         tts=tts_f.result())
            except BaseException:
                self.close()
                raise
        self._loop = self._build_loop(emit, sink)
        self.understander.names_listeners.append(
            lambda: self.stt.set_prompts(*self._stt_prompts()))

    def _build_loop(self, emit: EventSink, sink: AudioSink | None) -> VoiceLoop:
        from assistant.loop import VoiceLoop
        from assistant.vad.silero import FRAME_MS

        stt = self.stt
        loop = VoiceLoop(self.settings, pipeline=self.pipeline, stt=stt, vad=self.vad,
                         frame_ms=FRAME_MS, wake=self.wake, tts=self.tts, sink=sink, emit=emit,
                         announcements=self.skills.announcements,
                         retry_stt=stt.transcribe_retry if stt.can_retry else None,
                         wide_stt=stt.transcribe_wide)
        return loop

    def _stt_prompts(self) -> tuple[str | None, str | None]:
        """Whisper's prompts: the home's names, then (for a retry) the skills' words too."""
        from assistant.stt.whisper import bias_prompts

        if not self.settings.stt.bias_to_home:
            return None, None
        return bias_prompts(self.home.spoken_names(), self.skills.stt_words())

    def _new_wake(self, names: list[str], stt: WhisperStt) -> WakeDetector:
        from assistant.wake.factory import build_wake_detector

        # the second stage shares the loop's Whisper instead of loading its own
        return build_wake_detector(self.settings, names, whisper=stt.model)

    def new_wake(self, names: list[str]) -> WakeDetector:
        """A fresh wake detector (it keeps stream state), for one more audio source."""
        return self._new_wake(names, self.stt)

    def _models(self) -> AudioModels:
        if self.audio is None:
            raise HearthError("this runtime was built for text only (no audio models)",
                              code="no_audio")
        return self.audio

    @property
    def stt(self) -> WhisperStt:
        return self._models().stt

    @property
    def vad(self) -> SileroVad:
        return self._models().vad

    @property
    def wake(self) -> WakeDetector | None:
        return self._models().wake

    @property
    def tts(self) -> PiperTts | None:
        return self._models().tts

    @property
    def loop(self) -> VoiceLoop:
        if self._loop is None:
            raise HearthError("this runtime was built for text only (no voice loop)", code="no_audio")
        return self._loop

    def listen(self, chunks: Iterable[AudioChunk], *, wake_required: bool = True) -> list[Turn]:
        return self.loop.run(chunks, wake_required=wake_required and self.wake is not None)

    # --- the end -------------------------------------------------------------------

    def close(self) -> None:
        """Close what was built (also after a failure half-way through building)."""
        understander = getattr(self, "understander", None)
        memory = understander.memory if understander is not None else None
        for part in (getattr(self, "cloud", None), getattr(self, "local_llm", None), memory,
                     getattr(self, "skills", None), getattr(self, "home", None)):
            if part is not None:
                part.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
