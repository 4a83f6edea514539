"""Home Assistant MQTT discovery: config payloads -> entities, commands and states.

One class per component (light in the default and JSON schemas, switch, fan, cover,
climate, lock, sensor, binary_sensor) knows its topics, how a service call becomes
payloads, and how a state payload changes the entity's state. Discovery payloads may
use Home Assistant's abbreviations and the ``~`` base topic; value templates are Jinja,
rendered in a sandbox like Home Assistant does. Anything malformed raises
:class:`DiscoveryError` (config) or ``ValueError`` (state) for the caller to log.
"""

from __future__ import annotations

import colorsys
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from assistant.home.base import Entity, EntityState
from assistant.home.exposure import area_id

Publish = tuple[str, str]
"""(topic, payload) for one command message."""

ABBREVIATIONS = {
    "avty": "availability", "avty_mode": "availability_mode", "avty_t": "availability_topic",
    "avty_tpl": "availability_template", "bri_cmd_t": "brightness_command_topic",
    "bri_scl": "brightness_scale", "bri_stat_t": "brightness_state_topic",
    "bri_val_tpl": "brightness_value_template", "clrm": "color_mode",
    "cmd_t": "command_topic", "curr_temp_t": "current_temperature_topic",
    "curr_temp_tpl": "current_temperature_template", "def_ent_id": "default_entity_id",
    "dev": "device", "dev_cla": "device_class", "hs_cmd_t": "hs_command_topic",
    "hs_stat_t": "hs_state_topic", "hs_val_tpl": "hs_value_template", "max_temp": "max_temp",
    "min_temp": "min_temp", "mode_cmd_t": "mode_command_topic", "mode_stat_t": "mode_state_topic",
    "mode_stat_tpl": "mode_state_template", "obj_id": "object_id", "on_cmd_type": "on_command_type",
    "opt": "optimistic", "pct_cmd_t": "percentage_command_topic",
    "pct_stat_t": "percentage_state_topic", "pct_val_tpl": "percentage_value_template",
    "pl_avail": "payload_available", "pl_cls": "payload_close", "pl_lock": "payload_lock",
    "pl_not_avail": "payload_not_available", "pl_off": "payload_off", "pl_on": "payload_on",
    "pl_open": "payload_open", "pl_stop": "payload_stop", "pl_unlk": "payload_unlock",
    "pos_clsd": "position_closed", "pos_open": "position_open", "pos_t": "position_topic",
    "pos_tpl": "position_template", "pow_cmd_t": "power_command_topic", "ret": "retain",
    "rgb_cmd_t": "rgb_command_topic", "rgb_stat_t": "rgb_state_topic",
    "rgb_val_tpl": "rgb_value_template", "set_pos_t": "set_position_topic",
    "spd_rng_max": "speed_range_max", "spd_rng_min": "speed_range_min",
    "stat_closing": "state_closing", "stat_clsd": "state_closed", "stat_jam": "state_jammed",
    "stat_locked": "state_locked", "stat_locking": "state_locking", "stat_off": "state_off",
    "stat_on": "state_on", "stat_open": "state_open", "stat_opening": "state_opening",
    "stat_stopped": "state_stopped", "stat_t": "state_topic", "stat_tpl": "state_template",
    "stat_unlocked": "state_unlocked", "stat_unlocking": "state_unlocking",
    "stat_val_tpl": "state_value_template", "sup_clrm": "supported_color_modes", "t": "topic",
    "temp_cmd_t": "temperature_command_topic", "temp_stat_t": "temperature_state_topic",
    "temp_stat_tpl": "temperature_state_template", "temp_step": "temp_step",
    "temp_unit": "temperature_unit", "uniq_id": "unique_id",
    "unit_of_meas": "unit_of_measurement", "val_tpl": "value_template",
}
DEVICE_ABBREVIATIONS = {
    "ids": "identifiers", "mf": "manufacturer", "mdl": "model", "sa": "suggested_area",
    "sw": "sw_version", "cns": "connections",
}
COLOR_MODES = frozenset({"hs", "xy", "rgb", "rgbw", "rgbww"})
DIM_MODES = COLOR_MODES | {"brightness", "color_temp", "white"}

