"""The Home Assistant backend's unit tests, against a small test server on 127.0.0.1
(tests/hass_test_server.py) for what a real Home Assistant cannot easily be made to
do: a fan, a cover, a climate and a media player without their integrations, a
refused service, an unavailable entity, a server that lacks the optional registry
commands. tests/test_hass_real.py runs the backend against Home Assistant itself."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("websockets", reason="the Home Assistant backend needs `websockets`")
pytest.importorskip("uvicorn", reason="the Home Assistant test server needs uvicorn")

from assistant.errors import HomeError
from assistant.home.hass import HassHome
from assistant.home.settings import ExposureSettings, HomeAssistantSettings
from assistant.understand.router import Understander
from tests.hass_test_server import FakeHomeAssistant, ServerThread
from tests.ports import free_port
from tests.waits import eventually

TOKEN = "test-long-lived-token"


@pytest.fixture()
def server() -> Iterator[ServerThread]:
    s = ServerThread(FakeHomeAssistant(TOKEN), free_port()).start()
    yield s
    s.stop()


@pytest.fixture()
def make_home(server: ServerThread) -> Iterator[Callable[..., HassHome]]:
    homes: list[HassHome] = []

    def make(**overrides: Any) -> HassHome:
        settings = HomeAssistantSettings(
            url=server.url,
            token=TOKEN,
            timeout_s=2,
            reconnect_min_s=0.05,
            reconnect_max_s=0.5,
            **overrides,
        )
        home = HassHome(settings)
        homes.append(home)
        return home

    yield make
    for h in homes:
        h.close()


@pytest.fixture()
def home(make_home: Callable[..., HassHome]) -> HassHome:
    return make_home()


def test_entities_areas_and_default_exposure(home: HassHome) -> None:
    entities = {e.entity_id: e for e in home.entities()}
    assert set(entities) == {
        "light.ceiling",
        "light.kitchen",
        "light.porch",
        "switch.kettle",
        "fan.kitchen",
        "cover.blinds",
        "climate.hall",
        "media_player.speaker",
        "sensor.outside_temperature",
    }  # not: the lock, the garage door, the alarm panel, the battery sensor
    assert entities["light.ceiling"].area == "living_room"  # from its device
    assert entities["light.kitchen"].area == "kitchen"  # from the entity itself
    assert entities["light.ceiling"].features == {"dimmable", "color"}
    assert entities["light.kitchen"].features == {"dimmable"}
    assert entities["light.porch"].features == frozenset()
    assert entities["fan.kitchen"].features == {"speed"}
    assert entities["cover.blinds"].features == {"position"}
    assert entities["media_player.speaker"].features == {"volume"}
    assert entities["sensor.outside_temperature"].unit == "°C"
    areas = {a.id: a for a in home.areas()}
    assert set(areas) == {"living_room", "kitchen", "garage"}
    assert areas["living_room"].aliases == ("Lounge",)
    assert home.area("lounge").id == "living_room"


def test_exposure_config_makes_locks_visible_and_sensitive(
    make_home: Callable[..., HassHome],
) -> None:
    home = make_home(
        exposure=ExposureSettings(
            expose=("lock.*", "cover.garage_door", "alarm_control_panel.home"),
            hide=("light.porch",),
        )
    )
    entities = {e.entity_id: e for e in home.entities()}
    assert "light.porch" not in entities
    for sensitive in ("lock.front_door", "cover.garage_door", "alarm_control_panel.home"):
        assert entities[sensitive].sensitive, sensitive
    assert not entities["cover.blinds"].sensitive
    assert home.call_service("lock.unlock", "lock.front_door", {}).state == "unlocked"


def test_service_calls(home: HassHome, server: ServerThread) -> None:
    state = home.call_service(
        "light.turn_on", "light.ceiling", {"brightness_pct": 50, "rgb_color": [255, 0, 0]}
    )
    assert server.fake.calls[-1] == (
        "light",
        "turn_on",
        {"entity_id": "light.ceiling", "brightness_pct": 50, "rgb_color": [255, 0, 0]},
    )
    assert state.state == "on"
    assert state.attributes["brightness"] == 128
    assert state.attributes["brightness_pct"] == 50
    assert state.attributes["rgb_color"] == [255, 0, 0]
    assert (
        home.call_service("fan.set_percentage", "fan.kitchen", {"percentage": 40}).attributes[
            "percentage"
        ]
        == 40
    )
    assert (
        home.call_service("cover.set_cover_position", "cover.blinds", {"position": 30}).attributes[
            "current_position"
        ]
        == 30
    )
    assert (
        home.call_service(
            "climate.set_temperature", "climate.hall", {"temperature": 21.5}
        ).attributes["temperature"]
        == 21.5
    )
    assert (
        home.call_service(
            "media_player.volume_set", "media_player.speaker", {"volume_level": 0.3}
        ).attributes["volume_level"]
        == 0.3
    )
    assert home.call_service("switch.toggle", "switch.kettle", {}).state == "on"


def test_validation_happens_before_home_assistant(home: HassHome, server: ServerThread) -> None:
    with pytest.raises(HomeError) as err:
        home.call_service("light.turn_on", "light.kitchen", {"rgb_color": [255, 0, 0]})
    assert err.value.code == "unsupported_feature"
    with pytest.raises(HomeError) as err:
        home.call_service("climate.set_temperature", "climate.hall", {"temperature": 99})
    assert err.value.code == "invalid_value"
    assert server.fake.calls == []


def test_home_assistant_refusal_is_reported(
    make_home: Callable[..., HassHome], server: ServerThread
) -> None:
    home = make_home()
    with pytest.raises(HomeError) as err:
        home.call_service("cover.stop_cover", "cover.blinds", {})
    assert err.value.code == "invalid_value"
    assert "Service cover.stop_cover not found" in str(err.value)


def test_state_changes_arrive_over_the_websocket(home: HassHome, server: ServerThread) -> None:
    before = len(server.fake.rest_requests)
    server.fake.set_state("switch.kettle", "on")
    eventually(lambda: home.get_state("switch.kettle").state == "on", what="the event")
    server.fake.set_state("sensor.outside_temperature", "14.0")
    eventually(lambda: home.get_state("sensor.outside_temperature").state == "14.0")
    assert len(server.fake.rest_requests) == before  # read from memory, not polled


def test_an_entity_added_or_renamed_later_is_understood_without_a_restart(
    home: HassHome, server: ServerThread
) -> None:
    understander = Understander(home)
    assert understander.decide("turn on the patio heater", area=None).handled_by != "local"
    server.fake.set_state("switch.patio_heater", "off", friendly_name="Patio Heater")
    eventually(lambda: "switch.patio_heater" in {e.entity_id for e in home.entities()})
    decision = understander.decide("turn on the patio heater", area=None)
    assert [a.entity_id for a in decision.actions] == ["switch.patio_heater"]
    server.fake.set_state("switch.patio_heater", "on", friendly_name="Terrace Heater")  # renamed
    eventually(lambda: home.entity("switch.patio_heater").name == "Terrace Heater")
    decision = understander.decide("turn off the terrace heater", area=None)
    assert [a.entity_id for a in decision.actions] == ["switch.patio_heater"]


def test_unavailable_entity_is_not_commanded(home: HassHome, server: ServerThread) -> None:
    with pytest.raises(HomeError) as err:
        home.call_service("light.turn_on", "light.porch", {})
    assert err.value.code == "unavailable"
    assert str(err.value) == "the Porch Light is unavailable right now"
    assert server.fake.calls == []
    server.fake.set_state("light.porch", "off")
    eventually(lambda: home.get_state("light.porch").available)
    assert home.call_service("light.turn_on", "light.porch", {}).state == "on"


def test_websocket_reconnects_and_resyncs(home: HassHome, server: ServerThread) -> None:
    assert home.ws_connected
    server.stop()
    eventually(lambda: not home.ws_connected, 5, "the backend to notice")
    server.fake.set_state("cover.blinds", "open", current_position=64)  # changed while away
    server.start()
    eventually(lambda: home.ws_connected, 10, "the WebSocket to come back")
    assert home.get_state("cover.blinds").attributes["current_position"] == 64
    server.fake.set_state("switch.kettle", "on")
    eventually(lambda: home.get_state("switch.kettle").state == "on")
