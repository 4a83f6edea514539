"""The command space: every valid command for this home, and the few an utterance can mean.

The local LLM never writes a command; it ranks a short list of commands built here,
each one an (intent, slots) pair the intent handlers accept, phrased in plain English
("turn off the lights in the Kitchen"). So whatever the model says, it can only name
exposed entities and services they support, with values the service table accepts —
and an utterance can only reach entities it refers to.

Retrieval is lexical and indexed (entity and area names, a small English lexicon of
device words), so its cost does not grow with the size of the home: the words of the
utterance are looked up, the home is not scanned.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from assistant.home.base import Entity, HomeBackend
from assistant.understand import vocabulary
from assistant.understand.lights import COLORS

VOCABULARY = vocabulary.load("en")
"""The words retrieval reads (data/en/words.yaml); module names below are views of it."""
_P = VOCABULARY.patterns
_LEAD, _TRAIL, _WORD = _P["wake_lead"], _P["wake_trail"], _P["word"]
"""A wake name before the request, or after it ("make me a coffee, olly": only names that
are not also things); and what a word is."""
DOMAIN_WORDS = VOCABULARY.domain_words
THING_WORDS = VOCABULARY.thing_words
WHOLE_HOME, HERE, _HOME_WORDS = _P["whole_home"], _P["here"], _P["home_words"]
_WHERE = _P["where"]
"""'down here', 'up there': where, not which way (not a cue for "down" or "up")."""
_COLOURISH, _PERCENT, _DEGREES, _FULL = _P["colourish"], _P["percent"], _P["degrees"], _P["full"]
_NUMBER_WORDS = VOCABULARY.number_words
_NUMBER_ALT = "|".join(map(re.escape, _NUMBER_WORDS))
_NUMBER_DEGREES = re.compile(rf"\b({_NUMBER_ALT})\s*(?:degrees?|°)")
_TO_NUMBER = re.compile(rf"\bto ((?:\d{{1,2}}(?:\.\d)?)|{_NUMBER_ALT})$")
"""A bare number a thermostat is set to, at the end ("to eighteen")."""
_NUMBER_PERCENT = re.compile(r"\b(" + "|".join(map(re.escape, _NUMBER_WORDS)) + r")\s*(?:%|percent)")


def _number(said: str) -> float:
    """'18' or 'eighteen' -> 18.0."""
    return float(_NUMBER_WORDS[said]) if said in _NUMBER_WORDS else float(said)


def strip_address(text: str) -> str:
    """'Olly, turn on the light' -> 'turn on the light': a wake name left in a transcript."""
    cleaned = _TRAIL.sub("", _LEAD.sub("", text.strip().lower().replace("’", "'")))
    return cleaned if cleaned else text


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


@dataclass(frozen=True)
class Command:
    """One thing the assistant could do: an intent and slots, phrased for the model."""

    phrase: str
    intent: str | None
    """None for the "not a command" choice."""
    slots: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    group: str = ""
    """Which target group it acts on (for spotting "which one?" ambiguities)."""
    action: str = ""
    """What it does regardless of the target ("turn_off"), for the same purpose."""

    def as_candidate(self, score: float) -> dict[str, Any]:
        return {"phrase": self.phrase, "intent": self.intent, "slots": dict(self.slots),
                "score": round(score, 3), "source": "local_llm"}


NOT_A_COMMAND = Command("none", None, group="", action="none")


@dataclass(frozen=True)
class Target:
    """Entities a request can act on, with the phrase that names them and the slots that
    make the intent handlers find exactly them."""

    key: str
    domain: str
    phrase: str
    slots: dict[str, Any] = field(hash=False, compare=False)
    entities: tuple[Entity, ...] = field(hash=False, compare=False)

    def has(self, feature: str) -> bool:
        return any(feature in e.features for e in self.entities)

    @property
    def label(self) -> str:
        """How to name it in a question: 'Kitchen Light', 'the Kitchen'."""
        return self.entities[0].name if len(self.entities) == 1 else self.phrase


DEVICE_NOUNS = VOCABULARY.device_nouns
PLAIN_WORDS = VOCABULARY.plain_words
"""Words that may stand before a device word without naming a device: "the", "smart",
"all", verbs, prepositions and words of state... Any other word there ("closet light",
"bedside lamp", "night light") names a device."""
OTHER_THINGS = VOCABULARY.other_things
"""Things with a brightness, a colour or an on/off that are not the home's devices ("dim the
screen", "turn the phone's brightness up"): a request about them is not for the home."""
_CHANGE_VERBS = VOCABULARY.change_verbs


