"""The service vocabulary (Home Assistant's names), its validation and its effect.

The table is built from the device kinds (:mod:`assistant.home.kinds`, ``kinds.yaml``):
which services each domain has, which data each accepts and what it does to a state.
Backends validate every call here, so a wrong value is refused the same way whoever
proposed it (templates, the local LLM, the cloud, a skill). The demo home also uses
:func:`apply` to simulate the device.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from assistant.errors import HomeError
from assistant.home.base import Entity, EntityState
from assistant.home.kinds import Domain, Level, Service, load_kinds

Attrs = dict[str, Any]


@dataclass(frozen=True)
class Param:
    """One accepted data field: a number in a range, an RGB triple, a flag or a choice."""

    kind: str  # "number" | "rgb" | "bool" | "choice"
    low: float = 0.0
    high: float = 0.0
    feature: str | None = None
    choices: tuple[str, ...] = ()
    level: Level | None = None
    """The level it sets, whose range may be the device's own (a thermostat in °F)."""


Effect = Callable[[EntityState, Mapping[str, Any]], tuple[str, Attrs]]


def _effect(domain: Domain, service: Service) -> Effect:
    """What the service does to a simulated device (kinds.yaml: state, sets, effect)."""
    level = next((domain.levels[k] for k in service.data if k in domain.levels), None)
    if service.effect in ("step", "level") and level is None:
        level = next(iter(domain.levels.values()), None)

    def effect(old: EntityState, data: Mapping[str, Any]) -> tuple[str, Attrs]:
        new = dict(old.attributes)
        state = old.state if service.state is None else service.state
        if service.effect == "toggle":  # what toggle means in this state, done
            way = domain.toggle.get(old.state)
            done = next((s for s in domain.services.values() if way and s.does[:1] == (way,)), None)
            if done is None:
                return old.state, new
            new.update(done.sets)
            return (old.state if done.state is None else done.state), new
        if service.effect == "mode" and data:
            state = str(next(iter(data.values())))
        elif service.effect == "step" and level is not None:
            current = float(new.get(level.current, level.low) or 0)
            up = "up" in service.does
            value = max(level.low, min(level.high, current + (level.step if up else -level.step)))
            new[level.current] = round(value, 2) if level.unit == "fraction" else round(value)
            return state, new
        new.update(service.sets)
        new.update(data)
        if service.effect == "level" and level is not None and level.name in data:
            value = data[level.name]
            new.pop(level.name, None)
            new[level.current] = value
            ways = (level.up, "open", "on") if value > 0 else (level.down, "close", "off")
            state = _state_after(domain, ways) or state  # a cover at 40 % is open, a fan at 0 off
        return state, new

    return effect


def _state_after(domain: Domain, ways: tuple[str, ...]) -> str | None:
    for way in ways:
        for s in domain.services.values():
            if s.does[:1] == (way,) and s.state is not None:
                return s.state
    return None


def _params(domain: Domain, service: Service) -> dict[str, Param]:
    out: dict[str, Param] = {}
    for key in service.data:
        if key in domain.levels:
            lv = domain.levels[key]
            out[key] = Param("number", lv.low, lv.high, feature=lv.feature, level=lv)
        elif key in domain.attributes:
            at = domain.attributes[key]
            out[key] = Param(at.kind, feature=at.feature, choices=at.choices)
    return out


SERVICES: dict[str, dict[str, tuple[dict[str, Param], Effect]]] = {
    name: {sname: (_params(domain, s), _effect(domain, s)) for sname, s in domain.services.items()}
    for name, domain in load_kinds().domains.items()
}


def services_for(entity: Entity) -> list[str]:
    """Full service names (``light.turn_on``) this entity supports."""
    return [f"{entity.domain}.{s}" for s in SERVICES.get(entity.domain, {})]


def validate(entity: Entity, service: str, data: Mapping[str, Any],
             state: EntityState | None = None) -> dict[str, Any]:
    """Check a call against the table; return the data normalised (numbers as numbers).
    With the device's ``state``, a level's range is the device's own where it says one."""
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
        if param.level is not None and state is not None:
            low, high = param.level.limits(state.attributes)
            param = replace(param, low=low, high=high)
        clean[key] = _check(param, key, value)
    return clean


def _check(param: Param, key: str, value: Any) -> Any:
    if param.kind == "bool":
        if isinstance(value, bool):
            return value
        raise HomeError(f"{key} must be true or false", code="invalid_value")
    if param.kind == "choice":
        if isinstance(value, str) and value in param.choices:
            return value
        raise HomeError(f"{key} must be one of {', '.join(param.choices)}", code="invalid_value")
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
    clean = validate(entity, service, data, old)
    _, effect = SERVICES[entity.domain][service.partition(".")[2]]
    state, attrs = effect(old, clean)
    return EntityState(entity.entity_id, state, attrs)
