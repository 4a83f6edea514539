"""Where a command's audio starts, once the wake word was heard."""

from __future__ import annotations

from assistant.stt.whisper import strip_wake_phrase
from assistant.wake.base import WakeHit

COMMAND_LEAD_MS = 80
"""The command starts this long before the chunk that woke us: people run the command
on. Whisper hears the wake phrase's tail; :func:`assistant.stt.whisper.strip_wake_phrase`
removes it."""


def command_start_ms(hit: WakeHit, heard_window_ms: float) -> float:
    """Where the command's audio starts. The hit comes just after the score's peak, i.e.
    the phrase's end (the first stage may have fired much earlier, on "Hey"), so the
    command starts there. But when the second stage already heard words after the phrase
    ("Hey Jarvis, turn on the l…") the score peaked late, inside the command: the command
    then starts with the window the second stage heard, phrase and all; Whisper hears
    "Hey Jarvis, turn on the light." and the phrase is stripped from the transcript (half a
    "Jarvis" at the start is misheard as words: "This is turn on the light")."""
    start = hit.t_audio_ms - 80 - COMMAND_LEAD_MS
    if hit.heard and strip_wake_phrase(hit.heard):
        start = min(start, hit.t_audio_ms - heard_window_ms)
    return start
