"""End of turn by meaning: at a pause, has the person finished?

The voice loop asks this module at every pause and at the long silence. The words heard
so far decide: a complete command ends the turn at the short pause; words that sound
unfinished ("set the bedroom to"), a rising voice or two hearings that disagree stretch
the silence; anything else is heard again (the second looks) while the silence runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from assistant.audio.chunk import Samples
from assistant.settings import VadSettings
from assistant.stt.background import BackgroundTranscriber, Heard
from assistant.vad.endpoint import Endpointer
from assistant.vad.meaning import same_words, sounds_asked, sounds_unfinished
from assistant.vad.prosody import final_tone

Look = tuple[str, Callable[[Samples], str]]
"""A second way to hear the audio: its name (``retry``, ``wide``) and the transcriber."""


@dataclass
class Command:
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


class TurnEnd:
    """The judge of pauses, for one voice loop (its endpointer and its transcriber)."""

    def __init__(self, settings: VadSettings, endpointer: Endpointer, heard: BackgroundTranscriber,
                 looks: list[Look], is_command: Callable[[str], bool],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.endpointer = endpointer
        self.heard = heard
        self.looks = looks
        """At a pause whose words are neither a command nor unfinished, the audio is heard
        again in these ways, one after another, while the silence runs: the n-best retry
        (it finds most misheard commands), then Whisper's full window (the short one can
        mishear the word before the pause: "set the bedroom light to" as "... tube")."""
        self.is_command = is_command
        self.clock = clock

    def looks_after(self, heard: Heard) -> list[Look]:
        """The second looks not yet made after ``heard``."""
        names = [name for name, _ in self.looks]
        return self.looks[names.index(heard.look) + 1 if heard.look in names else 0:]

    def judge(self, cmd: Command, heard: Heard, spoken: Callable[[], Samples]) -> bool:
        """In a pause: True when the words are a complete command (said with a falling or
        level tone, when the tone holds commands) and the turn may end here. Else the
        silence is stretched if they sound unfinished, rise, or two hearings disagree, and
        the next second look is asked for while the silence runs. ``spoken``: the speech
        so far, made only when the tone is read (the first decode at a pause)."""
        if heard.error is not None:
            raise heard.error
        if not heard.look:  # the first decode at this pause
            cmd.first_heard, cmd.rising = heard.text, self._tone_rises(spoken)
        if heard.text and self.is_command(heard.text):
            if not (cmd.rising and self.settings.rising_tone_holds_commands) or sounds_asked(heard.text):
                return True
            # whole words, a voice that says more: the pause at a comma, then act
            self.endpointer.end_after(float(self.settings.continued_silence_ms))
            return False
        unsure = cmd.rising or bool(heard.look and not same_words(heard.text, cmd.first_heard))
        if unsure or sounds_unfinished(heard.text):
            self.endpointer.wait_longer(float(self.settings.incomplete_silence_ms))
        looks = self.looks_after(heard)
        if heard.text and looks and not sounds_unfinished(heard.text):
            name, transcribe = looks[0]
            self.heard.submit(cmd.audio()[: heard.samples], look=name, transcribe=transcribe)
        return False

    def _tone_rises(self, spoken: Callable[[], Samples]) -> bool:
        """Does the voice rise where the speech stopped (more is coming)?"""
        rise = self.settings.rising_tone_st_s
        return bool(rise) and final_tone(spoken()).sounds_unfinished(rise)

    def words_say_wait(self, cmd: Command, words_so_far: Callable[[], Heard]) -> bool:
        """At the long silence: do the newest words (a second look may have just been
        made) sound unfinished, or disagree with the first hearing at this pause? Then
        the silence is stretched and the turn goes on."""
        incomplete = float(self.settings.incomplete_silence_ms)
        if self.endpointer.end_silence_ms >= incomplete:
            return False
        heard = words_so_far()
        while True:
            if heard.text and self.is_command(heard.text):
                return False
            disagree = bool(heard.look) and not same_words(heard.text, cmd.first_heard)
            looks = self.looks_after(heard)
            if sounds_unfinished(heard.text) or disagree or not heard.text or not looks:
                break
            name, transcribe = looks[0]  # the looks the silence was too short for, now
            self.heard.submit(cmd.audio()[: heard.samples], look=name, transcribe=transcribe)
            heard = words_so_far()
        if not sounds_unfinished(heard.text) and not disagree:
            return False
        self.endpointer.wait_longer(incomplete)
        return True

    def last_looks(self, cmd: Command, heard: Heard) -> tuple[str, float]:
        """The turn ends now: the looks not made yet, at once, while the words are no
        command. A look that answers nothing (the retry will not guess a slot too close
        to call) ends the looking: a later one must not act on its own guess. Returns the
        words to act on and the transcription time it all took."""
        text, stt_ms = heard.text, heard.stt_ms
        for _name, transcribe in self.looks_after(heard):
            if not text or self.is_command(text):
                break
            self.heard.wait_idle()  # one decode at a time on the shared model
            t0 = self.clock()
            again = transcribe(cmd.audio()[: heard.samples])
            stt_ms += (self.clock() - t0) * 1000.0
            if not again or self.is_command(again):
                text = again
        return text, stt_ms