_templates = ImmutableSandboxedEnvironment(autoescape=False)


class DiscoveryError(ValueError):
    """A discovery config this backend cannot use (the caller logs it and moves on)."""


def expand(config: Mapping[str, Any]) -> dict[str, Any]:
    """Full key names, and ``~`` replaced by the base topic, as Home Assistant does."""
    out = {ABBREVIATIONS.get(k, k): v for k, v in config.items()}
    base = out.pop("~", None)

    def topic(value: Any) -> Any:
        if isinstance(value, str) and isinstance(base, str):
            if value.startswith("~"):
                return base + value[1:]
            if value.endswith("~"):
                return value[:-1] + base
        return value

    for key in list(out):
        if key.endswith("_topic") or key == "topic":
            out[key] = topic(out[key])
    if isinstance(out.get("availability"), list):
        entries = []
        for entry in out["availability"]:
            if not isinstance(entry, dict):
                raise DiscoveryError("availability entries must be objects")
            e = {ABBREVIATIONS.get(k, k): v for k, v in entry.items()}
            e["topic"] = topic(e.get("topic"))
            entries.append(e)
        out["availability"] = entries
    if isinstance(out.get("device"), dict):
        out["device"] = {DEVICE_ABBREVIATIONS.get(k, k): v for k, v in out["device"].items()}
    return out


class Template:
    """A Home Assistant value template: ``{{ value_json.temperature }}``."""

    def __init__(self, source: str | None) -> None:
        try:
            self._tpl = _templates.from_string(source) if source else None
        except jinja2.TemplateError as exc:
            raise DiscoveryError(f"bad template {source!r}: {exc}") from None

    def render(self, payload: str) -> str:
        if self._tpl is None:
            return payload
        try:
            value_json = json.loads(payload)
        except ValueError:
            value_json = None
        try:
            return self._tpl.render(value=payload, value_json=value_json).strip()
        except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError) as exc:
            raise ValueError(f"template failed on {payload[:60]!r}: {exc}") from None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{what} {text!r} is not a finite number")
    return value


def _str(config: Mapping[str, Any], key: str, default: str) -> str:
    value = config.get(key, default)
    if value is None:
        return default
    if isinstance(value, (dict, list)):
        raise DiscoveryError(f"{key} must be a string")
    return str(value)


@dataclass(frozen=True)
class Availability:
    """Home Assistant availability: topics that say online/offline, and a mode."""

    entries: tuple[tuple[str, str, str, Template], ...]
    mode: str = "latest"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Availability:
        raw: list[Mapping[str, Any]] = []
        if isinstance(config.get("availability_topic"), str):
            raw.append({"topic": config["availability_topic"],
                        "payload_available": config.get("payload_available", "online"),
                        "payload_not_available": config.get("payload_not_available", "offline"),
                        "value_template": config.get("availability_template")})
        raw.extend(config.get("availability") or [])
        entries = []
        for e in raw:
            if not isinstance(e.get("topic"), str) or not e["topic"]:
                raise DiscoveryError("availability entry without a topic")
            entries.append((e["topic"], _str(e, "payload_available", "online"),
                            _str(e, "payload_not_available", "offline"),
                            Template(e.get("value_template"))))
        mode = _str(config, "availability_mode", "latest")
        if mode not in ("latest", "all", "any"):
            raise DiscoveryError(f"availability_mode must be latest, all or any, not {mode!r}")
        return cls(tuple(entries), mode)

    @property
    def topics(self) -> list[str]:
        return [e[0] for e in self.entries]

    def status(self, topic: str, payload: str) -> bool | None:
        """Online (True), offline (False) or not a status payload (None) for one message."""
        for t, on, off, tpl in self.entries:
            if t == topic:
                value = tpl.render(payload)
                if value == on:
                    return True
                if value == off:
                    return False
        return None

    def available(self, seen: Mapping[str, bool], latest: bool | None) -> bool:
        """Until a status arrives an entity with availability topics is unavailable."""
        if not self.entries:
            return True
        if self.mode == "latest":
            return bool(latest)
        values = [seen.get(t) for t in self.topics]
        if self.mode == "all":
            return all(v is True for v in values)
        return any(v is True for v in values)


