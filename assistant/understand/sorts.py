"""A sort of device said by its own word: "the lamp", "the speaker", "the lamps".

Home Assistant's sentences read "turn off the lamp" as every light of the area. A person
who has a Desk Lamp and a Ceiling Light means the lamp: when a device noun that is not
the kind's own name ("light", "lights") is a word of some of the targeted devices' names,
those devices are the ones meant. The plural means all of them; the singular with several
is a question ("Which lamp — ...?"). "The lights" stays every light of the area.
"""

from __future__ import annotations

from typing import Any

from assistant.home.base import Entity
from assistant.understand.vocabulary import Vocabulary

ONE_OF = "one_of"
"""Slot set when a singular sort noun fits several devices: ask which."""


def _words(text: str) -> list[str]:
    return "".join(c if c.isalnum() or c == "'" else " " for c in text.lower()).split()


def narrow(slots: dict[str, Any], text: str, entities: list[Entity], vocab: Vocabulary) -> dict[str, Any]:
    """``slots`` with ``name`` set to the devices the sort noun said names, if it names some."""
    domain = slots.get("domain")
    if slots.get("name") or not isinstance(domain, str) or slots.get("device_class"):
        return slots
    said = _words(text)
    nouns = [w for w in said if w in vocab.device_nouns and vocab.domain_words.get(w) == domain
             and w.rstrip("s") != domain]
    if len(nouns) != 1:
        return slots  # none, or "the lamps and the lights": the sentence's own reading
    noun = nouns[0]
    plural = noun.endswith("s") and noun[:-1] in vocab.device_nouns
    stem = noun[:-1] if plural else noun
    where = slots.get("area") if slots.get("scope") != "home" else None
    found = [e for e in entities if e.domain == domain and (where is None or e.area == where)
             and any(stem in (w, w.rstrip("s")) for n in e.names for w in _words(n))]
    if not found:
        return slots
    out = {**slots, "name": [e.entity_id for e in found]}
    if not plural and len(found) > 1:
        out[ONE_OF] = stem
    return out


def same_name(slots: dict[str, Any], said_name: str, entities: list[Entity],
              area: str | None) -> dict[str, Any]:
    """A name several devices share ("Bedside Lamp" in two rooms): the one in the room said
    or the speaker's room; else every one of them, to ask which (never one at random)."""
    if not isinstance(slots.get("name"), str) or not said_name:
        return slots
    key = said_name.strip().lower()
    chosen_one = next((e for e in entities if e.entity_id == slots["name"]), None)
    if chosen_one is None:
        return slots
    # of the same kind and class: the sentence's own context chose those ("the phone" that
    # is charging is the battery sensor, not the phone's other sensors)
    alike = [e for e in entities if any(n.lower() == key for n in e.names)
             and e.domain == chosen_one.domain and e.device_class == chosen_one.device_class]
    if len(alike) < 2:
        return slots
    where = slots.get("area") or area
    here = [e for e in alike if e.area == where]
    if len(here) == 1:
        return {**slots, "name": here[0].entity_id}
    chosen = here or alike
    return {**slots, "name": [e.entity_id for e in chosen], ONE_OF: key}
