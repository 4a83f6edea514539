"""When has the person finished speaking? Decisions from per-frame speech probabilities.

The first silent frame after speech (``QUIET``) is where the loop starts transcribing,
so the words are ready by the short pause (``early_silence_ms``) at which it may end the
turn when they are already a complete command. The long silence (``silence_ms``) always
ends it; the loop stretches it (:meth:`Endpointer.wait_longer`) when the words so far
sound unfinished. Pure logic: easy to test with made-up frames.
"""

from __future__ import annotations

import enum

from assistant.config import VadSettings

MIN_SPEECH_MS = 96.0
"""Speech shorter than this (three frames) is a click, not a start."""


class Endpoint(enum.Enum):
    NONE = "none"
    SPEECH_START = "speech_start"
    QUIET = "quiet"          # the first silent frame after speech: time to transcribe
    PAUSE = "pause"          # a short pause after speech: a chance to end early
    RESUMED = "resumed"      # speech again after silence
    END = "silence"          # the long silence: the turn is over
    MAX_LENGTH = "max_length"
    NO_SPEECH = "no_speech"


class Endpointer:
    def __init__(self, settings: VadSettings, frame_ms: float) -> None:
        self.s = settings
        self.frame_ms = frame_ms
        self.reset()

    def reset(self) -> None:
        self.elapsed_ms = 0.0
        self.speech_ms = 0.0
        self.run_ms = 0.0          # current run of speech frames
        self.silence_ms = 0.0      # current run of silence after speech
        self.started = False
        self.paused = False
        self.quiet = False
        self.end_silence_ms = float(self.s.silence_ms)
        """The silence that ends this turn; the loop may stretch it until speech resumes."""
        self.speech_start_ms: float | None = None
        self.last_speech_end_ms = 0.0
        self.done = False
        self.last = Endpoint.NONE

    def wait_longer(self, silence_ms: float) -> None:
        """Let this turn's silence run to ``silence_ms`` (until speech resumes), even if
        a shorter one just ended it: the words so far say the person is not done."""
        if silence_ms > self.end_silence_ms:
            self.end_silence_ms = silence_ms
            if self.done and self.last is Endpoint.END and self.silence_ms < silence_ms:
                self.done = False

    def end_after(self, silence_ms: float) -> None:
        """End this turn after ``silence_ms`` of silence (until speech resumes), shorter or
        longer than the usual one: the words are whole, but the voice said more may come."""
        self.end_silence_ms = silence_ms

    def feed(self, prob: float) -> Endpoint:
        """One frame's speech probability -> what just happened (once the turn is over,
        nothing more happens until :meth:`reset`)."""
        if self.done:
            return Endpoint.NONE
        what = self.last = self._decide(prob)
        if what in (Endpoint.END, Endpoint.MAX_LENGTH, Endpoint.NO_SPEECH):
            self.done = True
        return what

    def _decide(self, prob: float) -> Endpoint:
        self.elapsed_ms += self.frame_ms
        if self.started and self.speech_start_ms is not None and (
            self.elapsed_ms - self.speech_start_ms >= self.s.max_command_s * 1000.0
        ):
            return Endpoint.MAX_LENGTH
        if prob >= self.s.threshold:
            self.run_ms += self.frame_ms
            self.silence_ms = 0.0
            self.last_speech_end_ms = self.elapsed_ms
            if not self.started and self.run_ms >= MIN_SPEECH_MS:
                self.started = True
                self.speech_start_ms = self.elapsed_ms - self.run_ms
                return Endpoint.SPEECH_START
            if self.started:
                self.speech_ms += self.frame_ms
                if self.quiet:
                    self.quiet = self.paused = False
                    self.end_silence_ms = float(self.s.silence_ms)
                    return Endpoint.RESUMED
            return Endpoint.NONE
        self.run_ms = 0.0
        if not self.started:
            if self.elapsed_ms >= self.s.no_speech_timeout_s * 1000.0:
                return Endpoint.NO_SPEECH
            return Endpoint.NONE
        self.silence_ms += self.frame_ms
        if self.silence_ms >= self.end_silence_ms:
            return Endpoint.END
        if not self.quiet:
            self.quiet = True
            return Endpoint.QUIET
        if (not self.paused and self.s.early_silence_ms
                and self.silence_ms >= self.s.early_silence_ms):
            self.paused = True
            return Endpoint.PAUSE
        return Endpoint.NONE
