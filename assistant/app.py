"""The composition root: build the stages the settings describe, and nothing else."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, Self, TypeVar, get_args

from assistant.audio.chunk import AudioChunk
from assistant.audio.sinks import AudioSink
from assistant.config import PrivacyMode, Settings, wake_model
from assistant.errors import ConfigError
from assistant.events import EventSink, discard
from assistant.home import open_home
from assistant.loop import VoiceLoop
from assistant.pipeline import Pipeline, TurnResult
from assistant.skills.registry import SkillRegistry
from assistant.understand.cloud_fallback import CloudFallback
from assistant.understand.context import ConversationMemory
from assistant.understand.local_llm import LocalLlmFallback
from assistant.understand.router import Fallback, Understander
from assistant.wake.base import WakeDetector

T = TypeVar("T")


class TextAssistant:
    """Home + understanding + action: everything a text turn needs (no audio models)."""

    def __init__(self, settings: Settings, *, emit: EventSink = discard, explain: bool = False) -> None:
        self.settings = settings
        self.home = open_home(settings)
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
            device_area = self.home.area(settings.device_area).id
        except BaseException:
            if getattr(self, "skills", None) is not None:
                self.skills.close()
            self.home.close()
            raise
        self.pipeline = Pipeline(self.home, self.understander, device_area=device_area,
                                 emit=self.skills.observe(emit))

    def ask(self, text: str, *, area: str | None = None, dry_run: bool = False) -> TurnResult:
        return self.pipeline.handle_text(text, area=area, dry_run=dry_run)

    def set_privacy_mode(self, mode: str) -> None:
        """Switch the privacy mode for the turns that follow, on every path that can send
        text off the device: the cloud fallback and the skills' cloud checks."""
        if mode not in get_args(PrivacyMode):
            raise ConfigError(f"unknown privacy mode {mode!r} (local_only, ask or allow)")
        privacy = self.cloud.privacy.model_copy(update={"mode": mode})
        self.cloud.privacy = privacy
        self.skills.privacy = privacy

    def close(self) -> None:
        cloud = getattr(self, "cloud", None)
        if cloud is not None:
            cloud.close()
        local_llm = getattr(self, "local_llm", None)
        if local_llm is not None:
            local_llm.close()
        understander = getattr(self, "understander", None)
        if understander is not None:
            understander.memory.close()
        skills = getattr(self, "skills", None)
        if skills is not None:
            skills.close()
        self.home.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def timed(what: str, load: Callable[..., T], progress: bool, *args: Any) -> T:
    """Load something slow, then say on stderr how long it took (models take seconds)."""
    t0 = time.monotonic()
    result = load(*args)
    if progress:
        sys.stderr.write(f"loaded {what} in {time.monotonic() - t0:.1f} s\n")
        sys.stderr.flush()
    return result


class VoiceAssistant(TextAssistant):
    """The whole loop: wake word, VAD, Whisper, understanding, Piper."""

    def __init__(
        self,
        settings: Settings,
        *,
        emit: EventSink = discard,
        wake_words: list[str] | None = None,
        use_wake: bool = True,
        speak: bool = True,
        sink: AudioSink | None = None,
        progress: bool = False,
    ) -> None:
        from assistant.models import quiet_openmp
        from assistant.stt.whisper import WhisperStt

        quiet_openmp()  # before CTranslate2's OpenMP loads (a library user has no CLI to do it)
        # Import the model runtimes here, once: two loader threads importing one package
        # at the same time see it half-initialised.
        import faster_whisper  # noqa: F401
        import openwakeword.model
        import openwakeword.vad  # noqa: F401

        from assistant.tts.piper import PiperTts
        from assistant.vad.silero import FRAME_MS, SileroVad
        from assistant.wake.factory import build_wake_detector

        names = wake_words or [settings.wake.default]
        for name in names if use_wake else []:
            wake_model(settings, name)  # an unknown wake word fails now, before anything loads

        def load_wake(stt: Future[WhisperStt]) -> WakeDetector | None:
            if not use_wake:
                return None
            # the second stage shares the loop's Whisper instead of loading its own
            return build_wake_detector(settings, names, whisper=stt.result().model)

        def load_stt(prompt: str | None, retry_prompt: str | None) -> WhisperStt:
            # the retry's n-best list is read against the sentences in play (templates, skills)
            stt = WhisperStt(settings.stt, prompt=prompt, retry_prompt=retry_prompt,
                             accepts=lambda text: self.understander.is_complete_command(text, area=None))
            stt.warm_up()
            return stt

        def load_tts() -> PiperTts | None:
            if not speak:
                return None
            tts = PiperTts(settings.tts)
            tts.speak_all("Ready.")  # the first synthesis is slow; not on the first reply
            return tts

        # The models load in parallel (their runtimes release the GIL): cold start is
        # bounded by the slowest, not the sum.
        with ThreadPoolExecutor(max_workers=3, thread_name_prefix="load") as pool:
            tts_f = pool.submit(timed, "text-to-speech (Piper)", load_tts, progress)
            timed("home and sentence templates", lambda: super(VoiceAssistant, self).__init__(
                settings, emit=emit), progress)
            try:
                stt_f = pool.submit(timed, "speech-to-text (faster-whisper)", load_stt, progress,
                                    *self._stt_prompts())
                wake_f = pool.submit(timed, f"wake word ({', '.join(names)})", load_wake, progress,
                                     stt_f)
                self.vad = timed("voice activity detector", SileroVad, progress)
                self.wake: WakeDetector | None = wake_f.result()
                self.stt = stt_f.result()
                self.tts: PiperTts | None = tts_f.result()
            except BaseException:
                self.close()
                raise
        self.loop = VoiceLoop(
            settings, pipeline=self.pipeline, stt=self.stt, vad=self.vad, frame_ms=FRAME_MS,
            wake=self.wake, tts=self.tts, sink=sink, emit=emit,
            announcements=self.skills.announcements,
            retry_stt=self.stt.transcribe_retry if self.stt.can_retry else None)
        self.cloud.add_listener(self.loop.speak_streamed)  # first cloud sentence spoken at once
        self.understander.names_listeners.append(
            lambda: self.stt.set_prompts(*self._stt_prompts()))

    def _stt_prompts(self) -> tuple[str | None, str | None]:
        """Whisper's prompts: the home's names, then (for a retry) the skills' words too."""
        from assistant.stt.whisper import bias_prompt

        if not self.settings.stt.bias_to_home:
            return None, None
        words = [n for e in self.home.entities() for n in e.names] + [
            a.name for a in self.home.areas()]
        skill_words = self.skills.stt_words()
        return bias_prompt(words), (bias_prompt(words + skill_words) if skill_words else None)

    def listen(self, chunks: Iterable[AudioChunk], *, wake_required: bool = True) -> list[TurnResult]:
        return self.loop.run(chunks, wake_required=wake_required and self.wake is not None)
