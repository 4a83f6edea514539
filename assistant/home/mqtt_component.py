"""Home Assistant MQTT discovery, the common part: abbreviations, the ``~`` base topic,
sandboxed Jinja value templates, availability, and :class:`Component`, the base every
component class (:mod:`assistant.home.mqtt_entities`, :mod:`assistant.home.mqtt_lights`)
builds on. Anything malformed raises :class:`DiscoveryError`."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from assistant.home.base import EntityState

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
