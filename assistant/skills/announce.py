"""Unprompted speech: a thread-safe queue of announcements the voice loop or the
daemon drains when the speaker is free.

Skills (and the timer service) put; whoever owns a speaker takes. An announcement
with a ``key`` replaces one with the same key that is still waiting, so a timer that
rings again while nobody has drained the queue does not pile up copies.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Announcement:
    text: str
    skill: str
    key: str | None = None
    area: str | None = None
    """The area it concerns (a timer rings where it was set); None = anywhere."""
    at: float = field(default_factory=time.time)
    """Wall-clock time it was put."""


Listener = Callable[[Announcement], None]


class Announcements:
    """FIFO of announcements; ``put`` never blocks, ``get`` waits up to a timeout."""

    def __init__(self, maxlen: int = 50) -> None:
        self._items: list[Announcement] = []
        self._cond = threading.Condition()
        self._maxlen = maxlen
        self._listeners: list[Listener] = []

    def put(self, item: Announcement) -> None:
        with self._cond:
            if item.key is not None:
                self._items = [a for a in self._items if a.key != item.key]
            self._items.append(item)
            del self._items[:-self._maxlen]
            listeners = list(self._listeners)
            self._cond.notify_all()
        for listener in listeners:  # outside the lock: a listener may drain
            try:
                listener(item)
            except Exception:  # a broken listener must not stop the ring
                import logging

                logging.getLogger(__name__).warning("announcement listener failed", exc_info=True)

    def get(self, timeout: float | None = None) -> Announcement | None:
        """The oldest waiting announcement, waiting up to ``timeout`` s (None = forever)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._items:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            return self._items.pop(0)

    def drain(self) -> list[Announcement]:
        """Everything waiting, oldest first (non-blocking)."""
        with self._cond:
            items, self._items = self._items, []
            return items

    def take(self, where: Callable[[Announcement], bool]) -> list[Announcement]:
        """The waiting announcements ``where`` accepts, oldest first; the rest stay."""
        with self._cond:
            taken = [a for a in self._items if where(a)]
            self._items = [a for a in self._items if not where(a)]
            return taken

    def discard(self, key: str) -> None:
        """Forget a waiting announcement (its timer was acknowledged)."""
        with self._cond:
            self._items = [a for a in self._items if a.key != key]

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` for every new announcement (it still waits in the queue
        until drained); returns the unsubscribe function."""
        with self._cond:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._cond:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)
