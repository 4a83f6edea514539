"""A request for one kind of device said in a room that has none of that kind.

"start the vacuum" in the parlour, where no vacuum lives: the home's only vacuum is the
one meant (:meth:`IntentHandlers.targets` already takes it); with several, the person is
asked which, never all of them and never "I couldn't find one" while the home has some.
Which kinds an intent is about is the registry's (each service names its intent).
"""

from __future__ import annotations

from typing import Any

from assistant.home.base import HomeBackend
from assistant.understand.registry import Registry
from assistant.understand.result import Decision

MAX_CHOICES = 4
"""More than this is no question one can answer by ear."""


def intent_domains(registry: Registry, intent: str) -> set[str]:
    """The kinds of device whose services carry out ``intent``."""
    return {name for name, domain in registry.domains.items()
            if any(s.intent == intent for s in domain.services.values())}


def ask_which(home: HomeBackend, registry: Registry, intent: str, slots: dict[str, Any],
              area: str | None) -> Decision | None:
    """"Which vacuum — Henry or Upstairs Bot?" when ``intent`` is about one kind, nothing
    of it is in the speaker's room and the home has a few elsewhere; None otherwise."""
    if slots.get("name") or slots.get("scope") == "home" or slots.get("area") not in (None, area):
        return None  # a device or a room was named: "not found" is the true answer
    said = {str(d) for d in (slots["domain"] if isinstance(slots.get("domain"), list)
                             else [slots["domain"]])} if slots.get("domain") else set()
    domains = said or intent_domains(registry, intent)
    if len(domains) != 1:
        return None  # "turn on" is about every kind: the room's own devices or nothing
    classes = slots.get("device_class")
    found = [e for e in home.entities() if e.domain in domains
             and (not classes or e.device_class in (classes if isinstance(classes, list) else [classes]))]
    if not 2 <= len(found) <= MAX_CHOICES:
        return None
    noun = next(iter(domains)).replace("_", " ")
    names = [e.name for e in found]
    if len(set(names)) < len(names):  # the same name in several rooms: say the rooms
        names = [f"the {e.name} in the {home.area(e.area).name}" if e.area else e.name for e in found]
    options = tuple({"intent": intent, "slots": {**slots, "name": e.entity_id}, "label": e.name,
                     "source": "templates"} for e in found)
    return Decision("clarify", f"Which {noun} — " + ", ".join(names[:-1]) + f" or {names[-1]}?",
                    intent=intent, slots=dict(slots), candidates=options, expects_reply=True,
                    reason=f"no {noun} here; {len(found)} in the home: asking which")


def ask_one(home: HomeBackend, intent: str, slots: dict[str, Any], noun: str) -> Decision:
    """"Which lamp — the Desk Lamp or the Floor Lamp?": a singular said of several."""
    found = [home.entity(i) for i in (slots["name"] if isinstance(slots["name"], list) else [slots["name"]])]
    if len(found) > MAX_CHOICES:
        return Decision("clarify", f"There are {len(found)} of those; which {noun} do you mean?",
                        intent=intent, slots=dict(slots), expects_reply=True,
                        reason=f"'the {noun}' fits {len(found)} devices: asking which")
    base = {k: v for k, v in slots.items() if k not in ("name", "one_of")}
    names = [e.name for e in found]
    if len(set(names)) < len(names):  # the same name in several rooms: say the rooms
        names = [f"the {e.name} in the {home.area(e.area).name}" if e.area else e.name for e in found]
    options = tuple({"intent": intent, "slots": {**base, "name": e.entity_id}, "label": label,
                     "source": "templates"} for e, label in zip(found, names, strict=True))
    return Decision("clarify", f"Which {noun} — " + ", ".join(names[:-1]) + f" or {names[-1]}?",
                    intent=intent, slots=base, candidates=options, expects_reply=True,
                    reason=f"'the {noun}' fits {len(found)} devices: asking which")
