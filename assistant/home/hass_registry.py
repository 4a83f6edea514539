"""What Home Assistant's registries say about a home: areas (with aliases), which area
each entity is in (its own, else its device's), entity aliases, and what the user has
exposed to Assist ("Expose" in Home Assistant's voice assistant settings).

Hearth's own exposure settings still apply on top: ``hide`` always wins, ``expose``
shows an entity Home Assistant hides, and ``expose_defaults = false`` means "only what
``expose`` names", whatever Home Assistant says.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from assistant.home.base import Area, Entity
from assistant.home.exposure import apply_exposure
from assistant.settings import ExposureSettings

ASSISTANT = "conversation"
"""Home Assistant's name for its own voice assistant in the exposure settings."""


@dataclass(frozen=True)
class Registries:
    areas: Mapping[str, Area] = field(default_factory=dict)
    entity_area: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    assist: Mapping[str, bool] | None = None
    """entity id -> exposed to Assist; None when Home Assistant did not say (older
    versions, or a server without the command)."""


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def read_registries(areas: Any, devices: Any, entities: Any, details: Any = None,
                    exposed: Any = None) -> Registries:
    """The replies of ``config/area_registry/list``, ``config/device_registry/list``,
    ``config/entity_registry/list``, ``config/entity_registry/get_entries`` and
    ``homeassistant/expose_entity/list`` (the last two may be None)."""
    area_map: dict[str, Area] = {}
    for a in _dicts(areas):
        if a.get("area_id") and a.get("name"):
            area_map[str(a["area_id"])] = Area(str(a["area_id"]), str(a["name"]),
                                               tuple(str(x) for x in a.get("aliases") or ()))
    device_area = {d["id"]: d.get("area_id") for d in _dicts(devices) if d.get("id")}
    entity_area: dict[str, str] = {}
    for e in _dicts(entities):
        if not e.get("entity_id"):
            continue
        where = e.get("area_id") or device_area.get(e.get("device_id"))
        if where in area_map:
            entity_area[str(e["entity_id"])] = str(where)
    aliases: dict[str, tuple[str, ...]] = {}
    for entity_id, entry in (details.items() if isinstance(details, dict) else ()):
        names = entry.get("aliases") if isinstance(entry, dict) else None
        if isinstance(names, list) and names:
            aliases[str(entity_id)] = tuple(sorted(str(n) for n in names if n))
    assist: dict[str, bool] | None = None
    listed = exposed.get("exposed_entities") if isinstance(exposed, dict) else None
    if isinstance(listed, dict):
        assist = {str(k): bool(v[ASSISTANT]) for k, v in listed.items()
                  if isinstance(v, dict) and isinstance(v.get(ASSISTANT), bool)}
    return Registries(area_map, entity_area, aliases, assist)


def choose(entities: Iterable[Entity], settings: ExposureSettings,
           assist: Mapping[str, bool] | None) -> tuple[list[Entity], list[Area]]:
    """Exposure with Home Assistant's Assist settings in place of Hearth's defaults."""
    if assist is None or not settings.expose_defaults:
        return apply_exposure(entities, settings)
    said_yes: list[Entity] = []
    said_no: list[Entity] = []
    unsaid: list[Entity] = []
    for e in entities:
        word = assist.get(e.entity_id)
        (unsaid if word is None else said_yes if word else said_no).append(e)
    chosen, extra = apply_exposure(unsaid, settings)
    chosen += apply_exposure(said_yes, settings.model_copy(update={"expose": ("*",)}))[0]
    chosen += apply_exposure(said_no, settings.model_copy(update={"expose_defaults": False}))[0]
    return chosen, extra


def with_aliases(entity: Entity, aliases: Mapping[str, tuple[str, ...]]) -> Entity:
    names = aliases.get(entity.entity_id)
    return dataclasses.replace(entity, aliases=names) if names else entity