class Component:
    """One discovered entity's protocol: its topics, commands and state updates."""

    domain: ClassVar[str]
    required: ClassVar[tuple[str, ...]] = ("command_topic",)

    def __init__(self, config: dict[str, Any]) -> None:
        for key in self.required:
            if not isinstance(config.get(key), str) or not config[key]:
                raise DiscoveryError(f"{self.domain} config needs {key}")
        self.config = config
        self.retain = bool(config.get("retain", False))
        self.value_template = Template(config.get("value_template")
                                       or config.get("state_value_template"))

    # -- description -------------------------------------------------------------
    def features(self) -> frozenset[str]:
        return frozenset()

    def initial(self) -> tuple[str, dict[str, Any]]:
        return "unknown", {}

    def state_topics(self) -> list[str]:
        return [t for t in (self.config.get("state_topic"),) if isinstance(t, str) and t]

    @property
    def optimistic(self) -> bool:
        """No state topic (or told so): the state is what the last command made it."""
        return bool(self.config.get("optimistic")) or not self.state_topics()

    # -- behaviour ---------------------------------------------------------------
    def command(self, service: str, data: Mapping[str, Any], state: EntityState) -> list[Publish]:
        raise NotImplementedError

    def update(self, topic: str, payload: str, state: EntityState) -> EntityState | None:
        """The new state after ``payload`` on ``topic``; None if it changes nothing."""
        raise NotImplementedError

    def _on_off(self, service: str, state: EntityState) -> str:
        on = _str(self.config, "payload_on", "ON")
        off = _str(self.config, "payload_off", "OFF")
        if service == "toggle":
            return off if state.state == "on" else on
        return on if service == "turn_on" else off

    def _binary(self, payload: str, state: EntityState) -> EntityState | None:
        value = self.value_template.render(payload)
        on = _str(self.config, "state_on", _str(self.config, "payload_on", "ON"))
        off = _str(self.config, "state_off", _str(self.config, "payload_off", "OFF"))
        if value == on:
            return _with(state, "on")
        if value == off:
            return _with(state, "off")
        if value in ("", "None"):
            return None
        raise ValueError(f"{value!r} is neither {on!r} nor {off!r}")


def _with(state: EntityState, new: str | None = None, **attrs: Any) -> EntityState:
    return EntityState(state.entity_id, state.state if new is None else new,
                       {**state.attributes, **attrs}, state.available)


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


