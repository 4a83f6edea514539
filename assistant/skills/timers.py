"""Timers and alarms that survive restarts and ring until someone answers.

Kept in SQLite (<data_dir>/skills/timers.sqlite) with wall-clock due times, so a timer
set by ``hearth ask`` in one process rings in the daemon, and one that fell due while
the box was off rings as soon as it is back. A ticker thread polls the table; a due
timer becomes "ringing" and is announced, then announced again every
``ring_every_s`` until acknowledged ("stop", "okay") or ``max_rings`` is reached,
after which it is kept as "done" so the next status question can mention it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from assistant.errors import SkillError
from assistant.skills.api import TimerInfo

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS timers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL,
    name TEXT,
    kind TEXT NOT NULL DEFAULT 'timer',
    duration_s REAL NOT NULL,
    due REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'running',
    message TEXT NOT NULL,
    rings INTEGER NOT NULL DEFAULT 0,
    last_ring REAL NOT NULL DEFAULT 0,
    area TEXT
)
"""

Ring = Callable[[TimerInfo, str], None]
"""Called with the timer and the sentence to speak each time it rings."""


def _row(r: tuple[Any, ...]) -> TimerInfo:
    return TimerInfo(id=int(r[0]), owner=str(r[1]), name=r[2], kind=r[3], duration_s=float(r[4]),
                     due=float(r[5]), state=r[6], message=str(r[7]), rings=int(r[8]), area=r[9])


_COLS = "id, owner, name, kind, duration_s, due, state, message, rings, area"