def said_verb(toks: list[str]) -> bool:
    """Does the request change something ("make it green", "change to blue")?"""
    return bool(_CHANGE_VERBS & set(toks))


def _plain(word: str, known: set[str]) -> bool:
    """A word that, before a device or place word, does not make it another device or place."""
    return (word in DEVICE_NOUNS or word in known or word in PLAIN_WORDS or word in DOMAIN_WORDS
            or word in THING_WORDS or word in COLORS or word.isdigit())


_NOT_PLACES = VOCABULARY.not_places
"""Words after "in" that are not places ("in a bit", "in the evening", "in front of")."""
_AWAY = _P["away"]
"""Places a request may name that are not rooms: unknown unless this home has such an area."""


@dataclass
class Retrieval:
    """What an utterance refers to."""

    text: str
    entities: list[Entity] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    things: list[str] = field(default_factory=list)
    whole_home: bool = False
    here: bool = False
    colour: str | None = None
    percent: int | None = None
    degrees: float | None = None
    unknown: list[str] = field(default_factory=list)
    """Devices named by a word this home does not know ("closet light", "bedside lamp")."""
    partial: list[Entity] = field(default_factory=list)
    """Entities named by one word of their name, not the whole name ("the stove" fan)."""

    @property
    def empty(self) -> bool:
        return not (self.entities or self.domains or self.things)


