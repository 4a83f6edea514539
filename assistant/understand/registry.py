"""The registry of device kinds for understanding: the kinds themselves
(:mod:`assistant.home.kinds`, ``home/kinds.yaml``: services, directions, levels, states,
sensitivity, what "toggle" means) with one language's words for them
(``knowledge/vocab/<language>.yaml``: directions, negation, numbers, how actions are told).

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
from assistant.home.kinds import Domain, Kinds, Level, Service, load_kinds

__all__ = ["Domain", "Level", "Registry", "Service", "Vocabulary", "load"]

KNOWLEDGE_DIR = Path(__file__).with_name("knowledge")


@dataclass(frozen=True)
class Vocabulary:
    """One language's words, as read (the matching is in :mod:`assistant.understand.said`)."""

    language: str
    directions: dict[str, tuple[str, ...]] = field(hash=False)
    domain_directions: dict[str, dict[str, tuple[str, ...]]] = field(hash=False)
    conditions: dict[str, dict[str, tuple[str, ...]]] = field(hash=False)
    variants: dict[str, dict[str, tuple[str, ...]]] = field(hash=False)
    particles: dict[str, dict[str, tuple[str, ...]]] = field(hash=False)
    negators: tuple[str, ...]
    negation_window: int
    negation_breaks: frozenset[str]
    corrections: frozenset[str]
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
    relative: dict[str, tuple[str, ...]] = field(hash=False)
    phrases: dict[str, tuple[str, str]] = field(hash=False)
    units_said: dict[str, str] = field(hash=False)
    states_said: dict[str, dict[str, dict[str, str]]] = field(hash=False)
    joins: tuple[str, ...]
    command_verbs: frozenset[str]
    pronouns: frozenset[str]
    colours: dict[str, tuple[int, int, int]] = field(hash=False)
    colour_shifts: dict[str, str] = field(hash=False)
    kelvin_shifts: dict[str, int] = field(hash=False)
    amounts: dict[str, int] = field(hash=False)
    filler: frozenset[str]
    clause_breaks: frozenset[str]
    lead_ins: frozenset[str]
    max_parts: int


@dataclass(frozen=True)
class Registry:
    kinds: Kinds
    vocab: Vocabulary

    @property
    def domains(self) -> dict[str, Domain]:
        return self.kinds.domains

    @property
    def opposites(self) -> dict[str, frozenset[str]]:
        return self.kinds.opposites

    def domain(self, name: str) -> Domain | None:
        return self.kinds.domains.get(name)

    def service(self, full_name: str) -> tuple[Domain, Service] | None:
        """``light.turn_on`` -> its domain and service, or None when the registry has no such."""
        return self.kinds.service(full_name)

    def opposite(self, a: str, b: str) -> bool:
        return b in self.kinds.opposites.get(a, frozenset())

    def sensitive(self, entity: Entity) -> bool:
        return self.kinds.sensitive(entity)


def _strs(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in (value or ()))


def _shares(raw: dict[str, Any]) -> dict[int, tuple[str, ...]]:
    """The shares' phrases, with every extreme frame filled in ("as bright as it goes": 100)."""
    shares = {int(n): _strs(p) for n, p in raw["shares"].items()}
    extremes = dict(raw.get("extremes") or {})
    frames = _strs(extremes.pop("frames", ()))
    for n, adjectives in extremes.items():
        filled = tuple(f.format(a) for f in frames for a in _strs(adjectives))
        shares[int(n)] = (*shares.get(int(n), ()), *filled)
    return shares


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
        variants={str(dom): {str(svc): _strs(p) for svc, p in svcs.items()}
                  for dom, svcs in (raw.get("variants") or {}).items()},
        particles={str(w): {k: _strs(v) for k, v in rules.items()}
                   for w, rules in (raw.get("particles") or {}).items()},
        negators=_strs(neg.get("words")),
        negation_window=int(neg.get("window", 4)),
        negation_breaks=frozenset(_strs(neg.get("breaks"))),
        corrections=frozenset(_strs(neg.get("corrections"))),
        complaints=frozenset(_strs(neg.get("complaints"))),
        question_starts=_strs(questions.get("starts")),
        question_requests=_strs(questions.get("requests")),
        numbers={str(w): int(n) for w, n in raw["numbers"].items()},
        point=_strs(raw.get("point")),
        and_a_half=_strs(raw.get("and_a_half")),
        shares=_shares(raw),
        share_not_before=frozenset(_strs(raw.get("share_not_before"))),
        units={str(u): _strs(p) for u, p in raw["units"].items()},
        value_after=frozenset(_strs(raw.get("value_after"))),
        relative={str(k): _strs(v) for k, v in (raw.get("relative") or {}).items()},
        phrases={str(d): (str(p["do"]), str(p["done"])) for d, p in raw["phrases"].items()},
        units_said={str(u): str(f) for u, f in raw["units_said"].items()},
        states_said={str(d): {str(c): {str(k): str(v) for k, v in said.items()} for c, said in cs.items()}
                     for d, cs in (raw.get("states_said") or {}).items()},
        joins=_strs(compound.get("joins")),
        command_verbs=frozenset(_strs(compound.get("verbs"))),
        pronouns=frozenset(_strs(compound.get("pronouns"))),
        filler=frozenset(_strs(compound.get("filler"))),
        clause_breaks=frozenset(_strs(compound.get("clause_breaks"))),
        lead_ins=frozenset(_strs(compound.get("lead_ins"))),
        max_parts=int(compound.get("max_parts", 3)),
        colours={str(n): (int(c[0]), int(c[1]), int(c[2])) for n, c in (raw.get("colours") or {}).items()},
        colour_shifts={str(w): str(c) for w, c in (raw.get("colour_shifts") or {}).items()},
        kelvin_shifts={str(w): int(n) for w, n in (raw.get("kelvin_shifts") or {}).items()},
        amounts={str(w): int(n) for w, n in (raw.get("amounts") or {}).items()},
    )


@functools.cache
def load(language: str = "en", directory: Path = KNOWLEDGE_DIR) -> Registry:
    """The registry for ``language`` (read once; a missing language is a clear error)."""
    vocab_path = directory / "vocab" / f"{language}.yaml"
    if not vocab_path.is_file():
        raise ValueError(f"no vocabulary for language {language!r} in {vocab_path.parent}")
    vocab = _vocabulary(yaml.safe_load(vocab_path.read_text(encoding="utf-8")))
    return Registry(load_kinds(), vocab)
