"""Device kinds (Home Assistant domains) as data, read from ``kinds.yaml``: services and
the directions they go, the data each takes (levels with ranges, colours, flags, modes),
states, the state each service leaves, what "toggle" means, and which are sensitive.

Language-neutral. The service table that validates every call
(:mod:`assistant.home.services`) and the words that name directions
(:mod:`assistant.understand.registry`) are both built on it, so a new kind is one entry
here (plus its words).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.home.base import Entity

KINDS_FILE = Path(__file__).with_name("kinds.yaml")


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
    bounds: tuple[str, ...] = ()
    """The state attributes with the device's own range (a thermostat's min_temp, max_temp:
    °F or °C); ``low``/``high`` are for a device that says none."""

    def limits(self, attributes: Mapping[str, Any] | None) -> tuple[float, float]:
        """This device's range: its own (``bounds``) when its state says one."""
        if attributes and len(self.bounds) == 2:
            low, high = (attributes.get(b) for b in self.bounds)
            if isinstance(low, (int, float)) and isinstance(high, (int, float)) and low < high:
                return float(low), float(high)
        return self.low, self.high


@dataclass(frozen=True)
class Attribute:
    """A data field that is not a level: ``rgb`` (three 0-255), ``bool`` or ``choice``."""

    name: str
    kind: str
    feature: str | None = None
    choices: tuple[str, ...] = ()


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
    state: str | None = None
    """The state it leaves the device in (None: the state is kept)."""
    effect: str = "set"
    """How a simulated device changes: ``set`` (``state`` + ``sets``), ``toggle``,
    ``level`` (the state follows a level's value), ``step`` (a level moves by its step),
    ``mode`` (the state is the mode given)."""
    sets: dict[str, Any] = field(default_factory=dict, hash=False)
    """Attributes it sets (``open_cover`` sets ``current_position: 100``)."""
    told: str | None = None
    """The phrase that tells it back when not its own direction's ("Activated" a scene)."""


@dataclass(frozen=True)
class Domain:
    name: str
    services: dict[str, Service] = field(hash=False)
    levels: dict[str, Level] = field(default_factory=dict, hash=False)
    attributes: dict[str, Attribute] = field(default_factory=dict, hash=False)
    states: tuple[str, ...] = ()
    toggle: dict[str, str] = field(default_factory=dict, hash=False)
    sensitive: bool = False
    sensitive_classes: frozenset[str] = frozenset()
    switch: dict[str, str] = field(default_factory=dict, hash=False)
    """"on"/"off" -> the service "turn on"/"turn off" calls (a cover opens, a lock locks)."""

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
class Kinds:
    domains: dict[str, Domain] = field(hash=False)
    opposites: dict[str, frozenset[str]] = field(hash=False)

    def service(self, full_name: str) -> tuple[Domain, Service] | None:
        """``light.turn_on`` -> its domain and service, or None when there is no such."""
        domain_name, _, name = full_name.partition(".")
        domain = self.domains.get(domain_name)
        service = domain.services.get(name) if domain else None
        return (domain, service) if domain is not None and service is not None else None

    def sensitive(self, entity: Entity) -> bool:
        """Needs a spoken yes: marked so, or of a sensitive kind or class (locks, garages)."""
        domain = self.domains.get(entity.domain)
        if entity.sensitive or (domain is not None and domain.sensitive):
            return True
        return domain is not None and entity.device_class in domain.sensitive_classes


def _strs(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in (value or ()))


def _service(name: str, s: dict[str, Any]) -> Service:
    return Service(
        name, _strs(s.get("does")), _strs(s.get("data")), s.get("intent"),
        {k: (str(v[0]), str(v[1])) for k, v in (s.get("flags") or {}).items()},
        {k: {str(m): str(d) for m, d in v.items()} for k, v in (s.get("modes") or {}).items()},
        None if s.get("state") is None else str(s["state"]), str(s.get("effect", "set")),
        dict(s.get("sets") or {}), None if s.get("told") is None else str(s["told"]))


def _domain(name: str, raw: dict[str, Any]) -> Domain:
    levels = {
        lname: Level(lname, float(lv["range"][0]), float(lv["range"][1]), str(lv["unit"]),
                     lv.get("feature"), str(lv.get("current", lname)),
                     None if lv.get("when_off") is None else float(lv["when_off"]),
                     str(lv.get("up", "up")), str(lv.get("down", "down")), float(lv.get("step", 0)),
                     _strs(lv.get("bounds")))
        for lname, lv in (raw.get("levels") or {}).items()
    }
    attributes = {aname: Attribute(aname, str(a["kind"]), a.get("feature"), _strs(a.get("choices")))
                  for aname, a in (raw.get("attributes") or {}).items()}
    return Domain(name, {n: _service(n, s) for n, s in (raw.get("services") or {}).items()},
                  levels, attributes, _strs(raw.get("states")),
                  {str(k): str(v) for k, v in (raw.get("toggle") or {}).items()},
                  bool(raw.get("sensitive", False)), frozenset(_strs(raw.get("sensitive_classes"))),
                  {str(k): str(v) for k, v in (raw.get("switch") or {}).items()})


@functools.cache
def load_kinds(path: Path = KINDS_FILE) -> Kinds:
    """The device kinds (read once)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    opposites: dict[str, set[str]] = {}
    for a, b in raw["opposites"]:
        opposites.setdefault(str(a), set()).add(str(b))
        opposites.setdefault(str(b), set()).add(str(a))
    return Kinds({name: _domain(name, d) for name, d in raw["domains"].items()},
                 {k: frozenset(v) for k, v in opposites.items()})
