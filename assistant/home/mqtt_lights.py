"""MQTT lights, in Home Assistant's default and JSON schemas, and the colour conversions
they need (hs, xy, rgb)."""

from __future__ import annotations

import colorsys
import json
from collections.abc import Mapping
from typing import Any

from assistant.home.base import EntityState
from assistant.home.mqtt_component import (
    COLOR_MODES,
    DIM_MODES,
    Component,
    DiscoveryError,
    Publish,
    Template,
    _number,
    _str,
    _with,
)


def _brightness_scale(config: dict[str, Any]) -> float:
    """The discovery config's full-brightness value (255 unless it says otherwise)."""
    scale = float(config.get("brightness_scale", 255))
    if scale <= 0:
        raise DiscoveryError("brightness_scale must be positive")
    return scale


class Light(Component):
    """The default schema: ON/OFF on one topic, brightness and colour on their own."""

    domain = "light"

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.scale = _brightness_scale(config)
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
        self.scale = _brightness_scale(config)
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
