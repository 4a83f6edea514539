"""The MQTT backend against a real mosquitto and a simulated device fleet.

The broker is started here on 127.0.0.1 (a free port, a password, persistence in a
temp folder); the tests are skipped with a reason when mosquitto is not installed.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.errors import HomeError
from assistant.home.mqtt import MqttHome
from assistant.home.settings import ExposureSettings, MqttSettings
from assistant.understand.router import Understander
from tests.conftest import run_hearth
from tests.mqtt_fleet import MOSQUITTO, Broker, Fleet

pytestmark = pytest.mark.skipif(
    shutil.which("mosquitto") is None and not os.path.exists(MOSQUITTO),
    reason="mosquitto is not installed (Debian: apt-get install mosquitto); "
    "these tests need a real MQTT broker",
)


def eventually(check: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    b = Broker(tmp_path_factory.mktemp("mosquitto")).start()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def fleet(broker: Broker) -> Iterator[Fleet]:
    f = Fleet("127.0.0.1", broker.port, username=broker.username, password=broker.password).start()
    yield f
    f.stop()


@pytest.fixture()
def make_home(broker: Broker, fleet: Fleet) -> Iterator[Callable[..., MqttHome]]:
    homes: list[MqttHome] = []

    def make(**overrides: Any) -> MqttHome:
        settings = MqttSettings(
            url=broker.url,
            reconnect_min_s=0.05,
            reconnect_max_s=0.5,
            connect_timeout_s=5,
            **overrides,
        )
        eventually(fleet.connected.is_set, 10, "the fleet to be connected")
        home = MqttHome(settings)
        homes.append(home)
        return home

    yield make
    for h in homes:
        h.close()


@pytest.fixture()
def home(make_home: Callable[..., MqttHome]) -> MqttHome:
    return make_home()


def last_commands(fleet: Fleet, device: str, n: int) -> list[tuple[str, str]]:
    return fleet.commands_for(device)[-n:]


def expect_commands(fleet: Fleet, device: str, expected: list[tuple[str, str]]) -> None:
    """The device's last commands, once they have travelled broker -> device."""
    try:
        eventually(lambda: last_commands(fleet, device, len(expected)) == expected, 2)
    except AssertionError:
        assert last_commands(fleet, device, len(expected)) == expected


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


# --- reliability -------------------------------------------------------------------


def test_broker_restart_mid_sequence_loses_nothing(
    make_home: Callable[..., MqttHome], broker: Broker, fleet: Fleet
) -> None:
    home = make_home(command_timeout_s=15, confirm_timeout_s=0.2)
    start = len(fleet.commands_for("kitchen_light"))
    levels = list(range(1, 31))
    done: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for level in levels:
                home.call_service("light.turn_on", "light.kitchen_light", {"brightness_pct": level})
                done.append(level)
        except BaseException as exc:  # reported below
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    eventually(lambda: len(done) >= 10, 10, "the first commands")
    broker.restart(down_s=0.3)
    worker.join(30)
    assert not errors, errors
    assert done == levels
    sent = [
        p for t, p in fleet.commands_for("kitchen_light")[start:] if t.endswith("/brightness/set")
    ]
    # QoS 1 is at-least-once: a message in flight when the broker died may arrive twice.
    deduped = [p for i, p in enumerate(sent) if i == 0 or p != sent[i - 1]]
    assert deduped == [str(v) for v in levels]
    eventually(lambda: home.get_state("light.kitchen_light").attributes.get("brightness_pct") == 30)


def test_state_resynced_after_reconnect(home: MqttHome, broker: Broker, fleet: Fleet) -> None:
    device = fleet.devices["blinds"]
    broker.stop()
    eventually(lambda: not home.connected, 5, "the backend to notice")
    device.state["position"] = 73  # moved by hand while the broker was away
    broker.start()
    eventually(lambda: home.connected, 10, "the backend to reconnect")
    eventually(
        lambda: home.get_state("cover.blinds").attributes.get("current_position") == 73,
        10,
        "the new position",
    )


