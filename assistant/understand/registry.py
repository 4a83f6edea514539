"""The registry of device kinds, read from data: ``knowledge/domains.yaml`` (services,
directions, levels, states, sensitivity, what "toggle" means) and
``knowledge/vocab/<language>.yaml`` (the words for them).

Adding a device kind or a language is a change to those files, not to code. Loaded once
per language and frozen: every turn reads the same tables.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.home.base import Entity

KNOWLEDGE_DIR = Path(__file__).with_name("knowledge")


@dataclass(frozen=True)
class Level:
    """An attribute that goes up and down (brightness, volume, temperature, position)."""

    name: str
    low: float
    high: float
    unit: str
    feature: str | None = None
    current: str = ""
    """The state attribute that holds the current value."""
    when_off: float | None = None
    """The value it has while the device is off (a light that is off is at 0 %)."""
    up: str = "up"
    down: str = "down"
    """The directions a rise and a fall are (a cover that rises opens)."""
    step: float = 0.0
    """How far "turn it up" goes."""


@dataclass(frozen=True)
class Service:
    name: str
    does: tuple[str, ...]
    """Directions it goes, its own first."""
    data: tuple[str, ...] = ()
    intent: str | None = None
    flags: dict[str, tuple[str, str]] = field(default_factory=dict, hash=False)
    """A boolean data field -> the directions of true and false (``is_volume_muted``)."""
    modes: dict[str, dict[str, str]] = field(default_factory=dict, hash=False)
    """A mode data field -> mode -> direction (``*`` for any other mode)."""


@dataclass(frozen=True)
class Domain:
    name: str
    services: dict[str, Service] = field(hash=False)
    levels: dict[str, Level] = field(default_factory=dict, hash=False)
    states: tuple[str, ...] = ()
    toggle: dict[str, str] = field(default_factory=dict, hash=False)
    sensitive: bool = False
    sensitive_classes: frozenset[str] = frozenset()

    def understands(self, direction: str) -> bool:
        """Does any service of this kind go ``direction`` (a level counts for up/down)?"""
        if any(direction in s.does for s in self.services.values()):
            return True
        for lv in self.levels.values():
            if direction in (lv.up, lv.down, "up", "down"):
                return True
        return any(direction in pair for s in self.services.values() for pair in s.flags.values())

    def setter(self, attribute: str) -> Service | None:
        """The service that sets ``attribute`` to a value, the plainest one first."""
        takes = [s for s in self.services.values() if attribute in s.data]
        takes.sort(key=lambda s: (bool(s.does), s.name))
        return takes[0] if takes else None


@dataclass(frozen=True)
class Vocabulary:
    """One language's words, as read (the matching is in :mod:`assistant.understand.said`)."""

    language: str
    directions: dict[str, tuple[str, ...]] = field(hash=False)
    domain_directions: dict[str, dict[str, tuple[str, ...]]] = field(hash=False)
    conditions: dict[str, dict[str, tuple[str, ...]]] = field(hash=False)
    particles: dict[str, dict[str, tuple[str, ...]]] = field(hash=False)
    negators: tuple[str, ...]
    negation_window: int
    negation_breaks: frozenset[str]
    complaints: frozenset[str]
    question_starts: tuple[str, ...]
    question_requests: tuple[str, ...]
    numbers: dict[str, int] = field(hash=False)
    point: tuple[str, ...]
    and_a_half: tuple[str, ...]
    shares: dict[int, tuple[str, ...]] = field(hash=False)
    share_not_before: frozenset[str]
    units: dict[str, tuple[str, ...]] = field(hash=False)
    value_after: frozenset[str]
    phrases: dict[str, tuple[str, str]] = field(hash=False)
    units_said: dict[str, str] = field(hash=False)
    joins: tuple[str, ...]
    command_verbs: frozenset[str]
    pronouns: frozenset[str]
    filler: frozenset[str]


@dataclass(frozen=True)
class Registry:
    domains: dict[str, Domain] = field(hash=False)
    opposites: dict[str, frozenset[str]] = field(hash=False)
    vocab: Vocabulary

    def domain(self, name: str) -> Domain | None:
        return self.domains.get(name)

    def service(self, full_name: str) -> tuple[Domain, Service] | None:
        """``light.turn_on`` -> its domain and service, or None when the registry has no such."""
        domain_name, _, name = full_name.partition(".")
        domain = self.domains.get(domain_name)
        service = domain.services.get(name) if domain else None
        return (domain, service) if domain is not None and service is not None else None

    def opposite(self, a: str, b: str) -> bool:
        return b in self.opposites.get(a, frozenset())

    def sensitive(self, entity: Entity) -> bool:
        """Needs a spoken yes: marked so, or of a sensitive kind or class (locks, garages)."""
        domain = self.domains.get(entity.domain)
        if entity.sensitive or (domain is not None and domain.sensitive):
            return True
        return domain is not None and entity.device_class in domain.sensitive_classes


