"""What an utterance refers to: the home's names, areas, kinds and things it says, and
the values it gives.

Retrieval is lexical and indexed (entity and area names, a small English lexicon of
device words), so its cost does not grow with the size of the home: the words of the
utterance are looked up, the home is not scanned.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from assistant.home.base import Entity, HomeBackend
from assistant.understand.lexicon import (
    AWAY,
    CHANGE_VERBS,
    CUE_WORDS,
    DEVICE_NOUNS,
    DOMAIN_WORDS,
    HERE,
    HOME_WORDS,
    NOT_PLACES,
    OTHER_THINGS,
    THING_WORDS,
    WHOLE_HOME,
    distinctive,
    plain,
    said_verb,
    words,
)
from assistant.understand.lights import COLORS
from assistant.understand.registry import load
from assistant.understand.said import Said, Words

_READ = Words(load().vocab, load().opposites)
_KINDS = load().domains
"""Values are read once, by the same words as the last check (:mod:`said`)."""


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


class HomeIndex:
    """One home's names, indexed; reads an utterance for what it refers to."""

    entities: list[Entity]

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
                if w not in area_words and distinctive(w):
                    self._name_words[w].append(e)

    def _kinds_for(self, said: Said, areas: list[str]) -> list[str]:
        """The kinds in ``areas`` that do what the words say when no device is named: "open
        the garage" -> its covers; "clean the kitchen" -> a vacuum: kinds with a service whose
        own direction it is. On, off, up and down are every kind's, so they name none."""
        here = sorted({d for (d, a) in self._by_domain_area if a in areas})
        out = []
        for d in here:
            kind = _KINDS.get(d)
            ways = said.affirmed(d) - {"on", "off", "up", "down", "toggle"}
            if kind is not None and any(s.does[:1] == (w,) for s in kind.services.values() for w in ways):
                out.append(d)
        return out

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
                if not plain(before, known):
                    found.unknown.append(f"{before} {tok}")
            elif i in area_starts and not found.entities and toks[i - 1] not in CUE_WORDS \
                    and not plain(toks[i - 1], known):
                # "the drawing hall", "the guest bedroom": a place this home does not have
                found.unknown.append(f"{toks[i - 1]} {tok}")
        if not found.entities and not any(t in DEVICE_NOUNS for t in toks):
            found.unknown.extend(t for t in toks if t.removesuffix("'s") in OTHER_THINGS)
        for away in AWAY.finditer(" ".join(toks)):  # "the lights in my car / in the garden"
            if (away.group(1),) not in self._area_names:
                found.unknown.append(away.group(0))
        for i, tok in enumerate(toks[:-1]):  # "in the nursery", "in the spare room": no such room
            if tok not in ("in", "inside") or used[i + 1]:
                continue
            rest = [t for t in toks[i + 1:i + 4] if t not in ("the", "my", "our", "your", "this")]
            place = rest[0] if rest else ""
            if place and not used[toks.index(place, i + 1)] and not plain(place, known) \
                    and place not in DEVICE_NOUNS and place not in NOT_PLACES:
                found.unknown.append(f"in the {place}")
        lowered = " ".join(toks)
        found.here = bool(HERE.search(lowered))
        # "every light of the room": the room says where, not the whole home
        found.whole_home = bool(WHOLE_HOME.search(lowered)) and not (
            found.here and not HOME_WORDS.search(lowered))
        for i, tok in enumerate(toks):  # the last colour named: "from blue to white" -> white
            pair = " ".join(toks[i - 1:i + 1]) if i else ""
            if pair in COLORS:
                found.colour = pair
            elif tok in COLORS and tok != "black":
                found.colour = tok
        if found.colour and not (found.domains or found.entities or found.things) \
                and said_verb(toks) and all(plain(t, known) or t in CHANGE_VERBS or t in
                                            ("it", "everything", "room", "colour", "color")
                                            for t in toks if t not in found.colour.split()):
            found.domains.append("light")  # "make it green in here": only lights have a colour
        said = _READ(lowered)  # the values said, read as the direction check reads them
        if found.areas and found.empty:
            found.domains.extend(self._kinds_for(said, found.areas))  # "open the garage"
        if found.empty and not said.affirmed(None):  # "it's hot in here": words one kind has
            found.domains.extend(d for d in sorted(self._by_domain) if said.affirmed(d))
        climate = "climate" in found.domains or any(e.domain == "climate" for e in found.entities)
        degrees = said.value(("degrees",)) or (said.value(("bare",)) if climate else None)
        if degrees is not None:
            found.degrees = degrees.number  # "sixty eight degrees", "radiators to eighteen"
        share = said.value(("percent", "share"))  # a bare "to seven" is no percentage
        if share is not None and 0 <= share.number <= 100:
            found.percent = round(share.number)  # "30 percent", "halfway", "at full"
        return found


def _controllable(e: Entity) -> bool:
    from assistant.home.services import SERVICES

    return bool(SERVICES.get(e.domain))
