"""What every home backend is: areas, entities, their states, and service calls.

Actions use Home Assistant's service names (``light.turn_on``) so the same action
means the same thing on every backend.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Area:
    id: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entity:
    entity_id: str
    name: str
    area: str | None = None
    """The area id, or None for entities that belong to no room."""
    aliases: tuple[str, ...] = ()
    features: frozenset[str] = frozenset()
    """Capabilities beyond on/off: dimmable, color, speed, position, volume."""
    device_class: str | None = None
    unit: str | None = None
    sensitive: bool = False
    """Changing it needs a spoken confirmation (locks, garage doors)."""

    @property
    def domain(self) -> str:
        return self.entity_id.split(".", 1)[0]

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class EntityState:
    entity_id: str
    state: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    available: bool = True


class HomeBackend(abc.ABC):
    """A home: what is in it, what state it is in, and how to change it."""

    @abc.abstractmethod
    def areas(self) -> list[Area]: ...

    @abc.abstractmethod
    def entities(self) -> list[Entity]: ...

    @abc.abstractmethod
    def get_state(self, entity_id: str) -> EntityState: ...

    @abc.abstractmethod
    def call_service(self, service: str, entity_id: str, data: Mapping[str, Any]) -> EntityState:
        """Apply ``service`` (e.g. ``light.turn_on``) and return the new state.

        Raises :class:`~assistant.errors.HomeError` for an unknown entity, a service
        the entity does not support, or an invalid value.
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the default has nothing to release."""

    _listeners: list[Callable[[str], None]] | None = None

    def add_listener(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(entity_id)`` when the home changes outside Hearth (``""``: the
        entity list itself changed). A home that only changes through Hearth never calls it."""
        if self._listeners is None:
            self._listeners = []
        self._listeners.append(listener)

    def _notify(self, entity_id: str) -> None:
        """Tell the listeners; one that fails is logged and never breaks the backend."""
        for listener in list(self._listeners or ()):
            try:
                listener(entity_id)
            except Exception:
                log.exception("%s: a listener failed", type(self).__name__)

    def entity(self, entity_id: str) -> Entity:
        from assistant.errors import HomeError

        for ent in self.entities():
            if ent.entity_id == entity_id:
                return ent
        raise HomeError(f"no entity {entity_id!r} in this home", code="unknown_entity")

    def area(self, area: str) -> Area:
        """Find an area by id or name, case-insensitive ("Living Room", "living_room")."""
        from assistant.errors import HomeError

        key = area.strip().lower().replace(" ", "_")
        for a in self.areas():
            if key in (a.id.lower(), *(n.lower().replace(" ", "_") for n in (a.name, *a.aliases))):
                return a
        known = ", ".join(a.name for a in self.areas())
        raise HomeError(f"no area {area!r} in this home (areas: {known})", code="unknown_area")

    def spoken_names(self) -> list[str]:
        """Every name a person may say for something here: the entities' names and
        aliases, then the areas' names (what Whisper is told to expect)."""
        return [n for e in self.entities() for n in e.names] + [a.name for a in self.areas()]
