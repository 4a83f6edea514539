"""How the last requests were handled, for "system status" (kept across processes).

Only the outcome is kept — intent, route, whether anything left the device — never
the words, so the log says nothing about what was asked.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from assistant.events import Event, EventSink, IntentMatched, Reply
from assistant.skills.api import TurnRecord

KEEP = 50


class TurnLog:
    def __init__(self, path: Path | None, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._memory: list[TurnRecord] = []
        self._db: sqlite3.Connection | None = None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(path, check_same_thread=False, timeout=5, isolation_level=None)
                self._db.execute("CREATE TABLE IF NOT EXISTS turns (at REAL, intent TEXT, handled_by TEXT, "
                                 "left_device INTEGER)")
            except (OSError, sqlite3.Error):
                self._db = None  # status then covers this process only

    def record(self, intent: str | None, handled_by: str, left_device: bool) -> None:
        rec = TurnRecord(self.clock(), intent, handled_by, left_device)
        with self._lock:
            self._memory = [*self._memory[-(KEEP - 1):], rec]
            if self._db is not None:
                try:
                    self._db.execute("INSERT INTO turns VALUES (?, ?, ?, ?)",
                                     (rec.at, intent, handled_by, int(left_device)))
                    self._db.execute("DELETE FROM turns WHERE rowid NOT IN "
                                     "(SELECT rowid FROM turns ORDER BY rowid DESC LIMIT ?)", (KEEP,))
                except sqlite3.Error:
                    pass

    def last(self, n: int = 1) -> list[TurnRecord]:
        """The ``n`` most recent turns, newest first."""
        with self._lock:
            if self._db is not None:
                try:
                    rows = self._db.execute("SELECT at, intent, handled_by, left_device FROM turns "
                                            "ORDER BY rowid DESC LIMIT ?", (n,)).fetchall()
                    return [TurnRecord(float(r[0]), r[1], str(r[2]), bool(r[3])) for r in rows]
                except sqlite3.Error:
                    pass
            return list(reversed(self._memory[-n:]))

    def observe(self, sink: EventSink) -> EventSink:
        """Wrap one pipeline's event sink: its turns are recorded as their events pass
        through. The intent waiting for its reply is the sink's own: rooms run side by side,
        and one room's intent must not be recorded with another's reply."""
        intent: list[str | None] = [None]

        def tee(event: Event) -> None:
            if isinstance(event, IntentMatched):
                intent[0] = event.intent
            elif isinstance(event, Reply):
                self.record(intent[0], event.handled_by, event.left_device)
                intent[0] = None
            sink(event)

        return tee

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
