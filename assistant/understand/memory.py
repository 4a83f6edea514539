"""What a turn leaves behind for the next, kept in SQLite so processes share it.

Actions waiting for a spoken yes, what the turn acted on and how those devices were
before, the other devices it could have meant, a question it asked — under
``settings.data_dir``, so two successive ``hearth ask`` processes share them
(``hearth ask "unlock the front door"`` then ``hearth ask yes``). Everything expires after
a short window; a stale memory is never acted on. :mod:`context` resolves follow-ups
against it.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.home.base import Entity, EntityState, HomeBackend
from assistant.understand.result import Action, Decision

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS memory (
    key TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    updated REAL NOT NULL
)
"""


@dataclass
class Memory:
    """What the last turns left open. Times are wall-clock seconds (shared by processes)."""

    pending: list[dict[str, Any]] = field(default_factory=list)
    """Actions waiting for a spoken yes (``Action.as_dict()``)."""
    pending_at: float = 0.0
    last_intent: str | None = None
    last_slots: dict[str, Any] = field(default_factory=dict)
    last_entities: list[str] = field(default_factory=list)
    last_area: str | None = None
    last_at: float = 0.0
    alternatives: list[dict[str, Any]] = field(default_factory=list)
    """Other ways to read the last request: ``{intent, slots, label}``."""
    before: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The last devices' states before the last change: ``{state, attributes}``."""
    question: list[dict[str, Any]] = field(default_factory=list)
    """The options of a clarifying question waiting for an answer."""
    question_at: float = 0.0
    turn_area: str | None = None
    """Where the last turn was said: a turn said elsewhere continues nothing of it."""

    def said_in(self, area: str | None) -> Memory:
        """This memory for a turn said in ``area``: another room's last turn leaves it nothing
        (no "turn it off" on the kitchen's light from the bedroom, no "yes" to its question)."""
        return self if area == self.turn_area else Memory(turn_area=area)

    def pending_actions(self) -> tuple[Action, ...]:
        return tuple(Action(a["service"], a["entity_id"], dict(a.get("data") or {}))
                     for a in self.pending)


class ConversationMemory:
    """One conversation's memory in SQLite (``path=None``: in memory, for tests/benches)."""

    def __init__(self, path: Path | None = None, *, key: str = "default",
                 follow_up_s: float = 20.0, confirm_s: float = 15.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.key = key
        self.follow_up_s = follow_up_s
        self.confirm_s = confirm_s
        self.clock = clock
        self._lock = threading.Lock()
        self._fallback: dict[str, Memory] = {}
        """By key, when SQLite is unavailable."""
        self._db: sqlite3.Connection | None = None
        try:
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path) if path else ":memory:", timeout=5,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            log.warning("conversation memory unavailable (%s); keeping it in this process", exc)
            self._db = None

    def load(self, key: str | None = None) -> Memory:
        """``key``'s memory (default: this object's ``key``), with whatever has expired dropped."""
        with self._lock:
            data: dict[str, Any] | None = None
            if self._db is not None:
                try:
                    row = self._db.execute("SELECT data FROM memory WHERE key = ?",
                                           (key or self.key,)).fetchone()
                    data = json.loads(row[0]) if row else None
                except (sqlite3.Error, json.JSONDecodeError) as exc:
                    log.warning("conversation memory unreadable (%s); starting afresh", exc)
            elif (kept := self._fallback.get(key or self.key)) is not None:
                data = asdict(kept)
        try:
            memory = Memory(**data) if data else Memory()
        except TypeError:
            memory = Memory()
        return self._expire(memory)

    def _expire(self, m: Memory) -> Memory:
        now = self.clock()
        if m.pending and not 0 <= now - m.pending_at <= self.confirm_s:
            m.pending, m.pending_at = [], 0.0
        if m.question and not 0 <= now - m.question_at <= self.confirm_s:
            m.question, m.question_at = [], 0.0
        if m.last_at and not 0 <= now - m.last_at <= self.follow_up_s:
            m.last_intent, m.last_slots, m.last_entities = None, {}, []
            m.alternatives, m.before, m.last_at = [], {}, 0.0
        return m

    def save(self, memory: Memory, key: str | None = None) -> None:
        with self._lock:
            if self._db is None:
                self._fallback[key or self.key] = memory
                return
            try:
                with self._db:
                    self._db.execute("INSERT OR REPLACE INTO memory VALUES (?, ?, ?)",
                                     (key or self.key, json.dumps(asdict(memory)), self.clock()))
            except sqlite3.Error as exc:
                log.warning("conversation memory not saved (%s)", exc)
                self._fallback[key or self.key] = memory

    def clear(self, key: str | None = None) -> None:
        self.save(Memory(), key)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def restore_actions(entity: Entity, before: dict[str, Any] | None) -> list[Action]:
    """Service calls that put a device back the way it was (on/off, brightness, colour)."""
    if not before:
        return []
    state = str(before.get("state"))
    attrs = dict(before.get("attributes") or {})
    d = entity.domain
    if d in ("light", "switch", "fan"):
        if state == "off":
            return [Action(f"{d}.turn_off", entity.entity_id)]
        data: dict[str, Any] = {}
        if d == "light":
            if "dimmable" in entity.features and "brightness_pct" in attrs:
                data["brightness_pct"] = attrs["brightness_pct"]
            if "color" in entity.features and "rgb_color" in attrs:
                data["rgb_color"] = list(attrs["rgb_color"])
        return [Action(f"{d}.turn_on", entity.entity_id, data)]
    if d == "cover" and "current_position" in attrs and "position" in entity.features:
        return [Action("cover.set_cover_position", entity.entity_id,
                       {"position": int(attrs["current_position"])})]
    return []


def alternatives_for(decision: Decision, home: HomeBackend, acted: Sequence[str]) -> list[dict[str, Any]]:
    """Other devices the last request could have meant, best first."""
    out: list[dict[str, Any]] = []
    for c in decision.candidates:
        slots = c.get("slots") or {}
        names = as_list(slots.get("name"))
        if c.get("intent") == decision.intent and names and not set(names) & set(acted):
            out.append({"intent": c["intent"], "slots": dict(slots),
                        "label": c.get("label") or c.get("phrase")})
    if out or len(acted) != 1 or not decision.intent:
        return out[:4]
    try:
        ent = home.entity(acted[0])
    except Exception:
        return []
    same = [e for e in home.entities() if e.domain == ent.domain and e.entity_id != ent.entity_id]
    near = [e for e in same if e.area == ent.area] or same
    base = {k: v for k, v in decision.slots.items() if k not in ("name", "area", "domain", "scope")}
    return [{"intent": decision.intent, "slots": {**base, "name": e.entity_id}, "label": e.name}
            for e in near[:4]]


def snapshot(home: HomeBackend, entity_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for eid in entity_ids:
        try:
            st: EntityState = home.get_state(eid)
        except Exception:
            continue
        out[eid] = {"state": st.state, "attributes": dict(st.attributes)}
    return out


def as_list(value: Any) -> list[str]:
    """A slot's value as a list of strings (one name, or several)."""
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
