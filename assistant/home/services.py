"""The service vocabulary (Home Assistant's names), its validation and its effect.

One table says which services each domain has, which data each accepts and what it
does to a state. Backends validate every call here, so a wrong value is refused the
same way whoever proposed it (templates, the local LLM, the cloud, a skill). The demo
home also uses :func:`apply` to simulate the device.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from assistant.errors import HomeError
from assistant.home.base import Entity, EntityState

Attrs = dict[str, Any]


@dataclass(frozen=True)
class Param:
    """One accepted data field: a number in a range, or an RGB triple."""

    kind: str  # "number" | "rgb"
    low: float = 0.0
    high: float = 0.0
    feature: str | None = None


def _set(state: str, **attrs: Any) -> Callable[[EntityState, Mapping[str, Any]], tuple[str, Attrs]]:
    def effect(old: EntityState, data: Mapping[str, Any]) -> tuple[str, Attrs]:
        new = dict(old.attributes)
        new.update(attrs)
        new.update(data)
        return state, new

    return effect


def _keep_state(old: EntityState, data: Mapping[str, Any]) -> tuple[str, Attrs]:
    new = dict(old.attributes)
    new.update(data)
    return old.state, new


def _cover_position(old: EntityState, data: Mapping[str, Any]) -> tuple[str, Attrs]:
    pos = int(data["position"])
    return ("open" if pos > 0 else "closed"), {**old.attributes, "current_position": pos}


def _fan_percentage(old: EntityState, data: Mapping[str, Any]) -> tuple[str, Attrs]:
    pct = int(data["percentage"])
    return ("on" if pct > 0 else "off"), {**old.attributes, "percentage": pct}


def _toggle(old: EntityState, data: Mapping[str, Any]) -> tuple[str, Attrs]:
    return ("off" if old.state == "on" else "on"), dict(old.attributes)


Effect = Callable[[EntityState, Mapping[str, Any]], tuple[str, Attrs]]

SERVICES: dict[str, dict[str, tuple[dict[str, Param], Effect]]] = {
    "light": {
        "turn_on": (
            {
                "brightness_pct": Param("number", 1, 100, feature="dimmable"),
                "rgb_color": Param("rgb", feature="color"),
            },
            _set("on"),
        ),
        "turn_off": ({}, _set("off")),
        "toggle": ({}, _toggle),
    },
    "switch": {"turn_on": ({}, _set("on")), "turn_off": ({}, _set("off")), "toggle": ({}, _toggle)},
    "fan": {
        "turn_on": ({"percentage": Param("number", 1, 100, feature="speed")}, _set("on")),
        "turn_off": ({}, _set("off")),
        "set_percentage": ({"percentage": Param("number", 0, 100, feature="speed")}, _fan_percentage),
    },
    "climate": {
        "set_temperature": ({"temperature": Param("number", 10, 30)}, _keep_state),
        "turn_on": ({}, _set("heat")),
        "turn_off": ({}, _set("off")),
    },
    "cover": {
        "open_cover": ({}, _set("open", current_position=100)),
        "close_cover": ({}, _set("closed", current_position=0)),
        "set_cover_position": ({"position": Param("number", 0, 100, feature="position")}, _cover_position),
        "stop_cover": ({}, _keep_state),
    },
    "lock": {"lock": ({}, _set("locked")), "unlock": ({}, _set("unlocked"))},
    "vacuum": {
        "start": ({}, _set("cleaning")),
        "stop": ({}, _set("idle")),
        "pause": ({}, _set("paused")),
        "return_to_base": ({}, _set("returning")),
    },
    "media_player": {
        "media_play": ({}, _set("playing")),
        "media_pause": ({}, _set("paused")),
        "media_stop": ({}, _set("idle")),
        "media_next_track": ({}, _keep_state),
        "media_previous_track": ({}, _keep_state),
        "volume_set": ({"volume_level": Param("number", 0.0, 1.0, feature="volume")}, _keep_state),
        "volume_mute": ({}, _keep_state),
    },
    "sensor": {},
}


def services_for(entity: Entity) -> list[str]:
    """Full service names (``light.turn_on``) this entity supports."""
    return [f"{entity.domain}.{s}" for s in SERVICES.get(entity.domain, {})]


def validate(entity: Entity, service: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Check a call against the table; return the data normalised (numbers as numbers)."""
    domain, _, name = service.partition(".")
    if domain != entity.domain:
        raise HomeError(f"{service} cannot act on {entity.entity_id}", code="wrong_domain")
    spec = SERVICES.get(domain, {}).get(name)
    if spec is None:
        raise HomeError(f"{entity.name} does not support {service}", code="unsupported_service")
    params, _ = spec
    clean: dict[str, Any] = {}
    for key, value in data.items():
        param = params.get(key)
        if param is None:
            raise HomeError(f"{service} does not take {key!r}", code="invalid_value")
        if param.feature and param.feature not in entity.features:
            raise HomeError(f"{entity.name} is not {param.feature}", code="unsupported_feature")
        clean[key] = _check(param, key, value)
    return clean


def _check(param: Param, key: str, value: Any) -> Any:
    if param.kind == "rgb":
        if (
            isinstance(value, (list, tuple))
            and len(value) == 3
            and all(isinstance(v, (int, float)) and 0 <= v <= 255 for v in value)
        ):
            return [int(v) for v in value]
        raise HomeError(f"{key} must be three numbers 0-255", code="invalid_value")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise HomeError(f"{key} must be a number", code="invalid_value")
    if not param.low <= value <= param.high:
        raise HomeError(
            f"{key} must be between {param.low:g} and {param.high:g}, not {value:g}",
            code="invalid_value",
        )
    return value


def apply(entity: Entity, old: EntityState, service: str, data: Mapping[str, Any]) -> EntityState:
    """The state a simulated device would be in after ``service`` (validated first)."""
    clean = validate(entity, service, data)
    _, effect = SERVICES[entity.domain][service.partition(".")[2]]
    state, attrs = effect(old, clean)
    return EntityState(entity.entity_id, state, attrs)
