"""Hearth's Home Assistant backend against a real Home Assistant core 2024.3.3
(tests/hass_real/: its own venv, a small configuration, onboarding for the token).

Everything is read back from Home Assistant itself: its registries for areas and
aliases, its Assist exposure settings, its states after Hearth's service calls. The
test that stops Home Assistant mid-session runs last and starts it again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.config import load_settings
from assistant.errors import HomeError
from assistant.home.hass import HassHome
from assistant.runtime import Runtime
from assistant.settings import ExposureSettings, HomeAssistantSettings
from assistant.understand.router import Understander
from tests.conftest import run_hearth
from tests.hass_real.harness import RealHass, free_port, missing_reason, shared


@pytest.fixture(scope="session")
def hass() -> RealHass:
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    return shared()


@pytest.fixture()
def make_home(hass: RealHass) -> Iterator[Callable[..., HassHome]]:
    homes: list[HassHome] = []

    def make(**overrides: Any) -> HassHome:
        home = HassHome(HomeAssistantSettings(url=hass.url, token=hass.token, timeout_s=5,
                                              reconnect_min_s=0.1, reconnect_max_s=1.0,
                                              **overrides))
        homes.append(home)
        return home

    yield make
    for h in homes:
        h.close()


def eventually(check: Callable[[], bool], timeout: float = 10.0, what: str = "it") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def call(hass: RealHass, service: str, entity_id: str, **data: Any) -> None:
    """A change made in Home Assistant, not through Hearth."""
    domain, name = service.split(".")
    hass.http("POST", f"/api/services/{domain}/{name}", {"entity_id": entity_id, **data})


def test_entities_areas_and_aliases_come_from_home_assistants_registries(
        make_home: Callable[..., HassHome]) -> None:
    home = make_home()
    entities = {e.entity_id: e for e in home.entities()}
    # Exposed to Assist in Home Assistant: the lock (by the user), not the router (by the
    # user), nor the helpers, the person or the zone (Home Assistant's defaults).
    assert set(entities) == {"light.ceiling", "light.desk_lamp", "switch.kettle",
                             "lock.front_door", "sensor.outside_temperature"}
    ceiling = entities["light.ceiling"]
    assert (ceiling.name, ceiling.area, ceiling.aliases) == ("Ceiling Light", "living_room",
                                                             ("Big Light",))
    assert ceiling.features == {"dimmable"}
    assert entities["switch.kettle"].area == "kitchen"
    assert entities["light.desk_lamp"].area == "office"
    assert entities["lock.front_door"].sensitive
    assert not ceiling.sensitive
    assert entities["sensor.outside_temperature"].unit == "°C"
    assert home.get_state("sensor.outside_temperature").state == "12.5"
    areas = {a.id: a for a in home.areas()}
    assert {"living_room", "kitchen", "office"} <= set(areas)
    assert areas["living_room"].aliases == ("Lounge",)
    assert home.area("lounge").id == "living_room"
    decision = Understander(home).decide("turn on the big light", area=None)
    assert [a.entity_id for a in decision.actions] == ["light.ceiling"]


def test_hearths_own_exposure_settings_win_over_home_assistants(
        make_home: Callable[..., HassHome]) -> None:
    home = make_home(exposure=ExposureSettings(expose=("switch.router",),
                                               hide=("light.desk_lamp",)))
    ids = {e.entity_id for e in home.entities()}
    assert "switch.router" in ids and "light.desk_lamp" not in ids
    only = make_home(exposure=ExposureSettings(expose_defaults=False, expose=("switch.*",)))
    assert {e.entity_id for e in only.entities()} == {"switch.kettle", "switch.router"}


def test_service_calls_change_home_assistant(hass: RealHass,
                                             make_home: Callable[..., HassHome]) -> None:
    home = make_home()
    state = home.call_service("light.turn_on", "light.ceiling", {"brightness_pct": 40})
    assert state.state == "on"
    seen = hass.state("light.ceiling")
    assert seen["state"] == "on" and seen["attributes"]["brightness"] == 102
    # The template light ran its action: the helper behind it changed too.
    assert hass.state("input_number.ceiling_level")["state"] == "102.0"
    eventually(lambda: home.get_state("light.ceiling").attributes.get("brightness_pct") == 40)
    home.call_service("switch.turn_on", "switch.kettle", {})
    assert hass.state("input_boolean.kettle_power")["state"] == "on"
    home.call_service("switch.turn_off", "switch.kettle", {})
    home.call_service("light.turn_off", "light.ceiling", {})
    assert hass.state("light.ceiling")["state"] == "off"
    with pytest.raises(HomeError) as err:  # validated before Home Assistant sees it
        home.call_service("light.turn_on", "light.desk_lamp", {"brightness_pct": 50})
    assert err.value.code == "unsupported_feature"


def test_changes_made_in_home_assistant_arrive_without_polling(
        hass: RealHass, make_home: Callable[..., HassHome]) -> None:
    home = make_home()
    changed: list[str] = []
    home.add_listener(changed.append)
    call(hass, "switch.turn_on", "switch.kettle")
    eventually(lambda: home.get_state("switch.kettle").state == "on", what="the event")
    assert "switch.kettle" in changed
    call(hass, "switch.turn_off", "switch.kettle")
    eventually(lambda: home.get_state("switch.kettle").state == "off")


def test_a_sensitive_entity_asks_for_a_yes_first(
        hass: RealHass, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARTH_HASS_URL", hass.url)
    monkeypatch.setenv("HEARTH_HASS_TOKEN", hass.token)
    assert hass.state("lock.front_door")["state"] == "locked"
    with Runtime(load_settings()) as assistant:
        asked = assistant.ask("unlock the front door")
        assert asked.decision.handled_by == "confirm" and not asked.applied
        assert hass.state("lock.front_door")["state"] == "locked"
        done = assistant.ask("yes")
        assert [a.entity_id for a in done.applied] == ["lock.front_door"]
        assert hass.state("lock.front_door")["state"] == "unlocked"
        assistant.ask("lock the front door")
        assistant.ask("yes")
    assert hass.state("lock.front_door")["state"] == "locked"


def test_registry_changes_are_picked_up_live(hass: RealHass,
                                             make_home: Callable[..., HassHome]) -> None:
    home = make_home()
    understander = Understander(home)
    office, kitchen = hass.areas["Office"], hass.areas["Kitchen"]
    try:
        hass.ws({"type": "config/entity_registry/update", "entity_id": "switch.kettle",
                 "name": "Tea Maker"})
        eventually(lambda: home.entity("switch.kettle").name == "Tea Maker", what="rename")
        decision = understander.decide("turn on the tea maker", area=None)
        assert [a.entity_id for a in decision.actions] == ["switch.kettle"]
        hass.ws({"type": "config/entity_registry/update", "entity_id": "light.desk_lamp",
                 "area_id": kitchen, "aliases": ["Reading Lamp"]})
        eventually(lambda: home.entity("light.desk_lamp").area == kitchen, what="area move")
        assert home.entity("light.desk_lamp").aliases == ("Reading Lamp",)
        hass.ws({"type": "homeassistant/expose_entity", "assistants": ["conversation"],
                 "entity_ids": ["switch.router"], "should_expose": True})
        eventually(lambda: "switch.router" in {e.entity_id for e in home.entities()},
                   what="the router exposed")
    finally:
        hass.ws({"type": "config/entity_registry/update", "entity_id": "switch.kettle",
                 "name": None},
                {"type": "config/entity_registry/update", "entity_id": "light.desk_lamp",
                 "area_id": office, "aliases": []},
                {"type": "homeassistant/expose_entity", "assistants": ["conversation"],
                 "entity_ids": ["switch.router"], "should_expose": False})
    eventually(lambda: home.entity("switch.kettle").name == "Kettle")


def test_hass_url_and_token_alone_switch_hearth_to_home_assistant(
        hass: RealHass, tmp_path: Path) -> None:
    env = {"HEARTH_HASS_URL": hass.url + "/", "HEARTH_HASS_TOKEN": hass.token,
           "HEARTH_DATA_DIR": str(tmp_path)}
    proc = run_hearth("ask", "turn on the kettle", "--json", env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(proc.stdout)["actions"] == [
        {"service": "switch.turn_on", "entity_id": "switch.kettle", "data": {}}]
    assert hass.state("switch.kettle")["state"] == "on"
    call(hass, "switch.turn_off", "switch.kettle")
    listing = run_hearth("home", env=env, timeout=120)
    assert listing.returncode == 0, listing.stderr.decode()
    assert "light.ceiling" in listing.stdout.decode()
    assert "light.kitchen" not in listing.stdout.decode()  # the demo home's


def test_a_config_file_selects_home_assistant_and_a_refused_token_is_one_line(
        hass: RealHass, tmp_path: Path) -> None:
    config = tmp_path / "hearth.toml"
    config.write_text(f'[home]\nbackend = "homeassistant"\n\n'
                      f'[home.homeassistant]\nurl = "{hass.url}"\n')
    env = {"HEARTH_HASS_TOKEN": hass.token, "HEARTH_DATA_DIR": str(tmp_path)}
    proc = run_hearth("ask", "switch on the kettle", "--json", "--config", str(config),
                      env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert hass.state("switch.kettle")["state"] == "on"
    call(hass, "switch.turn_off", "switch.kettle")
    bad = run_hearth("ask", "switch on the kettle", "--config", str(config),
                     env={**env, "HEARTH_HASS_TOKEN": "not-a-token"}, timeout=120)
    err = bad.stderr.decode().strip()
    assert bad.returncode == 2 and len(err.splitlines()) == 1, err
    assert err.startswith(f"hearth: Home Assistant at {hass.url} refused the access token")
    with pytest.raises(HomeError) as refused:
        HassHome(HomeAssistantSettings(url=hass.url, token="not-a-token"))
    assert refused.value.code == "unauthorized"


@pytest.mark.parametrize("env", [
    {"HEARTH_HASS_URL": "http://127.0.0.1:{port}", "HEARTH_HASS_TOKEN": "some-token"},
    {"HEARTH_HASS_URL": "http://127.0.0.1:{port}"},
    {"HEARTH_HASS_URL": "http://127.0.0.1:{port}", "HEARTH_MQTT_URL": "mqtt://127.0.0.1:1"},
], ids=["dead-url", "no-token", "both-backends"])
def test_hass_url_that_cannot_work_is_one_clear_line_not_the_demo_home(
        env: dict[str, str], tmp_path: Path) -> None:
    full = {k: v.format(port=free_port()) for k, v in env.items()}
    full.setdefault("HEARTH_HASS_TOKEN", "")
    proc = run_hearth("ask", "turn on the kitchen light", env={
        **full, "HEARTH_DATA_DIR": str(tmp_path)}, timeout=120)
    err = proc.stderr.decode().strip()
    assert proc.returncode == 2, (proc.stdout, err)
    assert len(err.splitlines()) == 1 and err.startswith("hearth: "), err
    assert ("did not answer" in err or "access token" in err or "both" in err), err
    assert not (tmp_path / "home.sqlite").exists()  # the demo home was not touched


def test_home_assistant_going_away_and_coming_back(hass: RealHass,
                                                   make_home: Callable[..., HassHome]) -> None:
    """Last in this file: it stops the shared Home Assistant and starts it again."""
    home = make_home()
    assert home.ws_connected
    hass.stop()
    with pytest.raises(HomeError) as err:
        home.call_service("switch.turn_on", "switch.kettle", {})
    assert err.value.code == "not_delivered"
    assert str(err.value).startswith("the command for the Kettle could not be delivered")
    eventually(lambda: not home.ws_connected, what="the backend to notice")
    with pytest.raises(HomeError) as err:  # no stale answer while it is away
        home.get_state("switch.kettle")
    assert err.value.code == "unreachable" and "did not answer" in str(err.value)
    hass.start()
    eventually(lambda: home.ws_connected, 60, "the WebSocket to come back")
    eventually(lambda: "switch.kettle" in {e.entity_id for e in home.entities()})
    assert home.call_service("switch.turn_on", "switch.kettle", {}).state == "on"
    assert hass.state("input_boolean.kettle_power")["state"] == "on"
    call(hass, "switch.turn_off", "switch.kettle")
    eventually(lambda: home.get_state("switch.kettle").state == "off")
