"""The simulated devices of the MQTT test fleet: each one's Home Assistant discovery
config (some in the short abbreviated form with a ``~`` base topic, as Tasmota and
ESPHome do), its state, and how it answers a command the way its firmware would.
:mod:`tests.mqtt_fleet` puts them on a broker."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[["Device", str, str], None]


@dataclass
class Device:
    """One device: its discovery config(s), its state and how it answers commands."""

    name: str
    component: str
    config: dict[str, Any]
    state: dict[str, Any]
    handle: Handler
    report: Callable[[Device], list[tuple[str, str]]]
    node: str | None = None
    status_topic: str | None = None
    online: bool = True
    commands: list[tuple[str, str]] = field(default_factory=list)

    def command_topics(self) -> list[str]:
        topics = [
            v
            for k, v in _full(self.config).items()
            if k.endswith("command_topic") or k == "set_position_topic"
        ]
        return [str(t) for t in topics]


def _full(config: dict[str, Any]) -> dict[str, Any]:
    """The config with ``~`` expanded (the fleet's own view of its topics)."""
    base = config.get("~", "")
    out = {}
    for k, v in config.items():
        if isinstance(v, str) and v.startswith("~"):
            v = base + v[1:]
        out[
            {
                "cmd_t": "command_topic",
                "stat_t": "state_topic",
                "bri_cmd_t": "brightness_command_topic",
                "bri_stat_t": "brightness_state_topic",
            }.get(k, k)
        ] = v
    return out


def _switch_like(on: str = "ON", off: str = "OFF") -> Handler:
    def handle(d: Device, topic: str, payload: str) -> None:
        if payload in (on, off):
            d.state["power"] = payload

    return handle


def build_devices(prefix: str = "homeassistant") -> list[Device]:
    """The fleet: one device of each kind Hearth supports, in a few houses' styles."""
    devices: list[Device] = []

    # A Tasmota-style dimmer: abbreviated keys, a ~ base topic, availability topic.
    kl = "fleet/kitchen_light"

    def kitchen(d: Device, topic: str, payload: str) -> None:
        if topic.endswith("/brightness/set"):
            d.state["brightness"] = int(payload)
        elif payload in ("ON", "OFF"):
            d.state["power"] = payload

    devices.append(
        Device(
            "kitchen_light",
            "light",
            {
                "~": kl,
                "name": None,
                "uniq_id": "fleet_kitchen_light",
                "cmd_t": "~/set",
                "stat_t": "~/state",
                "bri_cmd_t": "~/brightness/set",
                "bri_stat_t": "~/brightness",
                "bri_scl": 100,
                "avty_t": "~/status",
                "dev": {
                    "ids": ["fleet-kl"],
                    "name": "Kitchen Light",
                    "sa": "Kitchen",
                    "mf": "Fleet",
                },
            },
            {"power": "OFF", "brightness": 100},
            kitchen,
            lambda d: [
                (f"{kl}/state", d.state["power"]),
                (f"{kl}/brightness", str(d.state["brightness"])),
            ],
            status_topic=f"{kl}/status",
        )
    )

    # zigbee2mqtt-style JSON lights: one with rgb colour, one with xy colour.
    def json_light(base: str) -> Handler:
        def handle(d: Device, topic: str, payload: str) -> None:
            cmd = json.loads(payload)
            d.state["state"] = cmd.get("state", d.state["state"])
            if "brightness" in cmd:
                d.state["brightness"] = cmd["brightness"]
            if "color" in cmd:
                d.state["color"] = cmd["color"]

        return handle

    def json_light_report(base: str) -> Callable[[Device], list[tuple[str, str]]]:
        def report(d: Device) -> list[tuple[str, str]]:
            mode = "xy" if "x" in d.state["color"] else "rgb"
            return [(base, json.dumps({**d.state, "color_mode": mode}))]

        return report

    for obj, name, area, modes, color in (
        ("ceiling_light", "Ceiling Light", "Living Room", ["rgb"], {"r": 255, "g": 255, "b": 255}),
        ("bedroom_light", "Bedroom Light", "Bedroom", ["xy"], {"x": 0.3227, "y": 0.329}),
    ):
        base = f"zigbee2mqtt/{obj}"
        devices.append(
            Device(
                obj,
                "light",
                {
                    "schema": "json",
                    "name": None,
                    "unique_id": f"z2m_{obj}",
                    "command_topic": f"{base}/set",
                    "state_topic": base,
                    "brightness": True,
                    "brightness_scale": 254,
                    "supported_color_modes": modes,
                    "availability_topic": "zigbee2mqtt/bridge/state",
                    "availability_template": "{{ value_json.state }}",
                    "device": {"identifiers": [f"z2m-{obj}"], "name": name, "suggested_area": area},
                },
                {"state": "OFF", "brightness": 254, "color": color},
                json_light(base),
                json_light_report(base),
                node="z2m",
            )
        )

    # A smart plug whose state is a Tasmota-style JSON status.
    devices.append(
        Device(
            "coffee_maker",
            "switch",
            {
                "name": None,
                "unique_id": "plug_coffee",
                "command_topic": "plug/coffee/cmnd/POWER",
                "state_topic": "plug/coffee/tele/STATE",
                "value_template": "{{ value_json.POWER }}",
                "device": {
                    "identifiers": ["plug-coffee"],
                    "name": "Coffee Maker",
                    "suggested_area": "Kitchen",
                },
            },
            {"power": "OFF"},
            _switch_like(),
            lambda d: [
                ("plug/coffee/tele/STATE", json.dumps({"POWER": d.state["power"], "Uptime": 1}))
            ],
        )
    )

    # A three-speed fan.
    def fan(d: Device, topic: str, payload: str) -> None:
        if topic.endswith("/speed/set"):
            d.state["speed"] = int(payload)
        else:
            d.state["power"] = payload

    devices.append(
        Device(
            "bedroom_fan",
            "fan",
            {
                "name": "Bedroom Fan",
                "unique_id": "fan_bedroom",
                "command_topic": "fan/bedroom/set",
                "state_topic": "fan/bedroom/state",
                "percentage_command_topic": "fan/bedroom/speed/set",
                "percentage_state_topic": "fan/bedroom/speed",
                "speed_range_min": 1,
                "speed_range_max": 3,
                "device": {
                    "identifiers": ["fan-bedroom"],
                    "name": "Bedroom Fan",
                    "suggested_area": "Bedroom",
                },
            },
            {"power": "OFF", "speed": 1},
            fan,
            lambda d: [
                ("fan/bedroom/state", d.state["power"]),
                ("fan/bedroom/speed", str(d.state["speed"])),
            ],
        )
    )

    # Blinds with a position, and a garage door.
    def blinds(d: Device, topic: str, payload: str) -> None:
        if topic.endswith("/position/set"):
            d.state["position"] = int(payload)
        elif payload == "OPEN":
            d.state["position"] = 100
        elif payload == "CLOSE":
            d.state["position"] = 0

    devices.append(
        Device(
            "blinds",
            "cover",
            {
                "name": "Blinds",
                "unique_id": "cover_blinds",
                "command_topic": "cover/blinds/set",
                "state_topic": "cover/blinds/state",
                "position_topic": "cover/blinds/position",
                "set_position_topic": "cover/blinds/position/set",
                "device_class": "blind",
                "device": {
                    "identifiers": ["cover-blinds"],
                    "name": "Blinds",
                    "suggested_area": "Living Room",
                },
            },
            {"position": 0},
            blinds,
            lambda d: [
                ("cover/blinds/position", str(d.state["position"])),
                ("cover/blinds/state", "open" if d.state["position"] else "closed"),
            ],
        )
    )

    def garage(d: Device, topic: str, payload: str) -> None:
        d.state["state"] = {"OPEN": "open", "CLOSE": "closed"}.get(payload, d.state["state"])

    devices.append(
        Device(
            "garage_door",
            "cover",
            {
                "name": "Garage Door",
                "unique_id": "cover_garage",
                "command_topic": "cover/garage/set",
                "state_topic": "cover/garage/state",
                "device_class": "garage",
                "device": {
                    "identifiers": ["cover-garage"],
                    "name": "Garage Door",
                    "suggested_area": "Garage",
                },
            },
            {"state": "closed"},
            garage,
            lambda d: [("cover/garage/state", d.state["state"])],
        )
    )

    # A thermostat.
    def thermostat(d: Device, topic: str, payload: str) -> None:
        if topic.endswith("/mode/set"):
            d.state["mode"] = payload
        else:
            d.state["target"] = float(payload)

    devices.append(
        Device(
            "thermostat",
            "climate",
            {
                "name": "Thermostat",
                "unique_id": "climate_hall",
                "modes": ["off", "heat", "auto"],
                "mode_command_topic": "climate/hall/mode/set",
                "mode_state_topic": "climate/hall/mode",
                "temperature_command_topic": "climate/hall/target/set",
                "temperature_state_topic": "climate/hall/target",
                "current_temperature_topic": "climate/hall/current",
                "min_temp": 10,
                "max_temp": 30,
                "device": {
                    "identifiers": ["climate-hall"],
                    "name": "Thermostat",
                    "suggested_area": "Hallway",
                },
            },
            {"mode": "heat", "target": 20.0, "current": 19.5},
            thermostat,
            lambda d: [
                ("climate/hall/mode", d.state["mode"]),
                ("climate/hall/target", str(d.state["target"])),
                ("climate/hall/current", str(d.state["current"])),
            ],
        )
    )

    # A lock.
    def lock(d: Device, topic: str, payload: str) -> None:
        d.state["state"] = {"LOCK": "LOCKED", "UNLOCK": "UNLOCKED"}.get(payload, d.state["state"])

    devices.append(
        Device(
            "front_door",
            "lock",
            {
                "name": "Front Door",
                "unique_id": "lock_front",
                "command_topic": "lock/front/set",
                "state_topic": "lock/front/state",
                "device": {
                    "identifiers": ["lock-front"],
                    "name": "Front Door",
                    "suggested_area": "Hallway",
                },
            },
            {"state": "LOCKED"},
            lock,
            lambda d: [("lock/front/state", d.state["state"])],
        )
    )

    # Sensors: a temperature (exposed) and a battery level (not exposed by default).
    devices.append(
        Device(
            "outside",
            "sensor",
            {
                "name": "Outside Temperature",
                "unique_id": "sensor_outside",
                "device_class": "temperature",
                "unit_of_measurement": "°C",
                "state_topic": "weather/outside",
                "value_template": "{{ value_json.temperature | round(1) }}",
            },
            {"temperature": 12.34},
            lambda d, t, p: None,
            lambda d: [("weather/outside", json.dumps({"temperature": d.state["temperature"]}))],
        )
    )
    devices.append(
        Device(
            "hall_battery",
            "sensor",
            {
                "name": "Battery",
                "unique_id": "sensor_hall_battery",
                "device_class": "battery",
                "unit_of_measurement": "%",
                "state_topic": "sensor/hall/battery",
                "device": {"identifiers": ["hall-sensor"], "name": "Hall Sensor"},
            },
            {"level": 87},
            lambda d, t, p: None,
            lambda d: [("sensor/hall/battery", str(d.state["level"]))],
        )
    )

    # A porch light that can go offline.
    devices.append(
        Device(
            "porch_light",
            "light",
            {
                "name": "Porch Light",
                "unique_id": "light_porch",
                "command_topic": "porch/light/set",
                "state_topic": "porch/light/state",
                "availability": [
                    {
                        "topic": "porch/light/online",
                        "payload_available": "yes",
                        "payload_not_available": "no",
                    }
                ],
                "device": {"identifiers": ["porch"], "name": "Porch", "suggested_area": "Hallway"},
            },
            {"power": "OFF"},
            _switch_like(),
            lambda d: [("porch/light/state", d.state["power"])],
            status_topic="porch/light/online",
        )
    )
    return devices