def describe_duration(seconds: float) -> str:
    """"5 minutes", "1 hour and 30 minutes", "45 seconds" (rounded to what matters)."""
    s = round(seconds)
    if s < 60:
        return f"{s} second{'s' if s != 1 else ''}"
    hours, rest = divmod(s, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    if secs and not hours and minutes < 10:
        parts.append(f"{secs} second{'s' if secs != 1 else ''}")
    return " and ".join(parts) if parts else "0 seconds"


class TimerService:
    """All skills' timers in one table; each skill gets an :class:`OwnerTimers` view."""

    def __init__(self, path: Path, *, on_ring: Ring, ring_every_s: float = 20.0,
                 max_rings: int = 6, clock: Callable[[], float] = time.time,
                 tick_s: float = 0.25) -> None:
        self.path = path
        self.on_ring = on_ring
        self.ring_every_s = ring_every_s
        self.max_rings = max_rings
        self.clock = clock
        self.tick_s = tick_s
        self._lock = threading.RLock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=10,
                                       isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(timers)")}
            if "area" not in columns:  # a store from before timers knew their room
                self._db.execute("ALTER TABLE timers ADD COLUMN area TEXT")
        except (OSError, sqlite3.Error) as exc:
            raise SkillError(f"cannot open the timer store {path}: {exc}",
                             code="timers_unavailable") from None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        """Ring in the background (the voice loop and the daemon; ``hearth ask`` does not)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="hearth-timers", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        with self._lock:
            self._db.close()

    def _run(self) -> None:
        while not self._stop.wait(self.tick_s):
            try:
                self.tick()
            except Exception:  # the ticker must outlive one bad tick
                log.warning("timer tick failed", exc_info=True)

    # --- the clock work ------------------------------------------------------------

    def tick(self) -> list[TimerInfo]:
        """Ring what is due and repeat what is unanswered; returns the timers that rang."""
        now = self.clock()
        rang: list[tuple[TimerInfo, str]] = []
        with self._lock:
            for r in self._db.execute(f"SELECT {_COLS} FROM timers WHERE state = 'running' AND due <= ?",
                                      (now,)).fetchall():
                t = _row(r)
                self._db.execute("UPDATE timers SET state = 'ringing', rings = 1, last_ring = ? WHERE id = ?",
                                 (now, t.id))
                rang.append((replace(t, state="ringing", rings=1), self._ring_text(t, now)))
            for r in self._db.execute(
                    f"SELECT {_COLS} FROM timers WHERE state = 'ringing' AND last_ring + ? <= ?",
                    (self.ring_every_s, now)).fetchall():
                t = _row(r)
                if t.rings >= self.max_rings:
                    self._db.execute("UPDATE timers SET state = 'done' WHERE id = ?", (t.id,))
                    continue
                self._db.execute("UPDATE timers SET rings = rings + 1, last_ring = ? WHERE id = ?",
                                 (now, t.id))
                rang.append((replace(t, rings=t.rings + 1), self._ring_text(t, now)))
        for timer, text in rang:
            self.on_ring(timer, text)
        return [t for t, _ in rang]

    @staticmethod
    def _ring_text(t: TimerInfo, now: float) -> str:
        late = now - t.due
        if late >= 90:
            return f"{t.message} It went off {describe_duration(late)} ago."
        return t.message

    # --- queries (all owners) ----------------------------------------------------

    def all(self, owner: str | None = None) -> list[TimerInfo]:
        with self._lock:
            if owner is None:
                rows = self._db.execute(f"SELECT {_COLS} FROM timers ORDER BY due").fetchall()
            else:
                rows = self._db.execute(f"SELECT {_COLS} FROM timers WHERE owner = ? ORDER BY due",
                                        (owner,)).fetchall()
        return [_row(r) for r in rows]

    def ringing(self) -> list[TimerInfo]:
        return [t for t in self.all() if t.state == "ringing"]

    def acknowledge(self, owner: str | None = None, timer_id: int | None = None) -> list[TimerInfo]:
        """Stop ringing (and forget) the ringing or finished timers (of ``owner``, or one)."""
        done = [t for t in self.all(owner) if t.state in ("ringing", "done")
                and (timer_id is None or t.id == timer_id)]
        with self._lock:
            for t in done:
                self._db.execute("DELETE FROM timers WHERE id = ?", (t.id,))
        return done

    def for_owner(self, owner: str, area: str | None = None) -> OwnerTimers:
        """``owner``'s timers; new ones remember ``area`` (where to ring, with satellites)."""
        return OwnerTimers(self, owner, area)


class OwnerTimers:
    """One skill's timers (implements :class:`assistant.skills.api.Timers`)."""

    def __init__(self, service: TimerService, owner: str, area: str | None = None) -> None:
        self._service = service
        self._owner = owner
        self._area = area

    def now(self) -> float:
        return self._service.clock()

    def start(self, seconds: float, *, name: str | None = None, message: str | None = None,
              kind: Literal["timer", "alarm"] = "timer") -> TimerInfo:
        if not 0 < seconds <= 7 * 24 * 3600:
            raise SkillError(f"a timer must be between 1 second and a week, not {seconds:g} s",
                             code="timer_invalid")
        now = self.now()
        label = f"{name} timer" if name else f"{describe_duration(seconds)} timer"
        text = message or f"Your {label} is done."
        s = self._service
        with s._lock:
            cur = s._db.execute(
                "INSERT INTO timers (owner, name, kind, duration_s, due, message, area) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self._owner, name, kind, float(seconds), now + seconds, text, self._area))
            timer_id = int(cur.lastrowid or 0)
        return TimerInfo(timer_id, self._owner, name, kind, float(seconds), now + seconds, "running", text,
                         area=self._area)

    def all(self) -> list[TimerInfo]:
        return self._service.all(self._owner)

    def cancel(self, timer_id: int) -> bool:
        s = self._service
        with s._lock:
            cur = s._db.execute("DELETE FROM timers WHERE id = ? AND owner = ?", (timer_id, self._owner))
            return cur.rowcount > 0

    def adjust(self, timer_id: int, delta_s: float) -> TimerInfo | None:
        s = self._service
        with s._lock:
            s._db.execute("UPDATE timers SET due = MAX(?, due + ?), duration_s = duration_s + ? "
                          "WHERE id = ? AND owner = ? AND state = 'running'",
                          (self.now(), delta_s, delta_s, timer_id, self._owner))
            row = s._db.execute(f"SELECT {_COLS} FROM timers WHERE id = ? AND owner = ?",
                                (timer_id, self._owner)).fetchone()
        return _row(row) if row is not None else None

    def acknowledge(self, timer_id: int | None = None) -> list[TimerInfo]:
        return self._service.acknowledge(self._owner, timer_id)
