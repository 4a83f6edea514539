"""The home inside the Home Assistant stand-in (tests/hass_test_server.py): its areas,
devices and entities (with Home Assistant's state and attribute shapes), and what its
integrations do to a state when a service is called."""

from __future__ import annotations

from typing import Any

AREAS = [
    {"area_id": "living_room", "name": "Living Room", "aliases": ["Lounge"]},
    {"area_id": "kitchen", "name": "Kitchen", "aliases": []},
    {"area_id": "garage", "name": "Garage", "aliases": []},
]
DEVICES = [
    {"id": "dev-ceiling", "name": "Ceiling Light", "area_id": "living_room"},
    {"id": "dev-kettle", "name": "Kettle Plug", "area_id": "kitchen"},
]
STATES: list[tuple[str, str, dict[str, Any], str | None, str | None]] = [
    # entity_id, state, attributes, device_id, area_id (entity's own, overrides device)
    (
        "light.ceiling",
        "off",
        {
            "friendly_name": "Ceiling Light",
            "supported_color_modes": ["rgb"],
            "color_mode": None,
            "brightness": None,
            "supported_features": 0,
        },
        "dev-ceiling",
        None,
    ),
    (
        "light.kitchen",
        "off",
        {
            "friendly_name": "Kitchen Light",
            "supported_color_modes": ["brightness"],
            "supported_features": 0,
        },
        None,
        "kitchen",
    ),
    ("switch.kettle", "off", {"friendly_name": "Kettle"}, "dev-kettle", None),
    (
        "fan.kitchen",
        "off",
        {"friendly_name": "Kitchen Fan", "percentage": 0, "supported_features": 1},
        None,
        "kitchen",
    ),
    (
        "cover.blinds",
        "closed",
        {
            "friendly_name": "Blinds",
            "current_position": 0,
            "device_class": "blind",
            "supported_features": 15,
        },
        None,
        "living_room",
    ),
    (
        "cover.garage_door",
        "closed",
        {"friendly_name": "Garage Door", "device_class": "garage", "supported_features": 3},
        None,
        "garage",
    ),
    (
        "climate.hall",
        "heat",
        {
            "friendly_name": "Thermostat",
            "temperature": 20.0,
            "current_temperature": 19.0,
            "min_temp": 7,
            "max_temp": 35,
            "hvac_modes": ["off", "heat"],
        },
        None,
        None,
    ),
    ("lock.front_door", "locked", {"friendly_name": "Front Door"}, None, None),
    ("alarm_control_panel.home", "disarmed", {"friendly_name": "Home Alarm"}, None, None),
    (
        "media_player.speaker",
        "paused",
        {"friendly_name": "Speaker", "volume_level": 0.5, "supported_features": 152461},
        None,
        "living_room",
    ),
    (
        "sensor.outside_temperature",
        "12.5",
        {
            "friendly_name": "Outside Temperature",
            "unit_of_measurement": "°C",
            "device_class": "temperature",
        },
        None,
        None,
    ),
    (
        "sensor.phone_battery",
        "80",
        {"friendly_name": "Phone Battery", "device_class": "battery", "unit_of_measurement": "%"},
        None,
        None,
    ),
    (
        "light.porch",
        "unavailable",
        {"friendly_name": "Porch Light", "supported_color_modes": ["onoff"]},
        None,
        None,
    ),
]


def apply_service(
    domain: str, service: str, state: str, attrs: dict[str, Any], data: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """What Home Assistant's integrations do for the services Hearth calls."""
    new = dict(attrs)
    if domain in ("light", "switch", "fan") and service in ("turn_on", "turn_off", "toggle"):
        on = service == "turn_on" or (service == "toggle" and state != "on")
        if domain == "light" and on:
            if "brightness_pct" in data:
                new["brightness"] = round(float(data["brightness_pct"]) * 255 / 100)
            elif new.get("brightness") is None:
                new["brightness"] = 255
            if "rgb_color" in data:
                new["rgb_color"], new["color_mode"] = list(data["rgb_color"]), "rgb"
        if domain == "light" and not on:
            new["brightness"] = None
        if domain == "fan" and "percentage" in data:
            new["percentage"] = data["percentage"]
        return ("on" if on else "off"), new
    if (domain, service) == ("fan", "set_percentage"):
        new["percentage"] = data["percentage"]
        return ("on" if data["percentage"] else "off"), new
    if domain == "cover":
        if service == "set_cover_position":
            new["current_position"] = int(data["position"])
        elif service in ("open_cover", "close_cover"):
            new["current_position"] = 100 if service == "open_cover" else 0
        else:
            raise ValueError(f"Service {domain}.{service} not found.")
        return ("open" if new.get("current_position", 0) else "closed"), new
    if domain == "climate":
        if service == "set_temperature":
            temp = float(data["temperature"])
            if not attrs.get("min_temp", 7) <= temp <= attrs.get("max_temp", 35):
                raise ValueError(
                    f"Provided temperature {temp} is not valid. Accepted range is "
                    f"{attrs.get('min_temp')} to {attrs.get('max_temp')}."
                )
            new["temperature"] = temp
            return state, new
        if service in ("turn_on", "turn_off"):
            return ("heat" if service == "turn_on" else "off"), new
    if domain == "lock" and service in ("lock", "unlock"):
        return ("locked" if service == "lock" else "unlocked"), new
    if domain == "media_player":
        if service == "volume_set":
            new["volume_level"] = float(data["volume_level"])
            return state, new
        if service in ("media_play", "media_pause"):
            return ("playing" if service == "media_play" else "paused"), new
    raise ValueError(f"Service {domain}.{service} not found.")
