"""The command space: every valid command for this home, and the few an utterance can mean.

The local LLM never writes a command; it ranks a short list of commands built here
(:mod:`menu`), for the targets an utterance can mean (here), found from what it refers to
(:mod:`retrieval`). So whatever the model says, it can only name exposed entities and
services they support, with values the service table accepts — and an utterance can only
reach entities it refers to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from assistant.home.base import Entity
from assistant.understand import menu
from assistant.understand.lexicon import DEVICE_NOUNS, DOMAIN_WORDS, VOCABULARY, strip_address, words
from assistant.understand.menu import NOT_A_COMMAND, Command, Target
from assistant.understand.retrieval import HomeIndex, Retrieval

__all__ = ["NOT_A_COMMAND", "VOCABULARY", "Command", "CommandSpace", "Retrieval", "Target",
           "strip_address", "words"]


class CommandSpace(HomeIndex):
    """One home's command space: what an utterance refers to, and what can be done to it."""

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
            one = _one_of_several(found)
            for ents in by_domain.values():
                if len(ents) > 1 and ((len({e.area for e in ents}) > 1 and not found.areas)
                                      or (one and all(e in found.partial for e in ents))):
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

    def commands(self, found: Retrieval, targets: Iterable[Target]) -> list[Command]:
        """What can be done to each target, with the values said."""
        return [c for t in targets for c in menu.actions(found, t, self._level)]



_NOUNS = VOCABULARY.nouns
CLASS_WORDS = VOCABULARY.class_words
MANY_WORDS = VOCABULARY.many
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


def _one_of_several(found: Retrieval) -> bool:
    """Is one device asked for ("the reading light" of two reading lights: which one?), not
    several ("the reading lights", "both", "all")?"""
    toks = words(found.text)
    plural = any(t.endswith("s") and (t[:-1] in DEVICE_NOUNS or t[:-1] in DOMAIN_WORDS) for t in toks)
    return not plural and not set(toks) & MANY_WORDS and any(t in DEVICE_NOUNS for t in toks)
