"""The wake word while a reply plays (barge-in): it pauses the reply at once, while its
second-stage check runs, and stops it for good when the check accepts — or, with
``wake.barge_in`` off, it is not heard until the reply has ended."""

from __future__ import annotations

from assistant.config import WakeSettings
from assistant.tts.playback import ReplyPlayback

REPLY_ECHO_MS = 400
"""Without barge-in: after the assistant stops speaking, ignore the wake word a little longer."""
SINK_LAG_MS = 80
"""A speaker told to pause plays on this long (its buffer): the echo's tail."""


class BargeIn:
    def __init__(self, settings: WakeSettings, reply: ReplyPlayback) -> None:
        self.enabled = settings.barge_in
        self.reply = reply

    def muted(self, at_ms: float) -> bool:
        """Without barge-in its own voice must not wake it: the wake word is not heard
        while a reply is made or heard, nor a little after."""
        if self.enabled:
            return False
        return self.reply.busy(at_ms) or at_ms < self.reply.until_ms + REPLY_ECHO_MS

    def hold(self, checking: bool, at_ms: float) -> None:
        """Each chunk without a wake: the reply goes silent while a detection heard over
        it is ``checking``, and plays on if the check found no wake word."""
        if not self.enabled:
            return
        if checking:
            self.reply.pause(at_ms, "wake_check")
        elif self.reply.paused:
            self.reply.resume(at_ms, "no_wake_word")

    def woken(self, at_ms: float) -> float | None:
        """The wake word was heard: stop the reply it was said over. Where the input is
        free of the reply (the command may start there); None: no reply was playing."""
        if not self.reply.busy(at_ms):
            return None
        paused_at = self.reply.paused_at
        self.reply.stop(at_ms, "wake_word")
        return at_ms if paused_at is None else paused_at + SINK_LAG_MS