def _strs(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in (value or ()))


def _domain(name: str, raw: dict[str, Any]) -> Domain:
    services = {
        sname: Service(sname, _strs(s.get("does")), _strs(s.get("data")), s.get("intent"),
                       {k: (str(v[0]), str(v[1])) for k, v in (s.get("flags") or {}).items()},
                       {k: {str(m): str(d) for m, d in v.items()} for k, v in (s.get("modes") or {}).items()})
        for sname, s in (raw.get("services") or {}).items()
    }
    levels = {
        lname: Level(lname, float(lv["range"][0]), float(lv["range"][1]), str(lv["unit"]),
                     lv.get("feature"), str(lv.get("current", lname)),
                     None if lv.get("when_off") is None else float(lv["when_off"]),
                     str(lv.get("up", "up")), str(lv.get("down", "down")), float(lv.get("step", 0)))
        for lname, lv in (raw.get("levels") or {}).items()
    }
    return Domain(name, services, levels, _strs(raw.get("states")),
                  {str(k): str(v) for k, v in (raw.get("toggle") or {}).items()},
                  bool(raw.get("sensitive", False)), frozenset(_strs(raw.get("sensitive_classes"))))


def _vocabulary(raw: dict[str, Any]) -> Vocabulary:
    neg = raw.get("negation") or {}
    questions = raw.get("questions") or {}
    compound = raw.get("compound") or {}
    return Vocabulary(
        language=str(raw["language"]),
        directions={str(d): _strs(p) for d, p in raw["directions"].items()},
        domain_directions={str(dom): {str(d): _strs(p) for d, p in dirs.items()}
                           for dom, dirs in (raw.get("domain_directions") or {}).items()},
        conditions={str(dom): {str(d): _strs(p) for d, p in dirs.items()}
                    for dom, dirs in (raw.get("conditions") or {}).items()},
        particles={str(w): {k: _strs(v) for k, v in rules.items()}
                   for w, rules in (raw.get("particles") or {}).items()},
        negators=_strs(neg.get("words")),
        negation_window=int(neg.get("window", 4)),
        negation_breaks=frozenset(_strs(neg.get("breaks"))),
        complaints=frozenset(_strs(neg.get("complaints"))),
        question_starts=_strs(questions.get("starts")),
        question_requests=_strs(questions.get("requests")),
        numbers={str(w): int(n) for w, n in raw["numbers"].items()},
        point=_strs(raw.get("point")),
        and_a_half=_strs(raw.get("and_a_half")),
        shares={int(n): _strs(p) for n, p in raw["shares"].items()},
        share_not_before=frozenset(_strs(raw.get("share_not_before"))),
        units={str(u): _strs(p) for u, p in raw["units"].items()},
        value_after=frozenset(_strs(raw.get("value_after"))),
        phrases={str(d): (str(p["do"]), str(p["done"])) for d, p in raw["phrases"].items()},
        units_said={str(u): str(f) for u, f in raw["units_said"].items()},
        joins=_strs(compound.get("joins")),
        command_verbs=frozenset(_strs(compound.get("verbs"))),
        pronouns=frozenset(_strs(compound.get("pronouns"))),
        filler=frozenset(_strs(compound.get("filler"))),
    )


@functools.cache
def load(language: str = "en", directory: Path = KNOWLEDGE_DIR) -> Registry:
    """The registry for ``language`` (read once; a missing language is a clear error)."""
    kinds = yaml.safe_load((directory / "domains.yaml").read_text(encoding="utf-8"))
    vocab_path = directory / "vocab" / f"{language}.yaml"
    if not vocab_path.is_file():
        raise ValueError(f"no vocabulary for language {language!r} in {vocab_path.parent}")
    vocab = _vocabulary(yaml.safe_load(vocab_path.read_text(encoding="utf-8")))
    opposites: dict[str, set[str]] = {}
    for a, b in kinds["opposites"]:
        opposites.setdefault(str(a), set()).add(str(b))
        opposites.setdefault(str(b), set()).add(str(a))
    return Registry({name: _domain(name, raw) for name, raw in kinds["domains"].items()},
                    {k: frozenset(v) for k, v in opposites.items()}, vocab)
