"""Hearth as a Wyoming voice engine: wake word, speech-to-text, intent handling and TTS,
so Home Assistant (or any Wyoming client) can use Hearth's models and home logic.

One :class:`ServiceRequests` per connection: it keeps the state of the request in
progress (a wake stream, an utterance being transcribed) and uses the shared models.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from wyoming.asr import Transcript
from wyoming.event import Event
from wyoming.handle import Handled, NotHandled
from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    HandleModel,
    HandleProgram,
    Info,
    TtsProgram,
    TtsVoice,
    WakeModel,
    WakeProgram,
)
from wyoming.wake import Detection, NotDetected

from assistant import __version__
from assistant.audio.chunk import Reframer, Samples
from assistant.config import wake_names
from assistant.errors import HearthError
from assistant.events import Event as HearthEvent
from assistant.events import to_dict
from assistant.limits import TURN_AUDIO_S
from assistant.server import wyoming_proto as wp
from assistant.server.brain import SharedPipeline
from assistant.server.context import ServerContext
from assistant.tts.playback import spoken_pieces
from assistant.wake.base import WakeDetector

log = logging.getLogger(__name__)

Send = Callable[[Event], Awaitable[None]]
MAX_UTTERANCE_S = TURN_AUDIO_S

_HEARTH = Attribution(name="Hearth", url="")
_PHRASES = {"hey_jarvis": "hey jarvis", "alexa": "alexa", "hey_mycroft": "hey mycroft",
            "hey_rhasspy": "hey rhasspy", "okay_nabu": "okay nabu"}
_WAKE_ENGINES = {  # [wake] engine -> who made it, where, which version
    "openwakeword": ("openWakeWord (CC BY-NC-SA 4.0 models)", "https://github.com/dscripka/openWakeWord",
                     "0.5.1"),
    "microwakeword": ("microWakeWord (Apache-2.0 models)", "https://github.com/kahrendt/microWakeWord",
                      "2.5.0"),
}


def describe(ctx: ServerContext) -> Event:
    """What Hearth offers over Wyoming (the answer to ``describe``)."""
    s = ctx.settings
    engine, url, version = _WAKE_ENGINES[s.wake.engine]
    wake_models = [WakeModel(name=name, attribution=Attribution(name=engine, url=url),
                             installed=True, description=f"wake word {name}", version=version,
                             languages=["en"], phrase=_PHRASES.get(name)) for name in wake_names(s)]
    info = Info(
        asr=[AsrProgram(name="hearth-stt", attribution=_HEARTH, installed=True,
                        description="faster-whisper, biased to the home's names",
                        version=__version__, models=[AsrModel(
                            name=str(s.stt.model or "whisper-tiny.en"), attribution=Attribution(
                                name="OpenAI Whisper", url="https://github.com/openai/whisper"),
                            installed=True, description="Whisper (CTranslate2, int8)",
                            version=None, languages=[s.stt.language])])],
        wake=[WakeProgram(name="hearth-wake", attribution=_HEARTH, installed=True,
                          description=engine, version=__version__, models=wake_models)],
        handle=[HandleProgram(name="hearth-handle", attribution=_HEARTH, installed=True,
                              description="Hearth: templates, local LLM, cloud as policy permits",
                              version=__version__, models=[HandleModel(
                                  name="hearth", attribution=_HEARTH, installed=True,
                                  description="Hearth's understanding", version=__version__,
                                  languages=["en"])], supports_home_control=True)],
        tts=[TtsProgram(name="hearth-tts", attribution=_HEARTH, installed=True,
                        description="Piper", version=__version__, voices=[TtsVoice(
                            name=str(s.tts.voice or "en_US-joe-medium"), attribution=Attribution(
                                name="Piper", url="https://github.com/rhasspy/piper"),
                            installed=True, description="Piper voice", version=None,
                            languages=["en_US"])])],
    )
    return info.event()


class ServiceRequests:
    """The Wyoming service requests of one connection."""

    def __init__(self, ctx: ServerContext, send: Send, *, client: str, room: str | None = None) -> None:
        self.ctx = ctx
        self.send = send
        self.client = client
        self.room = room or client
        """Whose conversation its transcripts continue (a satellite's: the same as its voice)."""
        self._mode: str | None = None  # "detect" | "transcribe" while audio is expected
        self._conv = wp.converter()
        self._wake: WakeDetector | None = None
        self._wake_names: tuple[str, ...] = ()
        self._detected = False
        self._frames = Reframer()
        """The wake stream, re-framed into 80 ms chunks."""
        self._utterance: list[bytes] = []
        self._utterance_bytes = 0
        self._pipeline: SharedPipeline | None = None

    async def on_event(self, event: Event) -> bool:
        """Serve ``event``; False when it is not a service request."""
        kind = event.type
        if kind == "describe":
            await self.send(describe(self.ctx))
        elif kind == "detect":
            await self._start_detect(event.data.get("names"))
        elif kind == "transcribe":
            self._mode = "transcribe"
            self._utterance, self._utterance_bytes = [], 0
        elif kind == "audio-start":
            self._conv = wp.converter()
            self._frames = Reframer()
        elif kind == "audio-chunk":
            await self._audio(wp.to_pcm16k(event, self._conv))
        elif kind == "audio-stop":
            await self._audio_stop()
        elif kind == "transcript":
            await self._handle(str(event.data.get("text", "")), event.data.get("context"))
        elif kind == "synthesize":
            await self._synthesize(str(event.data.get("text", "")))
        else:
            return False
        return True

    # --- wake word -------------------------------------------------------------------

    async def _start_detect(self, names: list[str] | None) -> None:
        wanted = tuple(names or [self.ctx.settings.wake.default])
        if self._wake is None or wanted != self._wake_names:
            try:
                self._wake = await asyncio.to_thread(self.ctx.brain.new_wake, list(wanted))
            except HearthError as exc:
                await self.send(wp.error(str(exc), exc.code))
                self._mode = None
                return
            self._wake_names = wanted
        self._wake.reset()
        self._mode, self._detected = "detect", False

    async def _audio(self, pcm: bytes) -> None:
        if self._mode == "transcribe":
            if self._utterance_bytes < MAX_UTTERANCE_S * 32000:
                self._utterance.append(pcm)
                self._utterance_bytes += len(pcm)
            return
        if self._mode != "detect" or self._wake is None:
            return
        chunks = self._frames.push(wp.pcm_to_samples(pcm))
        wake = self._wake
        hits = await asyncio.to_thread(lambda: [h for c in chunks if (h := wake.process(c))])
        for hit in hits:
            self._detected = True
            self.ctx.hub.publish({"type": "wake", "source": self.client, "area": None,
                                  "t_audio_ms": hit.t_audio_ms, "t_wall_ms": 0.0,
                                  "wake_word": hit.name, "score": round(hit.score, 4)})
            await self.send(Detection(name=hit.name, timestamp=int(hit.t_audio_ms)).event())

    async def _audio_stop(self) -> None:
        mode, self._mode = self._mode, None
        if mode == "detect" and not self._detected:
            await self.send(NotDetected().event())
        elif mode == "transcribe":
            samples = wp.pcm_to_samples(b"".join(self._utterance))
            self._utterance, self._utterance_bytes = [], 0
            try:
                text = await asyncio.to_thread(self.ctx.brain.stt.transcribe, samples)
            except HearthError as exc:
                await self.send(wp.error(str(exc), exc.code))
                return
            self.ctx.hub.publish({"type": "transcript", "source": self.client, "area": None,
                                  "t_audio_ms": None, "t_wall_ms": 0.0, "text": text})
            await self.send(Transcript(text=text, language=self.ctx.settings.stt.language).event())

    # --- handle and speak ---------------------------------------------------------------

    async def _handle(self, text: str, context: object) -> None:
        area = context.get("area") if isinstance(context, dict) else None
        if self._pipeline is None:
            self._pipeline = self.ctx.brain.pipeline_for(None, self._emit,
                                                         memory_key=self.room)
        self.ctx.hub.publish({"type": "ask", "source": self.client, "area": area, "text": text})
        try:
            result = await asyncio.to_thread(self._pipeline.handle_text, text,
                                             area=str(area) if area else None)
        except HearthError as exc:
            await self.send(NotHandled(text=str(exc)).event())
            return
        body = result.as_json()
        if result.decision.handled_by in ("unhandled", "refused"):
            await self.send(NotHandled(text=result.reply, context={"hearth": body}).event())
        else:
            await self.send(Handled(text=result.reply, context={"hearth": body}).event())

    def _emit(self, event: HearthEvent) -> None:
        self.ctx.hub.publish({"source": self.client, "area": None, **to_dict(event)})

    async def _synthesize(self, text: str) -> None:
        """Each piece (a sentence, or a long sentence's clause) is sent as soon as Piper has
        made it, while the next is being made: the client starts playing sooner."""
        tts = self.ctx.brain.tts
        loop = asyncio.get_running_loop()
        made: asyncio.Queue[Samples | HearthError | None] = asyncio.Queue()

        def make() -> None:  # on a worker thread
            try:
                for piece in spoken_pieces(text):
                    for part in tts.synthesize(piece):
                        loop.call_soon_threadsafe(made.put_nowait, part)
            except HearthError as exc:
                loop.call_soon_threadsafe(made.put_nowait, exc)
            finally:
                loop.call_soon_threadsafe(made.put_nowait, None)

        worker = asyncio.ensure_future(asyncio.to_thread(make))
        started = False
        while (part := await made.get()) is not None:
            if isinstance(part, HearthError):
                await self.send(wp.error(str(part), part.code))
                continue
            if not started:
                started = True
                await self.send(wp.audio_start(tts.sample_rate))
            for i in range(0, len(part), 2048):
                await self.send(wp.audio_chunk(part[i:i + 2048], tts.sample_rate))
        await worker
        if started:
            await self.send(wp.audio_stop())
