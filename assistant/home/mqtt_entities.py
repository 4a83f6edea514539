"""Home Assistant MQTT discovery: config payloads -> entities, commands and states.

One class per component (light in the default and JSON schemas, switch, fan, cover,
climate, lock, sensor, binary_sensor) knows its topics, how a service call becomes
payloads, and how a state payload changes the entity's state. Discovery payloads may
use Home Assistant's abbreviations and the ``~`` base topic; value templates are Jinja,
rendered in a sandbox like Home Assistant does. Anything malformed raises
:class:`DiscoveryError` (config) or ``ValueError`` (state) for the caller to log.
The shared machinery is in :mod:`assistant.home.mqtt_component`, the lights in
:mod:`assistant.home.mqtt_lights`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assistant.home.base import Entity, EntityState
from assistant.home.exposure import area_id
from assistant.home.mqtt_component import (
    Availability,
    Component,
    DiscoveryError,
    Publish,
    Template,
    _number,
    _slug,
    _str,
    _with,
    expand,
)
from assistant.home.mqtt_lights import JsonLight, Light

__all__ = ["COMPONENTS", "BinarySensor", "Climate", "Cover", "Discovered", "DiscoveryError", "Fan",
           "JsonLight", "Light", "Lock", "Sensor", "Switch", "parse_discovery", "suggested_area"]

class Switch(Component):
    domain = "switch"

    def command(self, service: str, data: Mapping[str, Any], state: EntityState) -> list[Publish]:
        return [(self.config["command_topic"], self._on_off(service, state))]

    def update(self, topic: str, payload: str, state: EntityState) -> EntityState | None:
        return self._binary(payload, state)


class BinarySensor(Component):
    domain = "binary_sensor"
    required = ("state_topic",)

    def update(self, topic: str, payload: str, state: EntityState) -> EntityState | None:
        return self._binary(payload, state)


class Sensor(Component):
    domain = "sensor"
    required = ("state_topic",)

    def update(self, topic: str, payload: str, state: EntityState) -> EntityState | None:
        value = self.value_template.render(payload)
        if value == "":
            return None
        return _with(state, value)


class Lock(Component):
    domain = "lock"
    STATES = (("state_locked", "LOCKED", "locked"), ("state_unlocked", "UNLOCKED", "unlocked"),
              ("state_locking", "LOCKING", "locking"),
              ("state_unlocking", "UNLOCKING", "unlocking"), ("state_jammed", "JAMMED", "jammed"))

    def command(self, service: str, data: Mapping[str, Any], state: EntityState) -> list[Publish]:
        lock = service == "lock"
        key, default = ("payload_lock", "LOCK") if lock else ("payload_unlock", "UNLOCK")
        return [(self.config["command_topic"], _str(self.config, key, default))]

    def update(self, topic: str, payload: str, state: EntityState) -> EntityState | None:
        value = self.value_template.render(payload)
        for key, default, ha_state in self.STATES:
            if value == _str(self.config, key, default):
                return _with(state, ha_state)
        raise ValueError(f"{value!r} is not a lock state")


class Fan(Component):
    domain = "fan"

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.low = int(config.get("speed_range_min", 1))
        self.high = int(config.get("speed_range_max", 100))
        if not 0 < self.low <= self.high:
            raise DiscoveryError("fan speed range must be 0 < min <= max")
        self.pct_template = Template(config.get("percentage_value_template"))

    def features(self) -> frozenset[str]:
        return frozenset({"speed"}) if self.config.get("percentage_command_topic") else frozenset()

    def state_topics(self) -> list[str]:
        keys = ("state_topic", "percentage_state_topic")
        return [self.config[k] for k in keys if isinstance(self.config.get(k), str)]

    def _ranged(self, pct: float) -> int:
        return math.ceil(pct * (self.high - self.low + 1) / 100) + self.low - 1

    def command(self, service: str, data: Mapping[str, Any], state: EntityState) -> list[Publish]:
        cmd = self.config["command_topic"]
        pct_topic = self.config.get("percentage_command_topic")
        if service == "set_percentage":
            pct = float(data["percentage"])
            if pct == 0:
                return [(cmd, self._on_off("turn_off", state))]
            return [(str(pct_topic), str(self._ranged(pct)))]
        out = [(cmd, self._on_off(service, state))]
        if service == "turn_on" and "percentage" in data:
            out.append((str(pct_topic), str(self._ranged(float(data["percentage"])))))
        return out

    def update(self, topic: str, payload: str, state: EntityState) -> EntityState | None:
        if topic == self.config.get("percentage_state_topic"):
            value = self.pct_template.render(payload)
            if value in ("", "None"):
                return None
            raw = _number(value, "fan speed")
            pct = 0 if raw == 0 else round((raw - self.low + 1) / (self.high - self.low + 1) * 100)
            return _with(state, percentage=max(0, min(100, pct)))
        return self._binary(payload, state)


class Cover(Component):
    domain = "cover"
    required = ()
    STATES = (("state_open", "open", "open"), ("state_closed", "closed", "closed"),
              ("state_opening", "opening", "opening"), ("state_closing", "closing", "closing"))

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        if not config.get("command_topic") and not config.get("set_position_topic"):
            raise DiscoveryError("cover config needs command_topic or set_position_topic")
        self.open_at = float(config.get("position_open", 100))
        self.closed_at = float(config.get("position_closed", 0))
        if self.open_at == self.closed_at:
            raise DiscoveryError("position_open and position_closed must differ")
        self.pos_template = Template(config.get("position_template"))

    def features(self) -> frozenset[str]:
        return frozenset({"position"}) if self.config.get("set_position_topic") else frozenset()

    def state_topics(self) -> list[str]:
        keys = ("state_topic", "position_topic")
        return [self.config[k] for k in keys if isinstance(self.config.get(k), str)]

    def command(self, service: str, data: Mapping[str, Any], state: EntityState) -> list[Publish]:
        if service == "set_cover_position":
            raw = self.closed_at + float(data["position"]) * (self.open_at - self.closed_at) / 100
            return [(str(self.config["set_position_topic"]), str(round(raw)))]
        key, default = {"open_cover": ("payload_open", "OPEN"),
                        "close_cover": ("payload_close", "CLOSE"),
                        "stop_cover": ("payload_stop", "STOP")}[service]
        if not self.config.get("command_topic"):
            if service == "stop_cover":
                raise ValueError("this cover cannot be stopped")
            pos = {"open_cover": 100.0, "close_cover": 0.0}[service]
            return self.command("set_cover_position", {"position": pos}, state)
        return [(self.config["command_topic"], _str(self.config, key, default))]

    def update(self, topic: str, payload: str, state: EntityState) -> EntityState | None:
        if topic == self.config.get("position_topic"):
            value = self.pos_template.render(payload)
            if value in ("", "None"):
                return None
            raw = _number(value, "cover position")
            pct = round((raw - self.closed_at) / (self.open_at - self.closed_at) * 100)
            pct = max(0, min(100, pct))
            derived = "open" if pct > 0 else "closed"
            new = state.state if self.config.get("state_topic") else derived
            return _with(state, new, current_position=pct)
        value = self.value_template.render(payload)
        for key, default, ha_state in self.STATES:
            if value == _str(self.config, key, default):
                return _with(state, ha_state)
        if value == _str(self.config, "state_stopped", "stopped"):
            pos = state.attributes.get("current_position")
            return _with(state, "closed" if pos == 0 else "open")
        raise ValueError(f"{value!r} is not a cover state")


class Climate(Component):
    domain = "climate"
    required = ()

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        if not any(config.get(k) for k in ("temperature_command_topic", "mode_command_topic",
                                           "power_command_topic")):
            raise DiscoveryError("climate config needs a temperature or mode command topic")
        modes = config.get("modes", ["auto", "off", "cool", "heat", "dry", "fan_only"])
        if not isinstance(modes, list) or not all(isinstance(m, str) for m in modes):
            raise DiscoveryError("climate modes must be a list of strings")
        self.modes = modes
        self.min_temp = float(config.get("min_temp", 7))
        self.max_temp = float(config.get("max_temp", 35))
        self.templates = {
            "mode_state_topic": Template(config.get("mode_state_template")),
            "temperature_state_topic": Template(config.get("temperature_state_template")),
            "current_temperature_topic": Template(config.get("current_temperature_template")),
        }

    def initial(self) -> tuple[str, dict[str, Any]]:
        return ("unknown" if self.config.get("mode_state_topic") else "heat",
                {"min_temp": self.min_temp, "max_temp": self.max_temp})

    def state_topics(self) -> list[str]:
        return [self.config[k] for k in self.templates if isinstance(self.config.get(k), str)]

    def command(self, service: str, data: Mapping[str, Any], state: EntityState) -> list[Publish]:
        if service == "set_temperature":
            temp = float(data["temperature"])
            if not self.min_temp <= temp <= self.max_temp:
                raise ValueError(
                    f"temperature must be between {self.min_temp:g} and {self.max_temp:g}")
            topic = self.config.get("temperature_command_topic")
            if not topic:
                raise ValueError("this thermostat has no target temperature")
            return [(str(topic), f"{temp:.1f}")]
        topic = self.config.get("mode_command_topic")
        if topic:
            if service == "turn_off":
                return [(str(topic), "off")]
            mode = next((m for m in ("heat", "auto", "heat_cool", "cool") if m in self.modes), None)
            if mode is None:
                raise ValueError("this thermostat has no mode to turn on")
            return [(str(topic), mode)]
        return [(str(self.config["power_command_topic"]), self._on_off(service, state))]

    def update(self, topic: str, payload: str, state: EntityState) -> EntityState | None:
        for key, tpl in self.templates.items():
            if topic != self.config.get(key):
                continue
            value = tpl.render(payload)
            if value in ("", "None"):
                return None
            if key == "mode_state_topic":
                if value not in self.modes:
                    raise ValueError(f"{value!r} is not one of the modes {self.modes}")
                state = _with(state, value)
            elif key == "temperature_state_topic":
                state = _with(state, temperature=_number(value, "target temperature"))
            else:
                state = _with(state, current_temperature=_number(value, "current temperature"))
        return state


COMPONENTS: dict[str, type[Component]] = {
    "switch": Switch, "fan": Fan, "cover": Cover, "climate": Climate, "lock": Lock,
    "sensor": Sensor, "binary_sensor": BinarySensor, "light": Light,
}


@dataclass(frozen=True)
class Discovered:
    """One entity announced on ``<prefix>/<component>/[node/]object/config``."""

    key: str
    """The discovery topic without the prefix and ``/config``; identifies the entity."""
    entity: Entity
    component: Component
    availability: Availability
    initial: EntityState


def parse_discovery(component: str, node: str | None, object_id: str, payload: str) -> Discovered:
    """Build an entity from one discovery message; :class:`DiscoveryError` if unusable."""
    key = "/".join(p for p in (component, node, object_id) if p)
    try:
        raw = json.loads(payload)
    except ValueError as exc:
        raise DiscoveryError(f"not JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise DiscoveryError("must be a JSON object")
    config = expand(raw)
    if component == "light":
        schema = _str(config, "schema", "default")
        if schema not in ("default", "basic", "json"):
            raise DiscoveryError(f"light schema {schema!r} is not supported (default or json)")
        impl: Component = JsonLight(config) if schema == "json" else Light(config)
    elif component in COMPONENTS:
        impl = COMPONENTS[component](config)
    else:
        raise DiscoveryError(f"component {component!r} is not supported")
    device = config.get("device") if isinstance(config.get("device"), dict) else {}
    assert isinstance(device, dict)
    device_name = device.get("name") if isinstance(device.get("name"), str) else None
    name = config.get("name")
    if name is not None and not isinstance(name, str):
        raise DiscoveryError("name must be a string or null")
    if name and device_name and not name.lower().startswith(device_name.lower()):
        friendly = f"{device_name} {name}"
    else:
        friendly = name or device_name or object_id.replace("_", " ").title()
    explicit = config.get("default_entity_id") or config.get("object_id")
    if isinstance(explicit, str) and explicit:
        obj = explicit.split(".", 1)[1] if explicit.startswith(component + ".") else explicit
    else:
        obj = friendly if (name or device_name) else object_id
    entity_object = _slug(obj) or _slug(object_id) or "entity"
    area = device.get("suggested_area")
    unit = config.get("unit_of_measurement") or config.get("temperature_unit")
    entity = Entity(
        entity_id=f"{component}.{entity_object}",
        name=friendly,
        area=area_id(area) if isinstance(area, str) and area.strip() else None,
        features=impl.features(),
        device_class=dc if isinstance(dc := config.get("device_class"), str) else None,
        unit=str(unit) if unit else None,
    )
    state, attrs = impl.initial()
    return Discovered(key, entity, impl, Availability.from_config(config),
                      EntityState(entity.entity_id, state, attrs))


def suggested_area(discovered: Discovered) -> str | None:
    """The human name of the device's suggested area, for the area list."""
    device = discovered.component.config.get("device")
    if isinstance(device, dict) and isinstance(device.get("suggested_area"), str):
        return str(device["suggested_area"]).strip() or None
    return None
