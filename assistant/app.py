"""The composition root: build the stages the settings describe, and nothing else."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from types import TracebackType

from assistant.audio.chunk import AudioChunk
from assistant.audio.sinks import AudioSink
from assistant.config import Settings
from assistant.events import EventSink, discard
from assistant.home import open_home
from assistant.pipeline import Pipeline, TurnResult
from assistant.loop import VoiceLoop
from assistant.understand.cloud_fallback import CloudFallback
from assistant.understand.router import Fallback, Understander
from assistant.wake.base import WakeDetector


class TextAssistant:
    """Home + understanding + action: everything a text turn needs (no audio models)."""

    def __init__(self, settings: Settings, *, emit: EventSink = discard, explain: bool = False) -> None:
        self.settings = settings
        self.home = open_home(settings)
        try:
            fallbacks: list[Fallback] = []  # the local LLM first, then the cloud
            self.cloud = CloudFallback(settings, self.home, explain=explain)
            fallbacks.append(self.cloud)
            self.understander = Understander(self.home, fallbacks=fallbacks)
            self.cloud.attach(self.understander.conversation)
            device_area = self.home.area(settings.device_area).id
        except BaseException:
            self.home.close()
            raise
        self.pipeline = Pipeline(self.home, self.understander, device_area=device_area, emit=emit)

    def ask(self, text: str, *, area: str | None = None, dry_run: bool = False) -> TurnResult:
        return self.pipeline.handle_text(text, area=area, dry_run=dry_run)

    def close(self) -> None:
        cloud = getattr(self, "cloud", None)
        if cloud is not None:
            cloud.close()
        self.home.close()

    def __enter__(self) -> TextAssistant:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def load_step(what: str, progress: bool) -> Callable[[], None]:
    """Show model loading on stderr (it takes seconds), then how long it took."""
    t0 = time.monotonic()
    if progress:
        sys.stderr.write(f"loading {what} ... ")
        sys.stderr.flush()

    def done() -> None:
        if progress:
            sys.stderr.write(f"{time.monotonic() - t0:.1f} s\n")

    return done


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
        from assistant.stt.whisper import WhisperStt, bias_prompt
        from assistant.tts.piper import PiperTts
        from assistant.vad.silero import FRAME_MS, SileroVad
        from assistant.wake.openwakeword import OpenWakeWord

        done = load_step("home and sentence templates", progress)
        super().__init__(settings, emit=emit)
        done()
        try:
            self.wake: WakeDetector | None = None
            if use_wake:
                names = wake_words or [settings.wake.default]
                done = load_step(f"wake word ({', '.join(names)})", progress)
                self.wake = OpenWakeWord([settings.wake_model(n) for n in names],
                                         refractory_s=settings.wake.refractory_s)
                done()
            done = load_step("voice activity detector", progress)
            self.vad = SileroVad()
            done()
            done = load_step("speech-to-text (faster-whisper)", progress)
            names = [n for e in self.home.entities() for n in e.names] + [
                a.name for a in self.home.areas()]
            self.stt = WhisperStt(settings.stt, prompt=bias_prompt(names) if settings.stt.bias_to_home
                                  else None)
            self.stt.warm_up()
            done()
            self.tts: PiperTts | None = None
            if speak:
                done = load_step("text-to-speech (Piper)", progress)
                self.tts = PiperTts(settings.tts)
                self.tts.speak_all("Ready.")
                done()
        except BaseException:
            self.close()
            raise
        self.loop = VoiceLoop(settings, pipeline=self.pipeline, stt=self.stt, vad=self.vad,
                              frame_ms=FRAME_MS, wake=self.wake, tts=self.tts, sink=sink, emit=emit)

    def listen(self, chunks: Iterable[AudioChunk], *, wake_required: bool = True) -> list[TurnResult]:
        return self.loop.run(chunks, wake_required=wake_required and self.wake is not None)
