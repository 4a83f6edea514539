"""The follow-ups a turn resolves against what the last one left (:mod:`memory`):

* "turn it off", "switch them on"  -> the last devices;
* "a bit brighter", "dimmer", "louder", "warmer" -> a step on the last devices;
* "and the bedroom too", "the kitchen as well" -> the last request, somewhere else;
* "no, the other one" -> undo the last change and do it to the other candidate;
* "the kitchen one" after "Which light — Kitchen Light or Bedroom Light?" -> that one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assistant.home.base import Entity, HomeBackend
from assistant.understand.candidates import CommandSpace, words
from assistant.understand.memory import ConversationMemory, Memory, as_list, restore_actions
from assistant.understand.result import Action

__all__ = ["ConversationMemory", "FollowUps", "Memory", "Resolved"]
"""``ConversationMemory`` is kept here too for those who import it from here."""

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
            names = [n for o in options for n in as_list(o["slots"].get("name"))]
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
            for eid in as_list(o["slots"].get("name")):
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
        if as_list(slots.get("name")) == [last[0].entity_id] and len(last) > 1:
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