class CommandSpace:
    """Indexes one home's names; turns an utterance into a short list of commands."""

    def __init__(self, home: HomeBackend) -> None:
        self.home = home
        self.reindex()

    def reindex(self) -> None:
        """Read the home's names again (a device was discovered, renamed or removed)."""
        home = self.home
        self.entities = [e for e in home.entities() if _controllable(e)]
        self.areas = {a.id: a for a in home.areas()}
        self._names: dict[tuple[str, ...], list[Entity]] = defaultdict(list)
        for e in self.entities:
            for n in e.names:
                self._names[tuple(words(n))].append(e)
        self._area_names: dict[tuple[str, ...], str] = {}
        for a in home.areas():
            for n in (a.name, *a.aliases):
                self._area_names[tuple(words(n))] = a.id
                joined = n.lower().replace(" ", "")
                if joined != n.lower():
                    self._area_names[(joined,)] = a.id  # "bedroom" / "bed room"
                    self._area_names[tuple(words(n.lower().replace("room", " room")))] = a.id
        self._by_domain_area: dict[tuple[str, str | None], list[Entity]] = defaultdict(list)
        self._by_domain: dict[str, list[Entity]] = defaultdict(list)
        self._by_thing: dict[str, list[Entity]] = defaultdict(list)
        for e in self.entities:
            self._by_domain_area[(e.domain, e.area)].append(e)
            self._by_domain[e.domain].append(e)
            for thing in set(THING_WORDS.values()):
                if any(thing in words(n) for n in e.names):
                    self._by_thing[thing].append(e)
        self._max_name = max((len(k) for k in (*self._names, *self._area_names)), default=1)
        self._known_words = {w for n in (*self._names, *self._area_names) for w in n}
        area_words = {w for n in self._area_names for w in n}
        # A word only some names have ("stove" of "Stove Fan", "pendants" of "Island
        # Pendants") names those devices when the whole name is not said.
        self._name_words: dict[str, list[Entity]] = defaultdict(list)
        for e in self.entities:
            for w in sorted({w for n in e.names for w in words(n)}):
                if w not in area_words and _distinctive(w):
                    self._name_words[w].append(e)

    @property
    def known_words(self) -> set[str]:
        """Every word of the home's entity and area names."""
        return self._known_words

    # --- what the utterance refers to -------------------------------------------------

    def retrieve(self, text: str) -> Retrieval:
        toks = words(text)
        found = Retrieval(text=text)
        used = [False] * len(toks)
        for n in range(min(self._max_name, len(toks)), 0, -1):
            for i in range(len(toks) - n + 1):
                if any(used[i:i + n]):
                    continue
                key = tuple(toks[i:i + n])
                plural = (*key[:-1], key[-1].rstrip("s")) if key[-1].endswith("s") else key
                ents = self._names.get(key) or self._names.get(plural)
                if ents:
                    found.entities.extend(e for e in ents if e not in found.entities)
                    used[i:i + n] = [True] * n
                    continue
                area = self._area_names.get(key)
                if area:
                    if area not in found.areas:
                        found.areas.append(area)
                    used[i:i + n] = [True] * n
        for i, tok in enumerate(toks):
            if used[i]:
                continue
            ents = self._name_words.get(tok) or self._name_words.get(tok.removesuffix("s"))
            if ents:
                found.entities.extend(e for e in ents if e not in found.entities)
                found.partial.extend(e for e in ents if e not in found.partial)
                used[i] = True
        for tok in toks:
            domain = DOMAIN_WORDS.get(tok)
            if domain and domain not in found.domains:
                found.domains.append(domain)
            thing = THING_WORDS.get(tok)
            if thing and thing not in found.things and self._by_thing.get(thing):
                found.things.append(thing)
        if found.partial and found.domains:
            # "the fan by the stove": of the devices a word names, those of the kind said
            kinds = [e for e in found.partial if e.domain in found.domains]
            if kinds:
                found.entities = [e for e in found.entities if e not in found.partial or e in kinds]
        known = self._known_words
        area_starts = {i for i in range(len(toks)) if used[i] and (i == 0 or not used[i - 1])}
        for i, tok in enumerate(toks):
            if not i or used[i - 1]:
                continue
            if tok in DEVICE_NOUNS and not used[i]:
                before = toks[i - 1].removesuffix("'s")  # "the lamp's light": the lamp's own
                if not _plain(before, known):
                    found.unknown.append(f"{before} {tok}")
            elif i in area_starts and not found.entities and toks[i - 1] not in _CUE_WORDS \
                    and not _plain(toks[i - 1], known):
                # "the drawing hall", "the guest bedroom": a place this home does not have
                found.unknown.append(f"{toks[i - 1]} {tok}")
        if not found.entities and not any(t in DEVICE_NOUNS for t in toks):
            found.unknown.extend(t for t in toks if t.removesuffix("'s") in OTHER_THINGS)
        for away in _AWAY.finditer(" ".join(toks)):  # "the lights in my car / in the garden"
            if (away.group(1),) not in self._area_names:
                found.unknown.append(away.group(0))
        for i, tok in enumerate(toks[:-1]):  # "in the nursery", "in the spare room": no such room
            if tok not in ("in", "inside") or used[i + 1]:
                continue
            rest = [t for t in toks[i + 1:i + 4] if t not in ("the", "my", "our", "your", "this")]
            place = rest[0] if rest else ""
            if place and not used[toks.index(place, i + 1)] and not _plain(place, known) \
                    and place not in DEVICE_NOUNS and place not in _NOT_PLACES:
                found.unknown.append(f"in the {place}")
        lowered = " ".join(toks)
        found.here = bool(HERE.search(lowered))
        # "every light of the room": the room says where, not the whole home
        found.whole_home = bool(WHOLE_HOME.search(lowered)) and not (
            found.here and not _HOME_WORDS.search(lowered))
        for i, tok in enumerate(toks):  # the last colour named: "from blue to white" -> white
            pair = " ".join(toks[i - 1:i + 1]) if i else ""
            if pair in COLORS:
                found.colour = pair
            elif tok in COLORS and tok != "black":
                found.colour = tok
        if found.colour and not (found.domains or found.entities or found.things) \
                and said_verb(toks) and all(_plain(t, known) or t in _CHANGE_VERBS or t in
                                            ("it", "everything", "room", "colour", "color")
                                            for t in toks if t not in found.colour.split()):
            found.domains.append("light")  # "make it green in here": only lights have a colour
        m = _PERCENT.search(lowered)
        if m:
            found.percent = max(0, min(100, int(m.group(1))))
        else:
            m2 = _NUMBER_PERCENT.search(lowered)
            if m2:
                found.percent = _NUMBER_WORDS[m2.group(1)]
            elif _FULL.search(lowered) and "light" in found.domains:
                found.percent = 100  # "full brightness", "lights to max"
        d = _DEGREES.search(lowered) or _NUMBER_DEGREES.search(lowered)
        if d:
            found.degrees = _number(d.group(1))
        elif "climate" in found.domains or any(e.domain == "climate" for e in found.entities):
            to = _TO_NUMBER.search(lowered)  # "radiators to eighteen", "set the air con to 21"
            if to and found.percent is None:
                found.degrees = _number(to.group(1))
        return found

    # --- which entities ----------------------------------------------------------------

    def targets(self, found: Retrieval, area: str | None) -> list[Target]:
        """The groups of entities the utterance can mean, most specific first."""
        out: list[Target] = []
        named = [e for e in found.entities if not found.areas or e.area in found.areas
                 or len(found.entities) == 1]
        here = [e for e in named if e.area == area]
        if not found.areas and here and len({e.area for e in named}) > 1:
            # the same name in several rooms: the one in the speaker's room
            named = here
        if named:
            by_domain: dict[str, list[Entity]] = defaultdict(list)
            for e in named:
                by_domain[e.domain].append(e)
            for ents in by_domain.values():
                if len(ents) > 1 and len({e.area for e in ents}) > 1 and not found.areas:
                    out.extend(self._entity_target(e) for e in ents)  # ambiguous: one each
                else:
                    out.append(self._group_target(ents))
        for thing in found.things:
            every = self._by_thing[thing]
            ents = [e for e in every if e.area in found.areas] or every if found.areas else \
                [e for e in every if e.area == area] or every  # "the tv": the one here
            said = set(words(found.text)) - {thing}  # ... or one more of whose name was said
            ents += [e for e in every if e not in ents and said & {w for n in e.names for w in words(n)}]
            ents = [e for e in ents if e not in named]  # not another room's as well as this one
            if ents:
                out.extend(self._entity_target(e) for e in ents)
        domains = [d for d in found.domains if not any(t.domain == d for t in out)]
        for domain in domains:
            out.extend(self._domain_targets(domain, found, area))
        return out

    def _entity_target(self, e: Entity) -> Target:
        return Target(e.entity_id, e.domain, f"the {e.name}", {"name": e.entity_id}, (e,))

    def _group_target(self, ents: list[Entity]) -> Target:
        if len(ents) == 1:
            return self._entity_target(ents[0])
        names = " and ".join(f"the {e.name}" for e in ents)
        return Target("+".join(e.entity_id for e in ents), ents[0].domain, names,
                      {"name": [e.entity_id for e in ents]}, tuple(ents))

    def _domain_targets(self, domain: str, found: Retrieval, area: str | None) -> list[Target]:
        plain = domain.replace("_", " ")
        noun = _NOUNS.get(domain, (plain, plain + "s"))
        pool = _narrow(self._by_domain.get(domain, []), found.text)
        said = _said_before(found.text, domain)

        def at(where: str | None) -> list[Entity]:
            ents = [e for e in pool if e.area == where] if where else []
            return _named_by(ents, said) or ents  # "the ceiling light in Mia's room": that one

        if domain == "switch":
            # A plug is known by what is plugged into it: "the smart plug" -> ask which.
            ents = [e for a in found.areas for e in at(a)] if found.areas else pool
            return [self._entity_target(e) for e in ents][:6]
        if domain == "vacuum":
            # "clean the kitchen": the place says where to clean, and which vacuum only when one
            # is there; never all of them at once (one "start the vacuum" is one vacuum)
            if len(pool) <= 1:
                return [self._entity_target(e) for e in pool]
            for where in (*found.areas, area):
                if at(where):
                    return [self._entity_target(e) for e in at(where)]
            return [self._entity_target(e) for e in pool][:6]
        if found.areas:
            return [self._area_target(domain, a, noun, at(a)) for a in found.areas if at(a)]
        if found.whole_home and domain in ("light", "switch", "fan", "cover"):
            if pool:
                return [Target(f"{domain}@home", domain, f"all the {noun[1]}",
                               {"domain": domain, "scope": "home"}, tuple(pool))]
            return []
        if area and at(area):  # "the lights" said here: the ones here, phrased as said
            return [self._area_target(domain, area, noun, at(area), here=True)]
        if domain == "climate" or len(pool) == 1:
            return [self._group_target(pool[:1])] if pool else []
        # Nothing of that kind here: one target per area that has one ("which one?").
        areas = sorted({e.area for e in pool if e.area}, key=str)
        return [self._area_target(domain, a, noun, at(a)) for a in areas][:6]

    def _area_target(self, domain: str, area: str, noun: tuple[str, str], ents: list[Entity], *,
                     here: bool = False) -> Target:
        name = self.areas[area].name
        if len(ents) == 1:
            e = ents[0]
            return Target(e.entity_id, domain, f"the {e.name}", {"name": e.entity_id}, (e,))
        phrase = f"the {noun[1]}" if here else f"the {noun[1]} in the {name}"
        if len(ents) < len(self._by_domain_area[(domain, area)]):  # some of that kind there
            return Target("+".join(e.entity_id for e in ents), domain, phrase,
                          {"name": [e.entity_id for e in ents]}, tuple(ents))
        return Target(f"{domain}@{area}", domain, phrase, {"area": area, "domain": domain}, tuple(ents))

    def _level(self, entity: Entity, attribute: str) -> int:
        """An entity's level now (a fan's percentage; 0 while it is off)."""
        state = self.home.get_state(entity.entity_id)
        return 0 if state.state == "off" else int(state.attributes.get(attribute, 50))

    # --- what can be done to them ------------------------------------------------------

    def commands(self, found: Retrieval, targets: Iterable[Target]) -> list[Command]:
        out: list[Command] = []
        for t in targets:
            out.extend(self._actions(found, t))
        return out

    def _actions(self, found: Retrieval, t: Target) -> list[Command]:
        s = t.slots
        p = t.phrase
        d = t.domain

        def cmd(phrase: str, intent: str, action: str, **extra: Any) -> Command:
            return Command(phrase, intent, {**s, **extra}, group=t.key, action=action)

        if d == "light":
            out = [cmd(f"turn on {p}", "HassTurnOn", "on"),
                   cmd(f"turn off {p}", "HassTurnOff", "off"),
                   cmd(f"toggle {p}", "HearthService", "toggle", service="light.toggle")]
            if t.has("dimmable"):
                out += [cmd(f"make {p} brighter", "HearthLightStep", "up", step="up"),
                        cmd(f"dim {p}", "HearthLightStep", "down", step="down")]
                if found.percent is not None:
                    pct = max(1, found.percent)
                    out.append(cmd(f"set {p} to {pct} percent", "HassLightSet", f"pct{pct}",
                                   brightness=pct))
            if t.has("color"):
                if found.colour:
                    out.append(cmd(f"make {p} {found.colour}", "HassLightSet",
                                   f"colour:{found.colour}", color=found.colour))
                elif _COLOURISH.search(found.text.lower()):
                    out.append(cmd(f"change the colour of {p}", "HearthLightColorAsk", "colour"))
            return out
        if d in ("switch", "fan"):
            out = [cmd(f"turn on {p}", "HassTurnOn", "on"), cmd(f"turn off {p}", "HassTurnOff", "off")]
            if d == "switch":
                out.append(cmd(f"toggle {p}", "HearthService", "toggle", service="switch.toggle"))
            if d == "fan" and found.percent is not None:
                out.append(cmd(f"set {p} to {found.percent} percent", "HassFanSetSpeed",
                               f"pct{found.percent}", percentage=found.percent))
            elif d == "fan" and len(t.entities) == 1 and t.has("speed"):
                now = self._level(t.entities[0], "percentage")
                out += [cmd(f"speed up {p}", "HassFanSetSpeed", "up", percentage=min(100, now + 25)),
                        cmd(f"slow down {p}", "HassFanSetSpeed", "down", percentage=max(0, now - 25))]
            return out
        if d == "cover":
            out = [cmd(f"open {p}", "HassTurnOn", "open"), cmd(f"close {p}", "HassTurnOff", "close"),
                   cmd(f"stop {p}", "HearthService", "halt", service="cover.stop_cover")]
            if found.percent is not None and t.has("position"):
                out.append(cmd(f"open {p} to {found.percent} percent", "HassSetPosition",
                               f"pos{found.percent}", position=found.percent))
            return out
        if d == "lock":
            return [cmd(f"lock {p}", "HassTurnOn", "lock"), cmd(f"unlock {p}", "HassTurnOff", "unlock")]
        if d == "vacuum":
            return [cmd(f"start {p}", "HassVacuumStart", "start"),
                    cmd(f"send {p} back to its dock", "HassVacuumReturnToBase", "dock"),
                    cmd(f"pause {p}", "HearthService", "pause", service="vacuum.pause"),
                    cmd(f"stop {p}", "HearthService", "halt", service="vacuum.stop")]
        if d == "media_player":
            out = [cmd(f"play music on {p}", "HassMediaUnpause", "play"),
                   cmd(f"pause {p}", "HassMediaPause", "pause"),
                   cmd(f"skip to the next song on {p}", "HassMediaNext", "next"),
                   cmd(f"go back to the previous song on {p}", "HassMediaPrevious", "previous"),
                   cmd(f"turn up the volume of {p}", "HassSetVolumeRelative", "louder",
                       volume_step="up"),
                   cmd(f"turn down the volume of {p}", "HassSetVolumeRelative", "quieter",
                       volume_step="down")]
            if found.percent is not None:
                out.append(cmd(f"set the volume of {p} to {found.percent} percent", "HassSetVolume",
                               f"vol{found.percent}", volume_level=found.percent))
            return out
        if d in ("scene", "script"):
            return [cmd(f"activate {p}", "HassTurnOn", "on")]
        if d == "alarm_control_panel":
            return [cmd(f"arm {p}", "HearthService", "arm", service="alarm_control_panel.alarm_arm_away"),
                    cmd(f"disarm {p}", "HearthService", "disarm",
                        service="alarm_control_panel.alarm_disarm")]
        if d == "climate":
            said = set(words(found.text))
            out = []
            if said & (_CUES["warmer"] | _CUES["cooler"]) - {"warm"}:  # "temperature now" asks
                out = [cmd(f"make it warmer with {p}", "HearthClimateStep", "warmer", step="up"),
                       cmd(f"make it cooler with {p}", "HearthClimateStep", "cooler", step="down")]
            if found.degrees is not None:
                out.append(cmd(f"set {p} to {found.degrees:g} degrees", "HassClimateSetTemperature",
                               f"deg{found.degrees:g}", temperature=found.degrees))
            return out
        return []