def test_undelivered_command_fails_clearly_and_is_never_sent_late(
    make_home: Callable[..., MqttHome], broker: Broker, fleet: Fleet
) -> None:
    home = make_home(command_timeout_s=0.5)
    before = len(fleet.commands_for("coffee_maker"))
    broker.stop()
    try:
        eventually(lambda: not home.connected, 5, "the backend to notice")
        t0 = time.monotonic()
        with pytest.raises(HomeError) as err:
            home.call_service("switch.toggle", "switch.coffee_maker", {})
        assert err.value.code == "not_delivered"
        assert "could not be delivered within 0.5 seconds" in str(err.value)
        assert "unreachable" in str(err.value)
        assert time.monotonic() - t0 < 2
    finally:
        broker.start()
    eventually(lambda: home.connected and fleet.connected.is_set(), 10, "everyone to reconnect")
    time.sleep(0.3)
    assert len(fleet.commands_for("coffee_maker")) == before


def test_queue_is_bounded(make_home: Callable[..., MqttHome], broker: Broker) -> None:
    home = make_home(queue_size=2, command_timeout_s=3)
    broker.stop()
    try:
        eventually(lambda: not home.connected, 5, "the backend to notice")
        first: list[BaseException] = []
        worker = threading.Thread(
            target=lambda: _capture(
                first,
                lambda: home.call_service(
                    "light.turn_on", "light.kitchen_light", {"brightness_pct": 20}
                ),
            )
        )
        worker.start()
        eventually(lambda: home._outbox.pending() == 2, 2, "two queued messages")
        with pytest.raises(HomeError) as err:
            home.call_service("switch.turn_on", "switch.coffee_maker", {})
        assert err.value.code == "queue_full"
    finally:
        broker.start()
    worker.join(10)
    assert not first, first  # the queued one was delivered once the broker came back


def _capture(errors: list[BaseException], fn: Callable[[], object]) -> None:
    try:
        fn()
    except BaseException as exc:
        errors.append(exc)


# --- hearth ask, end to end ----------------------------------------------------------


def test_hearth_ask_controls_discovered_entities(
    broker: Broker, fleet: Fleet, tmp_path: Path
) -> None:
    fleet.set_online("porch_light", True)
    before = len(fleet.commands_for("kitchen_light"))
    batch = tmp_path / "turns.txt"
    batch.write_text(
        "turn on the kitchen light\nset the kitchen light to 30%\nturn on the porch light\n"
    )
    fleet.set_online("porch_light", False)
    try:
        proc = run_hearth(
            "ask",
            "--batch",
            str(batch),
            "--json",
            env={"HEARTH_MQTT_URL": broker.url, "HEARTH_DATA_DIR": str(tmp_path)},
            timeout=120,
        )
    finally:
        fleet.set_online("porch_light", True)
    assert proc.returncode == 0, proc.stderr.decode()
    turns = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert turns[0]["handled_by"] == "local"
    assert turns[0]["actions"] == [
        {"service": "light.turn_on", "entity_id": "light.kitchen_light", "data": {}}
    ]
    assert turns[1]["actions"][0]["data"] == {"brightness_pct": 30}
    assert turns[2]["reply"] == "Sorry, the Porch Light is unavailable right now."
    assert fleet.commands_for("kitchen_light")[before:] == [
        ("fleet/kitchen_light/set", "ON"),
        ("fleet/kitchen_light/brightness/set", "30"),
        ("fleet/kitchen_light/set", "ON"),
    ]


def test_unreachable_broker_is_one_clear_line(tmp_path: Path) -> None:
    from tests.mqtt_fleet import free_port

    config = tmp_path / "hearth.toml"
    config.write_text(
        f'[home]\nbackend = "mqtt"\n[home.mqtt]\nurl = "mqtt://127.0.0.1:{free_port()}"\n'
        "connect_timeout_s = 0.5\n"
    )
    proc = run_hearth("ask", "turn on the kitchen light", "--config", str(config), timeout=60)
    assert proc.returncode == 2
    err = proc.stderr.decode().strip()
    assert err.startswith("hearth: cannot reach the MQTT broker at 127.0.0.1:"), err
    assert len(err.splitlines()) == 1


def test_wrong_password_is_one_clear_line(broker: Broker, tmp_path: Path) -> None:
    url = f"mqtt://{broker.username}:wrong@127.0.0.1:{broker.port}"
    proc = run_hearth("ask", "turn on the kitchen light", env={"HEARTH_MQTT_URL": url}, timeout=60)
    assert proc.returncode == 2
    err = proc.stderr.decode().strip()
    assert "refused the connection" in err and len(err.splitlines()) == 1, err
