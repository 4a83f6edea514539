"""Entity exposure: which entities the assistant may see and control, and which are sensitive.

Defaults follow Home Assistant's own assistant: everyday domains are exposed; locks,
garage doors, gates and alarm panels stay hidden until the user names them, and are
sensitive (a spoken yes first) once exposed. Sensors are exposed when they have no
device class or one of the classes Home Assistant exposes (temperature, humidity, air
quality...), so battery and signal-strength readings don't crowd the names.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Iterable

from assistant.home.base import Area, Entity
from assistant.home.settings import ExposureSettings

EXPOSED_DOMAINS = frozenset({
    "climate", "cover", "fan", "humidifier", "light", "media_player", "scene", "switch",
    "vacuum", "water_heater",
})
"""Exposed by default (Home Assistant's DEFAULT_EXPOSED_DOMAINS, without locks)."""
EXPOSED_SENSOR_CLASSES = frozenset({
    None, "aqi", "carbon_dioxide", "carbon_monoxide", "humidity", "pm10", "pm25",
    "temperature", "volatile_organic_compounds", "illuminance", "pressure",
})
EXPOSED_BINARY_SENSOR_CLASSES = frozenset({
    None, "door", "garage_door", "lock", "motion", "opening", "presence", "window",
})
GARAGE_CLASSES = frozenset({"garage", "gate"})
"""Cover device classes that open the house to the street."""
SENSITIVE_DOMAINS = frozenset({"lock", "alarm_control_panel"})


def _matches(entity_id: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(entity_id, p) for p in patterns)


def is_security(entity: Entity) -> bool:
    """Locks, alarm panels, garage doors and gates: what lets someone into the home."""
    if entity.domain in SENSITIVE_DOMAINS:
        return True
    return entity.domain == "cover" and entity.device_class in GARAGE_CLASSES


def exposed_by_default(entity: Entity) -> bool:
    if is_security(entity):
        return False
    if entity.domain == "sensor":
        return entity.device_class in EXPOSED_SENSOR_CLASSES
    if entity.domain == "binary_sensor":
        return entity.device_class in EXPOSED_BINARY_SENSOR_CLASSES
    return entity.domain in EXPOSED_DOMAINS


def is_exposed(entity: Entity, settings: ExposureSettings) -> bool:
    if _matches(entity.entity_id, settings.hide):
        return False
    if _matches(entity.entity_id, settings.expose):
        return True
    return settings.expose_defaults and exposed_by_default(entity)


def is_sensitive(entity: Entity, settings: ExposureSettings) -> bool:
    return entity.sensitive or is_security(entity) or _matches(entity.entity_id, settings.sensitive)


def area_id(name: str) -> str:
    """'Living Room' -> 'living_room' (Home Assistant's slug style)."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def apply_exposure(
    entities: Iterable[Entity], settings: ExposureSettings
) -> tuple[list[Entity], list[Area]]:
    """The exposed entities (with sensitivity, area and aliases from settings) and the
    areas that ``settings.areas`` introduces."""
    extra_areas: dict[str, Area] = {}
    for name in settings.areas.values():
        extra_areas.setdefault(area_id(name), Area(area_id(name), name))
    out: list[Entity] = []
    for entity in entities:
        if not is_exposed(entity, settings):
            continue
        changes: dict[str, object] = {"sensitive": is_sensitive(entity, settings)}
        if entity.entity_id in settings.areas:
            changes["area"] = area_id(settings.areas[entity.entity_id])
        if entity.entity_id in settings.aliases:
            changes["aliases"] = (*entity.aliases, *settings.aliases[entity.entity_id])
        out.append(dataclasses.replace(entity, **changes))  # type: ignore[arg-type]
    return out, list(extra_areas.values())


class KeptExposure:
    """``areas()`` and ``entities()`` for a backend that works out what it exposes once
    (``_exposure()``: [home.exposure] applied to what it found) and keeps it until the
    devices change; mixed in before :class:`~assistant.home.base.HomeBackend`."""

    def _exposure(self) -> tuple[list[Entity], list[Area]]:
        raise NotImplementedError

    def areas(self) -> list[Area]:
        return list(self._exposure()[1])

    def entities(self) -> list[Entity]:
        return list(self._exposure()[0])
