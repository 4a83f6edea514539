"""The climate intents: a temperature set or stepped, a mode set, and the temperature asked."""

from __future__ import annotations

from typing import Any

from assistant.home.base import Entity
from assistant.understand.acting import Acting
from assistant.understand.registry import load
from assistant.understand.result import Action, Decision

_CLIMATE = load().domains["climate"]
TEMPERATURE = _CLIMATE.levels["temperature"]
"""The level a thermostat sets; its range is the device's own (°F or °C) where it says one."""


def climate_step(h: Acting, slots: dict[str, Any], area: str | None) -> Decision:
    """"Make it warmer": one degree up (or down) from the current target."""
    climates = thermostats(h, slots, area)
    if not climates:
        return h.nothing("a thermostat", slots, area)
    up = slots.get("step") == "up"
    calls = []
    for e in climates:
        attrs = h.home.get_state(e.entity_id).attributes
        low, high = TEMPERATURE.limits(attrs)
        cur = float(attrs.get("temperature", (low + high) / 2))
        new = max(low, min(high, cur + (TEMPERATURE.step if up else -TEMPERATURE.step)))
        calls.append(Action("climate.set_temperature", e.entity_id, {"temperature": new}))
    temp = float(calls[0].data["temperature"])
    return h.act(climates, calls, f"set {{}} to {temp:g} degrees", f"Set {{}} to {temp:g} degrees")


def thermostats(h: Acting, slots: dict[str, Any], area: str | None) -> list[Entity]:
    found = h.targets(slots, area, ["climate"])
    return found or [e for e in h.home.entities() if e.domain == "climate"][:1]


def set_temperature(h: Acting, slots: dict[str, Any], area: str | None) -> Decision:
    climates = thermostats(h, slots, area)
    if not climates:
        return h.nothing("a thermostat", slots, area)
    temp = float(slots["temperature"])
    for e in climates:
        low, high = TEMPERATURE.limits(h.home.get_state(e.entity_id).attributes)
        if not low <= temp <= high:  # one clear line, not a refused call
            return Decision("unhandled", f"The {e.name} can be set from {low:g} to {high:g} degrees, "
                            f"not {temp:g}.", reason="temperature out of the device's range")
    calls = [Action("climate.set_temperature", e.entity_id, {"temperature": temp}) for e in climates]
    return h.act(climates, calls, f"set {{}} to {temp:g} degrees", f"Set {{}} to {temp:g} degrees")


def get_temperature(h: Acting, slots: dict[str, Any], area: str | None) -> Decision:
    where = slots.get("area") or area
    if not slots.get("name") and not h.targets(slots, area, ["climate"]) and any(
            e.area == where and e.domain == "sensor" and e.device_class == "temperature"
            for e in h.home.entities()):  # the room's own thermometer, not another room's thermostat
        return h.get_state({**slots, "area": where, "domain": "sensor",
                            "device_class": "temperature"}, area)
    climates = thermostats(h, slots, area)
    if not climates:
        return h.nothing("a thermostat", slots, area)
    attrs = h.home.get_state(climates[0].entity_id).attributes
    return Decision("local", f"It's {attrs.get('current_temperature', 'unknown')} degrees, "
                    f"and the {climates[0].name} is set to {attrs.get('temperature')}.")


def set_mode(h: Acting, slots: dict[str, Any], area: str | None) -> Decision:
    """"Put the heat pump on auto": the mode said, on the thermostats that have it (their
    ``hvac_modes`` where the state lists them, else the kind's own choices)."""
    climates = thermostats(h, slots, area)
    if not climates:
        return h.nothing("a thermostat", slots, area)
    mode = str(slots.get("hvac_mode", ""))
    able = [e for e in climates if mode in _modes(h, e)]
    said = mode.replace("_", " ")
    if not able:
        return Decision("unhandled", f"The {climates[0].name} has no {said} mode.",
                        reason=f"hvac mode {mode!r} not among the device's modes")
    calls = [Action("climate.set_hvac_mode", e.entity_id, {"hvac_mode": mode}) for e in able]
    return h.act(able, calls, f"set {{}} to {said}", f"Set {{}} to {said}")


def _modes(h: Acting, e: Entity) -> tuple[str, ...]:
    listed = h.home.get_state(e.entity_id).attributes.get("hvac_modes")
    if isinstance(listed, (list, tuple)) and listed:
        return tuple(str(m) for m in listed)
    return _CLIMATE.attributes["hvac_mode"].choices
