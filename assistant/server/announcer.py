"""Unprompted speech from the server: a timer ringing, a skill's reminder.

The skills put announcements in a queue (:mod:`assistant.skills.announce`); this thread
takes them, synthesizes each once and speaks it where it belongs — on every satellite
in the announcement's area and on the server's own speaker when the area is the
server's (no area: everywhere). It also starts the timer service, so timers set before
a restart ring after it (they live in SQLite).

The server's voice loops are not given the queue (``VoiceLoop(announcements=...)``, as
``hearth listen`` does): one consumer speaks in *every* satellite of the room, also for
satellites that run their own wake word (their loop only runs during a command), and
says so when nobody is there to hear.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from assistant.audio.chunk import Samples
from assistant.errors import HearthError
from assistant.server.context import ServerContext

log = logging.getLogger(__name__)


class Speaks(Protocol):
    """Something in a room that can say an announcement (a satellite, the microphone loop)."""

    name: str
    area: str

    def announce(self, text: str, parts: list[Samples], rate: int) -> bool: ...


class Announcer:
    def __init__(self, ctx: ServerContext, targets: Callable[[], list[Speaks]]) -> None:
        self.ctx = ctx
        self.targets = targets
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)
        skills = getattr(ctx.brain.runtime, "skills", None)
        self._queue: Any = getattr(skills, "announcements", None)
        self._skills = skills

    @property
    def available(self) -> bool:
        return self._queue is not None

    def start(self) -> None:
        if self._skills is None or self._queue is None:
            log.info("no skills: nothing to announce")
            return
        self._skills.start_ringing()
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            item = self._queue.get(timeout=0.5)
            if item is None:
                continue
            try:
                self.deliver(item.text, area=item.area, skill=item.skill, key=item.key)
            except Exception:  # one failed announcement must not stop the next
                log.exception("announcement failed")

    def deliver(self, text: str, *, area: str | None, skill: str, key: str | None = None) -> int:
        """Speak ``text`` in ``area`` (None: everywhere); returns how many places heard it."""
        self.ctx.hub.publish({"type": "announcement", "source": skill, "area": area,
                              "text": text, "key": key})
        targets = [t for t in self.targets() if area is None or t.area == area]
        if not targets:
            log.warning("announcement with nobody to hear it",
                        extra={"fields": {"area": area, "skill": skill, "text": text}})
            return 0
        tts = self.ctx.brain.tts
        try:
            parts = list(tts.synthesize(text))
        except HearthError as exc:
            log.warning("announcement not spoken: %s", exc)
            return 0
        heard = sum(1 for t in targets if t.announce(text, parts, tts.sample_rate))
        log.info("announcement", extra={"fields": {
            "area": area, "skill": skill, "text": text, "to": [t.name for t in targets]}})
        return heard
