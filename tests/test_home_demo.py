from __future__ import annotations

import threading
from pathlib import Path

import pytest

from assistant.config import configs_dir
from assistant.errors import HomeError
from assistant.home.demo import DemoHome


@pytest.fixture()
def home(tmp_path: Path) -> DemoHome:
    return DemoHome(configs_dir() / "demo_home.yaml", tmp_path / "home.sqlite")


def test_the_demo_home_matches_the_architecture_table(home: DemoHome) -> None:
    ids = {e.entity_id for e in home.entities()}
    assert len(ids) == 18
    assert {"light.kitchen", "lock.front_door", "cover.garage_door", "sensor.outside_temperature"} <= ids
    assert home.entity("lock.front_door").sensitive and home.entity("cover.garage_door").sensitive
    assert home.entity("light.desk_lamp").area == "office"
    assert home.entity("sensor.outside_temperature").area is None


def test_state_survives_a_restart(tmp_path: Path, home: DemoHome) -> None:
    home.call_service("light.turn_on", "light.kitchen", {"brightness_pct": 40})
    home.close()
    again = DemoHome(configs_dir() / "demo_home.yaml", tmp_path / "home.sqlite")
    st = again.get_state("light.kitchen")
    assert st.state == "on" and st.attributes["brightness_pct"] == 40


@pytest.mark.parametrize(
    ("service", "entity", "data", "code"),
    [
        ("climate.set_temperature", "climate.thermostat", {"temperature": 45}, "invalid_value"),
        ("light.turn_on", "light.desk_lamp", {"brightness_pct": 50}, "unsupported_feature"),
        ("light.turn_on", "switch.tv", {}, "wrong_domain"),
        ("lock.explode", "lock.front_door", {}, "unsupported_service"),
        ("light.turn_on", "light.garden", {}, "unknown_entity"),
        ("light.turn_on", "light.bedroom", {"rgb_color": [300, 0, 0]}, "invalid_value"),
        ("sensor.turn_on", "sensor.indoor_humidity", {}, "unsupported_service"),
    ],
)
def test_invalid_calls_are_refused(home: DemoHome, service: str, entity: str, data: dict[str, object],
                                   code: str) -> None:
    with pytest.raises(HomeError) as err:
        home.call_service(service, entity, data)
    assert err.value.code == code


def test_area_by_name_or_id(home: DemoHome) -> None:
    assert home.area("Living Room").id == "living_room"
    assert home.area("living_room").id == "living_room"
    assert home.area("LOUNGE").id == "living_room"
    with pytest.raises(HomeError, match="no area"):
        home.area("attic")


def test_concurrent_readers_see_consistent_state(tmp_path: Path, home: DemoHome) -> None:
    reader = DemoHome(configs_dir() / "demo_home.yaml", tmp_path / "home.sqlite")
    seen: list[str] = []
    errors: list[Exception] = []

    def read() -> None:
        try:
            for _ in range(200):
                seen.append(reader.get_state("light.kitchen").state)
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    t = threading.Thread(target=read)
    t.start()
    for i in range(100):
        home.call_service("light.turn_on" if i % 2 else "light.turn_off", "light.kitchen", {})
    t.join()
    assert not errors
    assert set(seen) <= {"on", "off"}
