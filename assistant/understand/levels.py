"""Levels in the words: the value said for a level, and a step up or down on it.

The direction check (:mod:`direction`) uses these to make the values done the values said
("eighteen degrees" -> 18, "full brightness" -> 100, 68 on a thermostat in °F) and to turn
a bare "up"/"down" into a step on a level rather than a jump to its end. A level's range
is the device's own where its state says one (``Level.limits``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from assistant.home.base import Entity, EntityState
from assistant.understand.registry import Domain, Level, Service
from assistant.understand.result import Action
from assistant.understand.said import Said

FALLS_OFF = frozenset({"off", "stop", "pause", "dock", "mute"})
"""Services that end a device's use: "turn off the light at full" leaves the level alone."""


def current(level: Level, state: EntityState | None) -> float | None:
    """The level now (0 % for a light that is off), or None when the state does not say."""
    if state is None:
        return None
    if level.when_off is not None and state.state == "off":
        return level.when_off
    value: Any = state.attributes.get(level.current)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def number(level: Level, value: float) -> float:
    """A value as the level holds it: a fraction to two places, anything else whole."""
    return round(value, 2) if level.unit == "fraction" else round(value)


def clamped(level: Level, value: float, state: EntityState | None) -> float:
    low, high = level.limits(state.attributes if state else None)
    return number(level, max(low, min(high, value)))


def said_value(level: Level, said: Said, state: EntityState | None = None) -> float | None:
    """The value ``said`` gives this level, in its own unit, or None."""
    low, high = level.limits(state.attributes if state else None)
    changed = said.value(("percent", "degrees", "kelvin", "share", "bare"))
    if changed is not None and changed.change:  # "up two degrees": from the level now
        now = current(level, state)
        units = ("percent",) if level.unit in ("percent", "fraction") else (level.unit,)
        if now is None or changed.unit not in units:
            return None
        step = changed.number / 100 if level.unit == "fraction" else changed.number
        return clamped(level, now + changed.change * step, state)
    if level.unit in ("percent", "fraction"):
        value = said.value(("percent", "share", "bare"))
        if value is None:
            return None
        pct = value.number
        if value.unit == "bare" and ((level.unit == "fraction" and pct <= 10) or pct > 100):
            return None
        if value.unit == "share":
            pct = low if pct == 0 and level.unit == "percent" else pct
        if not 0 <= pct <= 100:
            return None
        return pct / 100 if level.unit == "fraction" else max(low, pct)
    if level.unit in ("degrees", "kelvin"):
        value = said.value((level.unit, "bare"))
        if value is not None and low <= value.number <= high:
            return value.number
    return None


def with_said_values(action: Action, domain: Domain, service: Service, entity: Entity,
                     state: EntityState | None, said: Said, supported: set[str]) -> Action:
    """The action with the values the words said ("eighteen degrees" -> 18)."""
    for key, level in domain.levels.items():
        value = said_value(level, said, state)
        if value is None or (level.feature and level.feature not in entity.features):
            continue
        value = number(level, value) if level.unit == "percent" else value
        if key in action.data:
            if action.data[key] != value:
                action = replace(action, data={**action.data, key: value})
            continue
        if service.does and service.does[0] in FALLS_OFF:
            continue  # "turn off the light at full" says two things: leave it be
        setter = domain.setter(key)  # the service that sets it ("on full" -> set_percentage 100)
        if setter is not None and setter.name in supported:
            data = {k: v for k, v in action.data.items() if k in setter.data}
            action = Action(f"{domain.name}.{setter.name}", action.entity_id, {**data, key: value})
        elif key in service.data:
            action = replace(action, data={**action.data, key: value})
    return action


def not_to_the_floor(action: Action, domain: Domain, state: EntityState | None,
                     aff: set[str], said: Said) -> Action | None:
    """'Down' with no value said takes a level down a step, not to its bottom (off)."""
    if aff != {"down"}:
        return None
    for key, value in action.data.items():
        level = domain.levels.get(key)
        if level is None or not level.step or said_value(level, said, state) is not None:
            continue
        now = current(level, state)
        low, _ = level.limits(state.attributes if state else None)
        if now is None or not isinstance(value, (int, float)) or value > low or now - level.step <= low:
            continue
        return replace(action, data={**action.data, key: number(level, now - level.step)})
    return None


def already_at_the_floor(action: Action, domain: Domain, state: EntityState | None,
                         aff: set[str], said: Said) -> bool:
    """'Down' with no value said, for a level already at its bottom ("slow the fan down"
    with the fan off): there is nothing to turn down."""
    if aff != {"down"}:
        return False
    for key in action.data:
        level = domain.levels.get(key)
        if level is None or said_value(level, said, state) is not None:
            continue
        now = current(level, state)
        low, _ = level.limits(state.attributes if state else None)
        if now is not None and now <= low:
            return True
    return False


def step_instead(action: Action, domain: Domain, found: Service | None, entity: Entity,
                 state: EntityState | None, aff: set[str], supported: set[str]) -> Action | None:
    """'Up'/'down' alone, for a device with a level the action leaves alone: a step on it."""
    if not aff or not aff <= {"up", "down"} or len(aff) != 1:
        return None
    if any(k in domain.levels for k in action.data):
        return None
    if found is not None and set(found.does) & {"up", "down", "open", "close"}:
        return None  # it already moves that way ("lower the blinds" closes them)
    off = state is not None and state.state == "off"
    if off and (found is None or found.does[:1] == ("on",)):
        return None  # "it's dark in here" with the light off: turning it on is the rise
    for key, level in domain.levels.items():
        if not level.step or (level.feature and level.feature not in entity.features):
            continue
        setter = domain.setter(key)
        now = current(level, state)
        if setter is None or now is None or setter.name not in supported:
            continue
        if "down" in aff and off:
            return None  # nothing to turn down on a device that is off
        value = clamped(level, now + (level.step if "up" in aff else -level.step), state)
        return Action(f"{domain.name}.{setter.name}", action.entity_id, {key: value})
    return None


def mirrored(action: Action, domain: Domain, state: EntityState | None,
             keys: list[str]) -> Action | None:
    """The same change the other way ("dimmer" proposed as 70 % from 50 % -> 30 %)."""
    data = dict(action.data)
    for key in keys:
        level = domain.levels[key]
        now = current(level, state)
        if now is None:
            return None
        data[key] = clamped(level, 2 * now - float(data[key]), state)
    return replace(action, data=data)
