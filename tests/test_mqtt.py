"""The MQTT backend against a real mosquitto and a simulated device fleet: discovery,
every entity type, availability and malformed payloads (a broker that goes away, and
``hearth ask`` over MQTT: test_mqtt_reliability).

The broker is started on 127.0.0.1 for this module (a free port, a password,
persistence in a temp folder; tests/mqtt_fixtures.py); the tests are skipped with a
reason when mosquitto is not installed.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

import pytest

from assistant.errors import HomeError
from assistant.home.mqtt import MqttHome
from assistant.home.settings import ExposureSettings
from assistant.understand.router import Understander
from tests.mqtt_fixtures import expect_commands, needs_mosquitto
from tests.mqtt_fleet import Fleet
from tests.waits import eventually

pytestmark = needs_mosquitto


# --- discovery ---------------------------------------------------------------------


def test_discovery_finds_every_kind(home: MqttHome) -> None:
    entities = {e.entity_id: e for e in home.entities()}
    assert set(entities) == {
        "light.kitchen_light",
        "light.ceiling_light",
        "light.bedroom_light",
        "light.porch_light",
        "switch.coffee_maker",
        "fan.bedroom_fan",
        "cover.blinds",
        "climate.thermostat",
        "sensor.outside_temperature",
    }
    kitchen = entities["light.kitchen_light"]
    assert (kitchen.name, kitchen.area, kitchen.features) == (
        "Kitchen Light",
        "kitchen",
        frozenset({"dimmable"}),
    )
    assert entities["light.ceiling_light"].features == {"dimmable", "color"}
    assert entities["light.bedroom_light"].features == {"dimmable", "color"}
    assert entities["fan.bedroom_fan"].features == {"speed"}
    assert entities["cover.blinds"].features == {"position"}
    assert entities["sensor.outside_temperature"].unit == "°C"
    assert not any(e.sensitive for e in entities.values())
    areas = {a.id: a.name for a in home.areas()}
    assert areas == {
        "kitchen": "Kitchen",
        "living_room": "Living Room",
        "bedroom": "Bedroom",
        "hallway": "Hallway",
    }
    # Retained state was read at start.
    assert home.get_state("sensor.outside_temperature").state == "12.3"
    assert home.get_state("climate.thermostat").attributes["current_temperature"] == 19.5


def test_exposure_defaults_and_config(make_home: Callable[..., MqttHome]) -> None:
    home = make_home()
    for hidden in ("lock.front_door", "cover.garage_door", "sensor.hall_sensor_battery"):
        with pytest.raises(HomeError) as err:
            home.get_state(hidden)
        assert err.value.code == "unknown_entity"
    exposed = make_home(
        exposure=ExposureSettings(
            expose=("lock.*", "cover.garage_door", "sensor.hall_sensor_battery"),
            hide=("light.porch_light",),
            sensitive=("switch.coffee_maker",),
            areas={"sensor.hall_sensor_battery": "Hallway"},
            aliases={"light.kitchen_light": ("Worktop",)},
        )
    )
    entities = {e.entity_id: e for e in exposed.entities()}
    assert "light.porch_light" not in entities
    assert entities["lock.front_door"].sensitive
    assert entities["cover.garage_door"].sensitive
    assert entities["switch.coffee_maker"].sensitive
    assert not entities["cover.blinds"].sensitive
    assert entities["sensor.hall_sensor_battery"].area == "hallway"
    assert "Worktop" in entities["light.kitchen_light"].aliases
    assert exposed.get_state("lock.front_door").state in ("locked", "unlocked")


# --- every entity type -------------------------------------------------------------


def test_light_default_schema(home: MqttHome, fleet: Fleet) -> None:
    state = home.call_service("light.turn_on", "light.kitchen_light", {"brightness_pct": 40})
    assert (state.state, state.attributes["brightness_pct"]) == ("on", 40)
    # brightness first, then ON ("last" is the default on_command_type); scale 100
    expect_commands(
        fleet,
        "kitchen_light",
        [("fleet/kitchen_light/brightness/set", "40"), ("fleet/kitchen_light/set", "ON")],
    )
    assert home.call_service("light.turn_off", "light.kitchen_light", {}).state == "off"
    assert home.call_service("light.toggle", "light.kitchen_light", {}).state == "on"


def new_command(fleet: Fleet, device: str, before: int) -> tuple[str, str]:
    eventually(lambda: len(fleet.commands_for(device)) > before, 2, f"a command for {device}")
    return fleet.commands_for(device)[before]


def test_light_json_schema_rgb(home: MqttHome, fleet: Fleet) -> None:
    before = len(fleet.commands_for("ceiling_light"))
    state = home.call_service(
        "light.turn_on", "light.ceiling_light", {"brightness_pct": 50, "rgb_color": [255, 0, 0]}
    )
    topic, payload = new_command(fleet, "ceiling_light", before)
    assert topic == "zigbee2mqtt/ceiling_light/set"
    assert json.loads(payload) == {
        "state": "ON",
        "brightness": 127,
        "color": {"r": 255, "g": 0, "b": 0},
    }
    assert state.state == "on"
    assert state.attributes["rgb_color"] == [255, 0, 0]
    assert state.attributes["brightness_pct"] == 50


def test_light_json_schema_xy_colour(home: MqttHome, fleet: Fleet) -> None:
    before = len(fleet.commands_for("bedroom_light"))
    state = home.call_service("light.turn_on", "light.bedroom_light", {"rgb_color": [0, 0, 255]})
    sent = json.loads(new_command(fleet, "bedroom_light", before)[1])
    assert set(sent["color"]) == {"x", "y"}
    r, g, b = state.attributes["rgb_color"]
    assert b == 255 and r < 40 and g < 40, state.attributes


def test_switch_with_value_template(home: MqttHome, fleet: Fleet) -> None:
    assert home.call_service("switch.turn_on", "switch.coffee_maker", {}).state == "on"
    expect_commands(fleet, "coffee_maker", [("plug/coffee/cmnd/POWER", "ON")])
    assert home.call_service("switch.turn_off", "switch.coffee_maker", {}).state == "off"
    assert home.get_state("switch.coffee_maker").state == "off"


def test_fan_speed_range(home: MqttHome, fleet: Fleet) -> None:
    state = home.call_service("fan.turn_on", "fan.bedroom_fan", {"percentage": 50})
    expect_commands(
        fleet, "bedroom_fan", [("fan/bedroom/set", "ON"), ("fan/bedroom/speed/set", "2")]
    )
    eventually(lambda: home.get_state("fan.bedroom_fan").attributes.get("percentage") == 67)
    assert state.state == "on"
    home.call_service("fan.set_percentage", "fan.bedroom_fan", {"percentage": 0})
    expect_commands(fleet, "bedroom_fan", [("fan/bedroom/set", "OFF")])
    assert home.get_state("fan.bedroom_fan").state == "off"


def test_cover_position_and_open(home: MqttHome, fleet: Fleet) -> None:
    home.call_service("cover.set_cover_position", "cover.blinds", {"position": 40})
    expect_commands(fleet, "blinds", [("cover/blinds/position/set", "40")])
    eventually(lambda: home.get_state("cover.blinds").attributes.get("current_position") == 40)
    assert home.get_state("cover.blinds").state == "open"
    home.call_service("cover.close_cover", "cover.blinds", {})
    eventually(lambda: home.get_state("cover.blinds").state == "closed")
    assert home.get_state("cover.blinds").attributes["current_position"] == 0


def test_climate(home: MqttHome, fleet: Fleet) -> None:
    state = home.call_service(
        "climate.set_temperature", "climate.thermostat", {"temperature": 22.5}
    )
    expect_commands(fleet, "thermostat", [("climate/hall/target/set", "22.5")])
    eventually(lambda: home.get_state("climate.thermostat").attributes.get("temperature") == 22.5)
    assert state.state in ("heat", "off")
    assert home.call_service("climate.turn_off", "climate.thermostat", {}).state == "off"
    assert home.call_service("climate.turn_on", "climate.thermostat", {}).state == "heat"
    with pytest.raises(HomeError) as err:
        home.call_service("climate.set_temperature", "climate.thermostat", {"temperature": 45})
    assert err.value.code == "invalid_value"


def test_lock_exposed_on_request(make_home: Callable[..., MqttHome], fleet: Fleet) -> None:
    home = make_home(exposure=ExposureSettings(expose=("lock.front_door",)))
    assert home.entity("lock.front_door").sensitive
    assert home.call_service("lock.unlock", "lock.front_door", {}).state == "unlocked"
    expect_commands(fleet, "front_door", [("lock/front/set", "UNLOCK")])
    assert home.call_service("lock.lock", "lock.front_door", {}).state == "locked"


def test_sensor_and_validation(home: MqttHome, fleet: Fleet) -> None:
    fleet.devices["outside"].state["temperature"] = 3.96
    fleet.publish_state(fleet.devices["outside"])
    eventually(lambda: home.get_state("sensor.outside_temperature").state == "4.0")
    with pytest.raises(HomeError) as err:
        home.call_service("sensor.turn_on", "sensor.outside_temperature", {})
    assert err.value.code == "unsupported_service"
    with pytest.raises(HomeError) as err:
        home.call_service("light.turn_on", "light.porch_light", {"brightness_pct": 50})
    assert err.value.code == "unsupported_feature"


# --- availability, malformed payloads ---------------------------------------------


def test_unavailable_device_is_not_commanded(home: MqttHome, fleet: Fleet) -> None:
    before = len(fleet.commands_for("porch_light"))
    fleet.set_online("porch_light", False)
    try:
        eventually(lambda: not home.get_state("light.porch_light").available)
        with pytest.raises(HomeError) as err:
            home.call_service("light.turn_on", "light.porch_light", {})
        assert err.value.code == "unavailable"
        assert str(err.value) == "the Porch Light is unavailable right now"
        time.sleep(0.1)
        assert len(fleet.commands_for("porch_light")) == before
    finally:
        fleet.set_online("porch_light", True)
    eventually(lambda: home.get_state("light.porch_light").available)
    assert home.call_service("light.turn_on", "light.porch_light", {}).state == "on"


def test_malformed_discovery_and_state_are_logged_and_ignored(
    home: MqttHome, fleet: Fleet, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="assistant.home.mqtt")
    bad_configs = {
        "homeassistant/light/bad1/config": "{not json",
        "homeassistant/switch/bad2/config": json.dumps({"name": "No Command"}),
        "homeassistant/light/bad3/config": json.dumps(
            {"name": "X", "schema": "template", "command_topic": "x/set"}
        ),
        "homeassistant/sensor/bad4/config": json.dumps(
            {"name": "Y", "state_topic": "y", "value_template": "{{ value_json."}
        ),
        "homeassistant/sensor/bad5/config": json.dumps(["a", "list"]),
    }
    known = {e.entity_id for e in home.entities()}
    states = {
        e: home.get_state(e)
        for e in ("light.ceiling_light", "fan.bedroom_fan", "climate.thermostat", "cover.blinds")
    }
    try:
        for topic, payload in bad_configs.items():
            fleet.publish(topic, payload, retain=True)
        fleet.publish("zigbee2mqtt/ceiling_light", "{{{")
        fleet.publish("zigbee2mqtt/ceiling_light", json.dumps({"state": "MAYBE"}))
        fleet.publish("zigbee2mqtt/ceiling_light", json.dumps({"brightness": "lots"}))
        fleet.publish("fan/bedroom/speed", "fast")
        fleet.publish("climate/hall/mode", "sauna")
        fleet.publish("cover/blinds/position", "NaN")
        fleet.publish("plug/coffee/tele/STATE", b"\xff\xfe".decode("latin-1"))
        eventually(
            lambda: sum("ignoring" in r.message for r in caplog.records) >= 10,
            what="a log line per bad message",
        )
        assert {e.entity_id for e in home.entities()} == known
        for entity_id, before in states.items():
            assert home.get_state(entity_id) == before
        for topic in bad_configs:
            assert any(topic in r.message for r in caplog.records), topic
        assert home.call_service("switch.turn_on", "switch.coffee_maker", {}).state == "on"
    finally:
        for topic in bad_configs:
            fleet.publish(topic, "", retain=True)


def test_entity_removed_by_empty_discovery(home: MqttHome, fleet: Fleet) -> None:
    topic = "homeassistant/switch/extra/config"
    fleet.publish(
        topic, json.dumps({"name": "Extra Plug", "command_topic": "extra/set"}), retain=True
    )
    eventually(lambda: "switch.extra_plug" in {e.entity_id for e in home.entities()})
    assert home.get_state("switch.extra_plug").state == "unknown"
    # No state topic: optimistic, the state is what the command made it.
    assert home.call_service("switch.turn_on", "switch.extra_plug", {}).state == "on"
    fleet.publish(topic, "", retain=True)
    eventually(lambda: "switch.extra_plug" not in {e.entity_id for e in home.entities()})


def test_a_device_discovered_later_is_understood_without_a_restart(
    home: MqttHome, fleet: Fleet
) -> None:
    topic = "homeassistant/switch/heater/config"
    understander = Understander(home)
    heard: list[int] = []  # e.g. the speech-to-text prompt, which lists the home's names
    understander.names_listeners.append(lambda: heard.append(len(home.entities())))
    assert understander.decide("turn on the patio heater", area=None).handled_by != "local"
    fleet.publish(topic, json.dumps({"name": "Patio Heater", "command_topic": "heater/set"}),
                  retain=True)
    try:
        eventually(lambda: "switch.patio_heater" in {e.entity_id for e in home.entities()})
        decision = understander.decide("turn on the patio heater", area=None)
        assert decision.handled_by == "local"
        assert [a.entity_id for a in decision.actions] == ["switch.patio_heater"]
        assert len(heard) == 1
        understander.decide("turn on the patio heater", area=None)
        assert len(heard) == 1  # states changed, names did not
    finally:
        fleet.publish(topic, "", retain=True)
    eventually(lambda: "switch.patio_heater" not in {e.entity_id for e in home.entities()})
    assert understander.decide("turn on the patio heater", area=None).handled_by != "local"