class Light(Component):
    """The default schema: ON/OFF on one topic, brightness and colour on their own."""

    domain = "light"

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.scale = float(config.get("brightness_scale", 255))
        if self.scale <= 0:
            raise DiscoveryError("brightness_scale must be positive")
        self.bri_template = Template(config.get("brightness_value_template"))
        self.rgb_template = Template(config.get("rgb_value_template"))
        self.hs_template = Template(config.get("hs_value_template"))

    def features(self) -> frozenset[str]:
        f = set()
        if self.config.get("brightness_command_topic"):
            f.add("dimmable")
        if self.config.get("rgb_command_topic") or self.config.get("hs_command_topic"):
            f.add("color")
        return frozenset(f)

    def state_topics(self) -> list[str]:
        keys = ("state_topic", "brightness_state_topic", "rgb_state_topic", "hs_state_topic")
        return [self.config[k] for k in keys if isinstance(self.config.get(k), str)]

    def command(self, service: str, data: Mapping[str, Any], state: EntityState) -> list[Publish]:
        power = [(self.config["command_topic"], self._on_off(service, state))]
        if service != "turn_on" or not data:
            return power
        extra: list[Publish] = []
        if "rgb_color" in data:
            r, g, b = data["rgb_color"]
            if self.config.get("rgb_command_topic"):
                extra.append((str(self.config["rgb_command_topic"]), f"{r},{g},{b}"))
            else:
                h, s = rgb_to_hs((r, g, b))
                extra.append((str(self.config["hs_command_topic"]), f"{h:g},{s:g}"))
        if "brightness_pct" in data:
            level = max(1, round(float(data["brightness_pct"]) * self.scale / 100))
            extra.append((str(self.config["brightness_command_topic"]), str(level)))
        order = _str(self.config, "on_command_type", "last")
        if order == "first":
            return power + extra
        if order == "brightness" and "brightness_pct" in data:
            return extra
        return extra + power

    def update(self, topic: str, payload: str, state: EntityState) -> EntityState | None:
        if topic == self.config.get("brightness_state_topic"):
            value = self.bri_template.render(payload)
            if value in ("", "None"):
                return None
            pct = round(_number(value, "brightness") * 100 / self.scale)
            return _with(state, brightness_pct=max(0, min(100, pct)))
        if topic == self.config.get("rgb_state_topic"):
            parts = self.rgb_template.render(payload).split(",")
            rgb = [round(_number(p.strip(), "colour")) for p in parts]
            if len(rgb) != 3 or not all(0 <= c <= 255 for c in rgb):
                raise ValueError(f"{payload!r} is not an r,g,b colour")
            return _with(state, rgb_color=rgb)
        if topic == self.config.get("hs_state_topic"):
            parts = self.hs_template.render(payload).split(",")
            if len(parts) != 2:
                raise ValueError(f"{payload!r} is not an h,s colour")
            h, s = (_number(p.strip(), "colour") for p in parts)
            return _with(state, rgb_color=list(hs_to_rgb(h, s)))
        return self._binary(payload, state)


class JsonLight(Component):
    """The JSON schema: one JSON object carries state, brightness and colour."""

    domain = "light"

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.scale = float(config.get("brightness_scale", 255))
        if self.scale <= 0:
            raise DiscoveryError("brightness_scale must be positive")
        modes = config.get("supported_color_modes") or []
        if not isinstance(modes, list):
            raise DiscoveryError("supported_color_modes must be a list")
        self.modes = [str(m) for m in modes]

    def features(self) -> frozenset[str]:
        f = set()
        if self.config.get("brightness") or DIM_MODES & set(self.modes):
            f.add("dimmable")
        if COLOR_MODES & set(self.modes) or self.config.get("rgb"):
            f.add("color")
        return frozenset(f)

    def command(self, service: str, data: Mapping[str, Any], state: EntityState) -> list[Publish]:
        on = service == "turn_on" or (service == "toggle" and state.state != "on")
        body: dict[str, Any] = {"state": "ON" if on else "OFF"}
        if on and "brightness_pct" in data:
            body["brightness"] = max(1, round(float(data["brightness_pct"]) * self.scale / 100))
        if on and "rgb_color" in data:
            r, g, b = (int(c) for c in data["rgb_color"])
            mode = next((m for m in ("rgb", "rgbw", "rgbww", "hs", "xy") if m in self.modes), "rgb")
            if mode == "hs":
                h, s = rgb_to_hs((r, g, b))
                body["color"] = {"h": h, "s": s}
            elif mode == "xy":
                x, y = rgb_to_xy((r, g, b))
                body["color"] = {"x": x, "y": y}
            else:
                body["color"] = {"r": r, "g": g, "b": b}
                if mode == "rgbw":
                    body["color"]["w"] = 0
                elif mode == "rgbww":
                    body["color"].update(c=0, w=0)
        return [(self.config["command_topic"], json.dumps(body))]

    def update(self, topic: str, payload: str, state: EntityState) -> EntityState | None:
        try:
            obj = json.loads(payload)
        except ValueError:
            raise ValueError(f"{payload[:60]!r} is not JSON") from None
        if not isinstance(obj, dict):
            raise ValueError("a JSON light state must be an object")
        new = state.state
        if "state" in obj:
            if obj["state"] not in ("ON", "OFF", None):
                raise ValueError(f"state {obj['state']!r} is neither ON nor OFF")
            new = {"ON": "on", "OFF": "off", None: "unknown"}[obj["state"]]
        attrs: dict[str, Any] = {}
        if obj.get("brightness") is not None:
            value = obj["brightness"]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"brightness {value!r} is not a number")
            attrs["brightness_pct"] = max(0, min(100, round(value * 100 / self.scale)))
        color = obj.get("color")
        if isinstance(color, dict):
            attrs["rgb_color"] = list(_json_color(color))
        elif color is not None:
            raise ValueError("color must be an object")
        if isinstance(obj.get("color_mode"), str):
            attrs["color_mode"] = obj["color_mode"]
        return _with(state, new, **attrs)


