"""The short conversation memory between turns, and the follow-ups it resolves.

What a turn leaves behind — actions waiting for a spoken yes, what it acted on, the
other devices it could have meant, a question it asked — is kept in SQLite under
``settings.data_dir`` so two successive ``hearth ask`` processes share it
(``hearth ask "unlock the front door"`` then ``hearth ask yes``). Everything in it
expires after a short window; a stale memory is never acted on.

Follow-ups resolved against the last turn:

* "turn it off", "switch them on"  -> the last devices;
* "a bit brighter", "dimmer", "louder", "warmer" -> a step on the last devices;
* "and the bedroom too", "the kitchen as well" -> the last request, somewhere else;
* "no, the other one" -> undo the last change and do it to the other candidate;
* "the kitchen one" after "Which light — Kitchen Light or Bedroom Light?" -> that one.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.home.base import Entity, EntityState, HomeBackend
from assistant.understand.candidates import CommandSpace, words
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


# --- follow-ups ----------------------------------------------------------------------

@dataclass(frozen=True)
class Resolved:
    """A follow-up turned into an ordinary request (plus any undo of the last one)."""

    intent: str
    slots: dict[str, Any]
    reason: str
    undo: tuple[Action, ...] = ()


_LEAD = re.compile(r"^(?:(?:and|also|now|ok|okay|oh|then|please|so|um|uh)[, ]+)+")
_TAIL = re.compile(r"(?:[, ]+(?:too|as well|also|please|thanks|thank you))+$")
_OTHER = re.compile(r"\b(?:the other (?:one|light|lamp|plug|fan|one please)|"
                    r"not (?:that|this) one|wrong (?:one|light|lamp)|i meant the other)\b")
_STEP = re.compile(r"^(?:turn (?:it|them) |make (?:it|them) |a )?"
                   r"(?:(a (?:bit|little)|bit|little|slightly|much|a lot|even) )?(?:more )?"
                   r"(brighter|dimmer|darker|lighter|warmer|cooler|colder|hotter|louder|quieter|"
                   r"softer|up|down|more|less)(?: (?:please|again))?$")
_PRONOUN = re.compile(r"\b(?:it|them|that|those|this)\b")
_ORDINAL = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "last": -1}
_ANY_KIND = frozenset({"HassTurnOn", "HassTurnOff"})
"""Requests that mean the same for every kind of device (the others are one kind's)."""
_BOTH = re.compile(r"^(?:both|all(?: of them)?|each|every one|both of them)$")


def _clean(text: str) -> str:
    t = " ".join(words(text))
    t = _LEAD.sub("", t)
    return _TAIL.sub("", t).strip()


class FollowUps:
    """Resolve elliptical requests against the memory of the last turn."""

    def __init__(self, home: HomeBackend, space: CommandSpace,
                 match: Callable[[str, str | None], tuple[str, dict[str, Any]] | None]) -> None:
        self.home = home
        self.space = space
        self._match = match
        """The template matcher: text, area -> (intent, slots) or None."""

    # answers to "Which light — Kitchen Light or Bedroom Light?"
    def answer(self, text: str, memory: Memory) -> Resolved | None:
        options = memory.question
        if not options:
            return None
        said = _clean(text)
        toks = said.split()
        if options[0].get("needs") == "color":  # "Which colour would you like?" -> "blue"
            found = self.space.retrieve(said)
            if found.colour is None:
                return None
            o = options[0]
            return Resolved(str(o["intent"]), {**o["slots"], "color": found.colour},
                            f"answered: {found.colour}")
        if _BOTH.match(said):
            names = [n for o in options for n in _as_list(o["slots"].get("name"))]
            if names and all("name" in o["slots"] for o in options):
                first = options[0]
                return Resolved(str(first["intent"]), {**first["slots"], "name": names},
                                "answered the question: all of them")
        for word, idx in _ORDINAL.items():
            if word in toks and -len(options) <= idx < len(options):
                o = options[idx]
                return Resolved(str(o["intent"]), dict(o["slots"]), f"answered: {o.get('label')}")
        best: tuple[int, dict[str, Any]] | None = None
        said_set = set(toks)
        for o in options:
            label_words = set(words(str(o.get("label", "")))) - {"the", "in", "light", "lights"}
            for eid in _as_list(o["slots"].get("name")):
                try:
                    ent = self.home.entity(eid)
                except Exception:
                    continue
                label_words |= {w for n in ent.names for w in words(n)} - {"the", "light", "lights"}
            area = o["slots"].get("area")
            if area:
                label_words |= set(words(self.home.area(str(area)).name))
            overlap = len(said_set & label_words)
            if overlap and (best is None or overlap > best[0]):
                best = (overlap, o)
        if best is None:
            return None
        o = best[1]
        return Resolved(str(o["intent"]), dict(o["slots"]), f"answered: {o.get('label')}")

    def resolve(self, text: str, memory: Memory, area: str | None) -> Resolved | None:
        if not memory.last_entities or not memory.last_intent:
            return None
        said = _clean(text)
        if not said:
            return None
        found = self.space.retrieve(said)
        last = [e for e in (self._entity(i) for i in memory.last_entities) if e is not None]
        if not last:
            return None
        if _OTHER.search(said):
            return self._other(memory, last)
        step = _STEP.match(said)
        if step and not (found.entities or found.areas):
            return self._step(step.group(1) or "", step.group(2), memory, last)
        if _PRONOUN.search(said) and not (found.entities or found.areas or found.things):
            return self._pronoun(said, memory, last, area)
        if (found.entities or found.areas) and self._is_elliptical(text, said, found):
            return self._elsewhere(memory, last, found)
        return None

    def _entity(self, entity_id: str) -> Entity | None:
        try:
            return self.home.entity(entity_id)
        except Exception:
            return None

    @staticmethod
    def _is_elliptical(text: str, said: str, found: Any) -> bool:
        """'and the bedroom too' / 'the kitchen as well' / 'also in the hall': no verb."""
        raw = " ".join(words(text))
        marked = bool(re.match(r"^(?:and|also|what about|how about)\b", raw)) or bool(
            re.search(r"\b(?:too|as well|also)$", raw))
        leftover = set(said.split()) - {"the", "in", "one", "a", "my", "of"}  # "X on" is no ellipsis
        for e in found.entities:
            leftover -= {w for n in e.names for w in words(n)}
        for a in found.areas:
            leftover -= set(words(a.replace("_", " ")))
            leftover -= {w for n in _area_names(found, a) for w in words(n)}
        return marked or not leftover

    def _pronoun(self, said: str, memory: Memory, last: list[Entity], area: str | None) -> Resolved | None:
        name = last[0].name
        substituted = _PRONOUN.sub(f"the {name}", said, count=1)
        matched = self._match(substituted, area)
        if matched is None:
            return None
        intent, slots = matched
        if _as_list(slots.get("name")) == [last[0].entity_id] and len(last) > 1:
            slots = {**slots, "name": [e.entity_id for e in last]}
        return Resolved(intent, slots, f"'{_PRONOUN.search(said).group(0)}' = "  # type: ignore[union-attr]
                        + ", ".join(e.name for e in last))

    def _step(self, amount: str, word: str, memory: Memory, last: list[Entity]) -> Resolved | None:
        domain = last[0].domain
        names = [e.entity_id for e in last if e.domain == domain]
        amount = {"bit": "a bit", "little": "a little", "even": ""}.get(amount, amount)
        if word in ("more", "less"):
            if memory.last_intent not in ("HearthLightStep", "HassSetVolumeRelative",
                                          "HearthClimateStep"):
                return None
            prev = str(memory.last_slots.get("step", memory.last_slots.get("volume_step", "up")))
            up = (prev == "up") == (word == "more")
        else:
            up = word in ("brighter", "lighter", "warmer", "hotter", "louder", "up")
        if domain == "light":
            slots: dict[str, Any] = {"name": names, "step": "up" if up else "down"}
            if amount:
                slots["amount"] = amount
            return Resolved("HearthLightStep", slots, "a step on the last light")
        if domain == "media_player":
            return Resolved("HassSetVolumeRelative", {"name": names, "volume_step": "up" if up else "down"},
                            "a step on the last speaker")
        if domain == "climate":
            return Resolved("HearthClimateStep", {"name": names, "step": "up" if up else "down"},
                            "a step on the last thermostat")
        return None

    def _elsewhere(self, memory: Memory, last: list[Entity], found: Any) -> Resolved | None:
        assert memory.last_intent is not None
        keep = {k: v for k, v in memory.last_slots.items()
                if k not in ("name", "area", "scope", "domain", "device_class")}
        domain = last[0].domain
        if found.entities:
            ents = [e for e in found.entities if e.domain == domain]
            if not ents and memory.last_intent in _ANY_KIND:
                ents = found.entities  # "turn on the lamp" ... "and the fan": on/off fits any kind
            if not ents:
                return None  # "bedtime" after a thermostat change: not the same request
            return Resolved(memory.last_intent, {**keep, "name": [e.entity_id for e in ents]},
                            "the last request, for " + ", ".join(e.name for e in ents))
        slots = {**keep, "area": found.areas[0], "domain": domain}
        return Resolved(memory.last_intent, slots, f"the last request, in {found.areas[0]}")

    def _other(self, memory: Memory, last: list[Entity]) -> Resolved | None:
        if not memory.alternatives:
            return None
        alt = memory.alternatives[0]
        undo = tuple(a for e in last for a in restore_actions(e, memory.before.get(e.entity_id)))
        return Resolved(str(alt["intent"]), dict(alt["slots"]),
                        f"the other one: {alt.get('label')} (undoing the last change)", undo)


def _area_names(found: Any, area_id: str) -> list[str]:
    return [area_id.replace("_", " ")]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]


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
        names = _as_list(slots.get("name"))
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