_CUES = VOCABULARY.cues
"""Words that say which way a request goes, per action (see assistant/understand/cues.py)."""
_CUE_WORDS = frozenset().union(*_CUES.values())


_NOUNS = VOCABULARY.nouns
CLASS_WORDS = VOCABULARY.class_words
"""Words that say which sort of a kind ("the shutters" of the covers): Home Assistant's
device classes, matched against each entity's class and the words of its names."""



def _narrow(pool: list[Entity], text: str) -> list[Entity]:
    """The devices of ``pool`` of the sort the words say ("close the curtains": the curtains,
    not every cover); all of them when the words say no sort, or none of that sort exists."""
    said = set(words(text))
    classes = {c for w in said for c in CLASS_WORDS.get(w, ())}
    if not classes:
        return pool
    sorts = {w for w in said if w in CLASS_WORDS} | {w.removesuffix("s") for w in said if w in CLASS_WORDS}
    narrowed = [e for e in pool if e.device_class in classes
                or any(sorts & set(words(n)) or sorts & {x.removesuffix("s") for x in words(n)}
                       for n in e.names)]
    return narrowed or pool


def _said_before(text: str, domain: str) -> set[str]:
    """The words said just before a word for ``domain``: "ceiling" of "the ceiling light"."""
    toks = words(text)
    return {toks[i - 1] for i in range(1, len(toks)) if DOMAIN_WORDS.get(toks[i]) == domain}


def _named_by(ents: list[Entity], said: set[str]) -> list[Entity]:
    """Those of ``ents`` (one room's) a word said names, when it names some but not all."""
    hit = [e for e in ents if any(said & set(words(n)) for n in e.names)]
    return hit if len(hit) < len(ents) else []


def _distinctive(word: str) -> bool:
    """A word of a name that can name the device alone: not a kind ("light"), a function or
    state word ("the", "main"), a colour or a number."""
    return not (word in PLAIN_WORDS or word in DOMAIN_WORDS or word in DEVICE_NOUNS or word in COLORS
                or word in _CUE_WORDS or word.isdigit() or len(word) < 3)


def _controllable(e: Entity) -> bool:
    from assistant.home.services import SERVICES

    return bool(SERVICES.get(e.domain))
