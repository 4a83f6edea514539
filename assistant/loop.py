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
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from assistant.audio.chunk import SAMPLE_RATE, AudioChunk, Samples
from assistant.audio.sinks import AudioSink, NullSink
from assistant.config import Settings
from assistant.errors import HearthError
from assistant.events import (
    Event,
    EventSink,
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
from assistant.vad.endpoint import Endpoint, Endpointer
from assistant.vad.meaning import same_words, sounds_unfinished
from assistant.vad.prosody import final_tone
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


@dataclass
class _Command:
    """The command being heard."""

    start_ms: float
    chunks: list[Samples] = field(default_factory=list)
    samples: int = 0
    asked_at: int = 0      # samples of speech when a partial transcript was last asked for
    said: str = ""         # the last partial transcript sent
    first_heard: str = ""  # the words the first decode heard at this pause
    rising: bool = False   # the voice rose where the speech stopped, at this pause

    def add(self, samples: Samples) -> None:
        self.chunks.append(samples)
        self.samples += len(samples)

    def audio(self) -> Samples:
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)


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
        self.second_looks = [(name, fn) for name, fn in (("retry", retry_stt), ("wide", wide_stt))
                             if fn is not None]
        """At a pause whose words are neither a command nor unfinished, the audio is heard
        again in these ways, one after another, while the silence runs: the n-best retry
        (it finds most misheard commands), then Whisper's full window (the short one can
        mishear the word before the pause: "set the bedroom light to" as "... tube")."""
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
        self.results: list[TurnResult] = []
        self._origin = 0.0
        verifier = settings.wake.verifier
        self._heard_window_ms = verifier.window_s * 1000.0 if verifier.enabled else 0.0
        self._preroll: collections.deque[AudioChunk] = collections.deque(
            maxlen=int(max(PREROLL_MS, self._heard_window_ms + 160) // 80) + 1)
        self._command: _Command | None = None
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
        self._command = _Command(start_ms=start_ms)
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
            elif what is Endpoint.END and self._words_say_wait():
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

    def _ask(self, cmd: _Command) -> None:
        cmd.asked_at = cmd.samples
        self.heard.submit(cmd.audio())

    def _say_partials(self, cmd: _Command) -> list[Heard]:
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

    def _judge(self, heard: Heard) -> bool:
        """In a pause: end here if the words are a complete command (said with a falling
        or level tone, when the tone holds commands); wait longer than usual if they sound
        unfinished ("set the bedroom to"), rise, or two hearings disagree on them; else
        hear them again (the next second look) while the silence runs. True when the turn
        ended."""
        if heard.error is not None:
            raise heard.error
        cmd = self._command
        assert cmd is not None
        if not heard.look:  # the first decode at this pause
            cmd.first_heard, cmd.rising = heard.text, self._tone_rises()
        if heard.text and self._is_command(heard.text):
            if cmd.rising and self.settings.vad.rising_tone_holds_commands:
                return False  # "turn off the light, …": the long silence decides
            self._complete(heard.text, heard.stt_ms, "early_match", self._speech_end_ms())
            return True
        unsure = cmd.rising or bool(heard.look and not same_words(heard.text, cmd.first_heard))
        if unsure or sounds_unfinished(heard.text):
            self.endpointer.wait_longer(float(self.settings.vad.incomplete_silence_ms))
        looks = self._looks_after(heard)
        if heard.text and looks and not sounds_unfinished(heard.text):
            name, transcribe = looks[0]
            self.heard.submit(cmd.audio(), look=name, transcribe=transcribe)
        return False

    def _looks_after(self, heard: Heard) -> list[tuple[str, Callable[[Samples], str]]]:
        """The second looks not yet made after ``heard``."""
        names = [name for name, _ in self.second_looks]
        return self.second_looks[names.index(heard.look) + 1 if heard.look in names else 0:]

    def _tone_rises(self) -> bool:
        """Does the voice rise where the speech stopped (more is coming)?"""
        rise = self.settings.vad.rising_tone_st_s
        if not rise or self._command is None:
            return False
        return final_tone(self._command.audio()[: self._spoken_samples()]).sounds_unfinished(rise)

    def _words_say_wait(self) -> bool:
        """At the long silence: do the newest words (a second look may have just been
        made) sound unfinished, or disagree with the first hearing at this pause? Then
        the silence is stretched and the turn goes on."""
        incomplete = float(self.settings.vad.incomplete_silence_ms)
        cmd = self._command
        if self.endpointer.end_silence_ms >= incomplete or cmd is None:
            return False
        heard = self._words_so_far()
        while True:
            if heard.text and self._is_command(heard.text):
                return False
            disagree = bool(heard.look) and not same_words(heard.text, cmd.first_heard)
            looks = self._looks_after(heard)
            if sounds_unfinished(heard.text) or disagree or not heard.text or not looks:
                break
            name, transcribe = looks[0]  # the looks the silence was too short for, now
            self.heard.submit(cmd.audio(), look=name, transcribe=transcribe)
            heard = self._words_so_far()
        if not sounds_unfinished(heard.text) and not disagree:
            return False
        self.endpointer.wait_longer(incomplete)
        return True

    def _finish(self, reason: str, now_ms: float) -> None:
        cmd = self._command
        assert cmd is not None
        end_ms = self._speech_end_ms() if self.endpointer.started else now_ms
        heard = self._words_so_far()  # a second look's, when one was made
        text, stt_ms = heard.text, heard.stt_ms
        for _name, transcribe in self._looks_after(heard):  # the looks not made yet, at once
            if not text or self._is_command(text):
                break
            self.heard.wait_idle()  # one decode at a time on the shared model
            t0 = self.clock()
            again = transcribe(cmd.audio())
            stt_ms += (self.clock() - t0) * 1000.0
            if self._is_command(again):
                text = again
        self._complete(text, stt_ms, reason, end_ms)

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

    def speak_streamed(self, sentence: str) -> None:
        """A sentence of a reply that is still arriving (the cloud streams): say it now,
        while the rest is on its way. Ignored outside a turn of this loop."""
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
