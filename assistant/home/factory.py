"""Pick the home backend the settings ask for.

``$HEARTH_MQTT_URL`` selects the MQTT backend and ``$HEARTH_HASS_URL`` the Home
Assistant one without editing a config file (``$HEARTH_HASS_TOKEN`` gives its token);
either wins over ``[home] backend``, and both at once is an error, not a guess. The
listening device's area always exists, even before any entity is in it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from assistant.errors import HomeError
from assistant.home.base import Area, HomeBackend

if TYPE_CHECKING:  # config imports home.settings, which imports this package
    from assistant.config import Settings


def device_area(settings: Settings) -> Area:
    """The area the settings put the device in, as an Area ("living_room" -> Living Room)."""
    from assistant.home.exposure import area_id

    key = area_id(settings.device_area)
    return Area(key, key.replace("_", " ").title())


def open_home(settings: Settings) -> HomeBackend:
    """Open the configured backend (the demo home unless told otherwise)."""
    home = settings.home
    mqtt_url = os.environ.get("HEARTH_MQTT_URL", "").strip()
    hass_url = os.environ.get("HEARTH_HASS_URL", "").strip()
    if mqtt_url and hass_url:
        raise HomeError("both $HEARTH_MQTT_URL and $HEARTH_HASS_URL are set; set the one "
                        "for the home to use", code="config_invalid")
    backend = "mqtt" if mqtt_url else "homeassistant" if hass_url else home.backend
    if backend == "mqtt":
        from assistant.home.mqtt import MqttHome

        mqtt = home.mqtt.model_copy(update={"url": mqtt_url}) if mqtt_url else home.mqtt
        return MqttHome(mqtt, extra_areas=[device_area(settings)])
    if backend == "homeassistant":
        from assistant.home.hass import HassHome

        hass = home.homeassistant
        updates = {k: v for k, v in (("url", hass_url.rstrip("/")),
                                     ("token", os.environ.get("HEARTH_HASS_TOKEN", "").strip()))
                   if v}
        return HassHome(hass.model_copy(update=updates), extra_areas=[device_area(settings)])
    from assistant.home.demo import DemoHome
    from assistant.resources import configs_dir

    definition = home.demo_home or configs_dir() / "demo_home.yaml"
    state_db = home.state_db or settings.data_dir / "home.sqlite"
    return DemoHome(definition, state_db)