def _json_color(color: Mapping[str, Any]) -> tuple[int, int, int]:
    def num(key: str) -> float:
        value = color.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"color.{key} {value!r} is not a number")
        return float(value)

    if all(k in color for k in "rgb"):
        rgb = (round(num("r")), round(num("g")), round(num("b")))
        if not all(0 <= c <= 255 for c in rgb):
            raise ValueError(f"colour {rgb} is out of range")
        return rgb
    if "h" in color and "s" in color:
        return hs_to_rgb(num("h"), num("s"))
    if "x" in color and "y" in color:
        return xy_to_rgb(num("x"), num("y"))
    raise ValueError(f"colour {dict(color)} has no r,g,b, h,s or x,y")


def rgb_to_hs(rgb: tuple[int, int, int] | list[int]) -> tuple[float, float]:
    h, s, _ = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
    return round(h * 360, 1), round(s * 100, 1)


def hs_to_rgb(h: float, s: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb((h % 360) / 360, max(0.0, min(1.0, s / 100)), 1.0)
    return round(r * 255), round(g * 255), round(b * 255)


def _linear(c: float) -> float:
    return ((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92


def _gamma(c: float) -> float:
    return 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def rgb_to_xy(rgb: tuple[int, int, int] | list[int]) -> tuple[float, float]:
    """sRGB -> CIE 1931 xy (the wide-gamut D65 matrix Home Assistant uses)."""
    r, g, b = (_linear(c / 255) for c in rgb)
    x = r * 0.664511 + g * 0.154324 + b * 0.162028
    y = r * 0.283881 + g * 0.668433 + b * 0.047685
    z = r * 0.000088 + g * 0.072310 + b * 0.986039
    total = x + y + z
    return (0.0, 0.0) if total == 0 else (round(x / total, 4), round(y / total, 4))


def xy_to_rgb(x: float, y: float) -> tuple[int, int, int]:
    if y <= 0:
        raise ValueError("colour y must be positive")
    big_y = 1.0
    big_x = big_y / y * x
    big_z = big_y / y * (1 - x - y)
    r = big_x * 1.656492 - big_y * 0.354851 - big_z * 0.255038
    g = -big_x * 0.707196 + big_y * 1.655397 + big_z * 0.036152
    b = big_x * 0.051713 - big_y * 0.121364 + big_z * 1.011530
    r, g, b = (max(0.0, v) for v in (r, g, b))
    top = max(r, g, b, 1e-9)
    r, g, b = (_gamma(v / top) for v in (r, g, b))
    return tuple(max(0, min(255, round(v * 255))) for v in (r, g, b))  # type: ignore[return-value]


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
