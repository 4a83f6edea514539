"""The voice loop: wake word -> end of speech -> transcript -> turn -> spoken reply.

One thread reads chunks and drives the stages in order; the audio callback only
queues (see :mod:`assistant.audio.sources`), so capture never blocks. To answer fast,
the words are transcribed while the person speaks (:mod:`assistant.stt.background`):
every few hundred ms of new speech and as soon as the speech stops. At the first short
pause the turn ends when those words are already a complete command; when they sound
unfinished ("turn off the…") the loop waits longer than the usual long silence.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from assistant.audio.chunk import SAMPLE_RATE, AudioChunk, Samples
from assistant.audio.sinks import AudioSink, NullSink
from assistant.config import Settings
from assistant.errors import HearthError
from assistant.events import (
    Event,
    EventSink,
    ReplySentence,
    SpeechEnded,
    SpeechStarted,
    StageClock,
    StageFailed,
    Transcript,
    TranscriptPartial,
    WakeDetected,
)
from assistant.pipeline import Pipeline, Turn, TurnResult, new_turn_id
from assistant.skills.announce import Announcements
from assistant.stages import Stage
from assistant.stt.background import BackgroundTranscriber, Heard
from assistant.tts.playback import ReplyPlayback, Speaker, unspoken
from assistant.turn_end import Command, TurnEnd
from assistant.vad.endpoint import Endpoint, Endpointer
from assistant.wake.barge_in import BargeIn
from assistant.wake.base import WakeDetector
from assistant.wake.command_start import command_start_ms

log = logging.getLogger(__name__)

PREROLL_MS = 800
"""Audio kept from before the chunk that woke us (at least; the second stage's window if
it is longer)."""


class Transcriber(Protocol):
    def transcribe(self, samples: Samples) -> str: ...


class VadFrames(Protocol):
    def reset(self) -> None: ...

    def frames(self, samples: Samples) -> list[float]: ...


class VoiceLoop:
    def __init__(
        self,
        settings: Settings,
        *,
        pipeline: Pipeline,
        stt: Transcriber,
        vad: VadFrames,
        frame_ms: float,
        wake: WakeDetector | None,
        tts: Speaker | None = None,
        sink: AudioSink | None = None,
        emit: EventSink,
        area: str | None = None,
        announcements: Announcements | None = None,
        retry_stt: Callable[[Samples], str] | None = None,
        wide_stt: Callable[[Samples], str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        background: bool = True,
    ) -> None:
        self.settings = settings
        self.area = area
        """The room this loop hears (a satellite's); None = the device's own area."""
        self.announcements = announcements
        """Unprompted speech (a timer ringing), spoken when no command is being heard."""
        self.retry_stt = retry_stt
        """A second, more biased transcription for audio whose first one matched nothing
        (the skills' own words, e.g. drink names); costs time only on a miss."""
        self.pipeline = pipeline
        self.stt = stt
        self.vad = vad
        self.wake = wake
        self.emit = emit
        self._emitting = threading.Lock()
        self.clock = clock
        self.reply = ReplyPlayback(tts, sink or NullSink(), send=self._send,
                                   fail=lambda exc, at_ms: self._fail(exc.stage, exc.code, str(exc), at_ms),
                                   wall_ms=self._wall, now_ms=lambda: self._now_ms, clock=clock,
                                   threaded=background)
        """Says replies while the loop listens on (``background=False``: inline, for tests)."""
        self.barge_in = BargeIn(settings.wake, self.reply)
        self.endpointer = Endpointer(settings.vad, frame_ms)
        self.heard = BackgroundTranscriber(stt.transcribe, threaded=background, clock=clock)
        """Transcribes while the person speaks (``background=False``: inline, for tests)."""
        looks = [(name, fn) for name, fn in (("retry", retry_stt), ("wide", wide_stt)) if fn is not None]
        self.turn_end = TurnEnd(settings.vad, self.endpointer, self.heard, looks, self._is_command,
                                clock=clock)
        self.results: list[TurnResult] = []
        self._origin = 0.0
        verifier = settings.wake.verifier
        self._heard_window_ms = verifier.window_s * 1000.0 if verifier.enabled else 0.0
        self._preroll: collections.deque[AudioChunk] = collections.deque(
            maxlen=int(max(PREROLL_MS, self._heard_window_ms + 160) // 80) + 1)
        self._command: Command | None = None
        self._now_ms = 0.0            # the end of the last chunk read
        self._streamed: list[str] = []
        self._turn_end_ms: float | None = None
        self._stages: StageClock | None = None
        """The stage events of the turn being heard (None between turns)."""

    # --- clocks and events -----------------------------------------------------------

    def _wall(self) -> float:
        return (self.clock() - self._origin) * 1000.0

    def _send(self, event: Event) -> None:
        with self._emitting:  # the reply's thread reports too
            self.emit(event)
        if isinstance(event, ReplySentence):  # the cloud streams its reply: say each sentence now
            self._speak_streamed(event.text)

    def _new_turn(self, t_audio_ms: float) -> StageClock:
        self._stages = StageClock(self._send, new_turn_id(), self._wall, t_audio_ms)
        return self._stages

    def _end_turn(self, error: str, *, failed: str | None = None) -> None:
        """The turn is over: any stage still open ends with ``error``."""
        if self._stages is not None:
            self._stages.close(error, failed=failed)
        self._stages = None

    # --- the loop -----------------------------------------------------------------

    def run(self, chunks: Iterable[AudioChunk], *, wake_required: bool = True) -> list[TurnResult]:
        """Process a stream until it ends. Without a wake word, the stream starts as a command."""
        started = False
        last_end = 0.0
        for chunk in chunks:
            if not started:
                self._origin = self.clock()
                started = True
                self._new_stream()
                if not wake_required or self.wake is None:
                    self._begin_command(chunk.t_audio_ms, [])
            last_end = self._now_ms = chunk.end_ms
            try:
                self._step(chunk, wake_required)
            except HearthError as exc:
                self._fail(exc.stage, exc.code, str(exc), chunk.end_ms)
                self._end_turn(exc.code, failed=exc.stage)
                self._back_to_waiting(chunk.end_ms)
        if self._command is not None and self.endpointer.started:
            self._finish("end_of_input", last_end)
        self._end_turn("end_of_input")
        self.reply.drain()  # the last reply is heard before the stream's end returns
        return self.results

    def _step(self, chunk: AudioChunk, wake_required: bool) -> None:
        if self._command is None:
            self._announce(chunk.t_audio_ms)
            if self.wake is None:
                return
            began = self._wall()
            self.wake.speaking = self.reply.saying(chunk.t_audio_ms)
            hit = self.wake.process(chunk)
            if hit is None:
                self.barge_in.hold(self.wake.checking, chunk.end_ms)
            elif not self.barge_in.muted(chunk.t_audio_ms):
                stages = self._new_turn(hit.t_audio_ms)  # Stage.WAKE: this chunk's detection
                stages.start(Stage.WAKE, at_wall_ms=began)
                self._send(WakeDetected(t_audio_ms=hit.t_audio_ms, t_wall_ms=self._wall(),
                                        wake_word=hit.name, score=round(hit.score, 4)))
                stages.end(Stage.WAKE)
                quiet_from = self.barge_in.woken(chunk.end_ms)
                if hit.action == "stop":  # a wake word that only silences: no command follows
                    self._back_to_waiting(chunk.end_ms)
                    return
                # over its own reply, the chunks until it went quiet hold the reply's words:
                # the command starts after them
                start = command_start_ms(hit, self._heard_window_ms)
                if quiet_from is not None:
                    start = max(start, quiet_from)
                heard = [c for c in [*self._preroll, chunk] if c.t_audio_ms >= start]
                self._begin_command(heard[0].t_audio_ms if heard else start,
                                    [c.samples for c in heard])
                return
            self._preroll.append(chunk)
            return
        self._hear(chunk, wake_required)

    def _begin_command(self, start_ms: float, chunks: list[Samples]) -> None:
        stages = self._stages or self._new_turn(start_ms)  # no wake word: the turn starts here
        stages.t_audio_ms = start_ms
        stages.start(Stage.VAD)
        self._command = Command(start_ms=start_ms)
        self.vad.reset()
        self.endpointer.reset()
        self.heard.reset()
        for samples in chunks:
            self._command.add(samples)
            for prob in self.vad.frames(samples):
                if self.endpointer.feed(prob) is Endpoint.SPEECH_START:
                    self._speech_started()
        self._command.asked_at = self._command.samples

    def _hear(self, chunk: AudioChunk, wake_required: bool) -> None:
        cmd = self._command
        assert cmd is not None
        cmd.add(chunk.samples)
        for prob in self.vad.frames(chunk.samples):
            what = self.endpointer.feed(prob)
            if what is Endpoint.NONE or what is Endpoint.RESUMED:
                continue
            if what is Endpoint.SPEECH_START:
                self._speech_started()
            elif what is Endpoint.QUIET:
                self._ask(cmd)  # the speech stopped: these may be all the words
            elif what is Endpoint.PAUSE:
                if self._judge(self._words_so_far()):
                    return
            elif what is Endpoint.NO_SPEECH:
                self._send(SpeechEnded(t_audio_ms=chunk.end_ms, t_wall_ms=self._wall(),
                                       reason="no_speech"))
                self._end_turn("no_speech")
                self._back_to_waiting(chunk.end_ms)
                return
            elif what is Endpoint.END and self.turn_end.words_say_wait(cmd, self._words_so_far):
                continue  # a second look heard "... to": the person is not done
            else:  # END or MAX_LENGTH
                self._finish(what.value, chunk.end_ms)
                return
        every = self.settings.stt.partial_every_ms * SAMPLE_RATE // 1000
        if (every and self.endpointer.started and not self.endpointer.silence_ms
                and cmd.samples - cmd.asked_at >= every and self.heard.idle):
            self._ask(cmd)  # still speaking: a partial transcript on the idle core
        for heard in self._say_partials(cmd):
            if heard.look and self._still_paused_after(heard) and self._judge(heard):
                return

    def _ask(self, cmd: Command) -> None:
        cmd.asked_at = cmd.samples
        self.heard.submit(cmd.audio())

    def _say_partials(self, cmd: Command) -> list[Heard]:
        """Sends the decodes finished since the last call; returns them."""
        new = self.heard.take_new()
        for heard in new:
            if heard.text and heard.text != cmd.said:
                cmd.said = heard.text
                self._send(TranscriptPartial(  # stamped when the words were ready
                    t_audio_ms=cmd.start_ms + heard.samples * 1000.0 / SAMPLE_RATE,
                    t_wall_ms=(heard.done_at - self._origin) * 1000.0, text=heard.text,
                    stt_ms=round(heard.stt_ms, 1)))
        return new

    def _speech_started(self) -> None:
        assert self._command is not None
        self._send(SpeechStarted(t_audio_ms=self._command.start_ms + (self.endpointer.speech_start_ms or 0),
                                 t_wall_ms=self._wall()))

    def _speech_end_ms(self) -> float:
        assert self._command is not None
        return self._command.start_ms + self.endpointer.last_speech_end_ms

    def _words_so_far(self) -> Heard:
        """The transcript of all speech heard so far: the one the worker made or is making
        when the speech stopped, else a new one (e.g. the input ended mid-word)."""
        cmd = self._command
        assert cmd is not None
        # all of it: a decode that misses even the VAD's last frame can miss a word's end
        # ("set the bedroom light to" heard as "...light.", which sounds finished)
        spoken = self._spoken_samples()
        if not self.endpointer.started:
            spoken = cmd.samples
        heard = self.heard.covering(min(spoken, cmd.samples))
        if heard is None:
            self._ask(cmd)
            heard = self.heard.covering(cmd.samples)
        assert heard is not None
        if heard.error is not None:
            raise heard.error
        return heard

    def _spoken_samples(self) -> int:
        return int(self.endpointer.last_speech_end_ms * SAMPLE_RATE / 1000)

    def _still_paused_after(self, heard: Heard) -> bool:
        """Is ``heard`` about the pause going on now (no speech since its audio ended)?"""
        return self.endpointer.paused and heard.samples >= self._spoken_samples()

    def _finish(self, reason: str, now_ms: float) -> None:
        cmd = self._command
        assert cmd is not None
        end_ms = self._speech_end_ms() if self.endpointer.started else now_ms
        # a second look's words, when one was made; the looks not made yet, at once
        text, stt_ms = self.turn_end.last_looks(cmd, self._words_so_far())
        self._complete(text, stt_ms, reason, end_ms)

    def _judge(self, heard: Heard) -> bool:
        """In a pause: end the turn here when the words are a complete command (see
        :class:`assistant.turn_end.TurnEnd`). True when the turn ended."""
        cmd = self._command
        assert cmd is not None
        if not self.turn_end.judge(cmd, heard, lambda: cmd.audio()[: self._spoken_samples()]):
            return False
        self._complete(heard.text, heard.stt_ms, "early_match", self._speech_end_ms())
        return True

    def _is_command(self, text: str) -> bool:
        return self.pipeline.is_complete_command(text, area=self.area)

    def _complete(self, text: str, stt_ms: float, reason: str, end_ms: float) -> None:
        if self._command is not None:
            self._say_partials(self._command)
        stages = self._stages or self._new_turn(end_ms)
        stages.t_audio_ms = end_ms
        self._send(SpeechEnded(t_audio_ms=end_ms, t_wall_ms=self._wall(), reason=reason))
        stages.end(Stage.VAD)
        heard_at = self._wall()
        stages.start(Stage.STT, at_wall_ms=heard_at - stt_ms)  # decoded while listening
        self._send(Transcript(t_audio_ms=end_ms, t_wall_ms=heard_at, text=text,
                              stt_ms=round(stt_ms, 1)))
        stages.end(Stage.STT, error=None if text else "empty_transcript", at_wall_ms=heard_at)
        if not text:
            self.reply.say("Sorry, I didn't catch that.", end_ms, stages)
            self._end_turn("empty_transcript")
            self._back_to_waiting(end_ms)
            return
        self._streamed = []
        self._turn_end_ms = end_ms
        heard = Turn(text=text, area=self.area, id=stages.turn_id, t_audio_ms=end_ms)
        try:
            result = self.pipeline.run(heard, wall_origin=self._origin, stages=stages)
        finally:
            self._turn_end_ms = None
        self.results.append(result)
        self.reply.say(unspoken(result.reply, self._streamed), end_ms, stages)
        self._end_turn("internal_error")  # every stage has ended by now
        if result.decision.expects_reply:
            self._begin_command(end_ms, [])  # continued conversation: no wake word needed
        else:
            self._back_to_waiting(end_ms)

    def _speak_streamed(self, sentence: str) -> None:
        """A sentence of a reply that is still arriving (a ``reply_sentence`` event of this
        loop's turn): say it now, while the rest is on its way. Ignored outside a turn."""
        if self._turn_end_ms is None:
            return
        self._streamed.append(sentence)
        self.reply.say(sentence, self._turn_end_ms, self._stages)

    def _announce(self, at_ms: float) -> None:
        if self.announcements is None:
            return
        here = self.pipeline.resolve_area(self.area)
        for item in self.announcements.take(lambda a: a.area in (None, here)):
            self.reply.say(item.text, at_ms)  # another room's announcements wait for that room

    def _new_stream(self) -> None:
        self._command = None
        self._preroll.clear()
        self.reply.reset()
        if self.wake is not None:
            self.wake.new_stream()

    def _back_to_waiting(self, at_ms: float) -> None:
        self._end_turn("abandoned")
        self._command = None
        self._preroll.clear()
        if self.wake is not None:
            self.wake.reset()

    def _fail(self, stage: str, code: str, message: str, at_ms: float) -> None:
        log.warning("%s: %s", stage, message)
        self._send(StageFailed(t_audio_ms=at_ms, t_wall_ms=self._wall(), stage=stage, code=code,
                               message=message))
