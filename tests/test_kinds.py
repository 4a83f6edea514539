"""The device kinds as data: the file is consistent with its vocabulary, and the service
table built from it validates and simulates calls the way a device would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from direction_homes import build_home

from assistant.errors import HomeError
from assistant.home.base import HomeBackend
from assistant.understand.registry import load


def test_every_direction_a_service_goes_has_words_and_a_reply() -> None:
    registry = load()
    vocab = registry.vocab
    said = set(vocab.directions) | {d for dirs in vocab.domain_directions.values() for d in dirs}
    for domain in registry.domains.values():
        for service in domain.services.values():
            for direction in service.does:
                assert direction in said, f"{domain.name}.{service.name}: no words for {direction!r}"
            if service.does:
                assert service.does[0] in vocab.phrases, f"{domain.name}.{service.name}: no reply"
            for key in service.data:
                assert key in domain.levels or key in domain.attributes, \
                    f"{domain.name}.{service.name}: {key}"
        for state, way in domain.toggle.items():
            assert state in domain.states and any(s.does[:1] == (way,) for s in domain.services.values()), \
                f"{domain.name}: toggle in {state!r} goes {way!r}, which no service does"
        for way, service_name in domain.switch.items():
            assert service_name in domain.services, f"{domain.name}: turn {way} calls {service_name}"


def test_every_opposite_is_a_direction_someone_says() -> None:
    vocab = load().vocab
    said = set(vocab.directions) | {d for dirs in vocab.domain_directions.values() for d in dirs}
    assert set(load().opposites) <= said


@pytest.fixture()
def cabin(tmp_path: Path) -> Iterator[HomeBackend]:
    home = build_home("cabin", tmp_path)
    yield home
    home.close()


def test_services_the_kinds_add_act_on_the_demo_home(cabin: HomeBackend) -> None:
    assert cabin.call_service("media_player.turn_off", "media_player.den_stereo", {}).state == "off"
    assert cabin.call_service("media_player.turn_on", "media_player.den_stereo", {}).state == "on"
    up = cabin.call_service("media_player.volume_up", "media_player.den_stereo", {})
    assert up.attributes["volume_level"] == 0.5  # 0.4 + one step
    muted = cabin.call_service("media_player.volume_mute", "media_player.den_stereo",
                               {"is_volume_muted": True})
    assert muted.attributes["is_volume_muted"] is True
    assert cabin.call_service("fan.decrease_speed", "fan.den_fan", {}).attributes["percentage"] == 25
    assert cabin.call_service("cover.toggle", "cover.den_shades", {}).state == "closed"
    assert cabin.call_service("cover.set_cover_position", "cover.den_shades",
                              {"position": 40}).attributes["current_position"] == 40
    cool = cabin.call_service("climate.set_hvac_mode", "climate.heat_pump", {"hvac_mode": "cool"})
    assert cool.state == "cool"
    assert cabin.call_service("light.toggle", "light.porch_lantern", {}).state == "on"


@pytest.mark.parametrize(("service", "entity_id", "data"), [
    ("climate.set_hvac_mode", "climate.heat_pump", {"hvac_mode": "sauna"}),
    ("media_player.volume_mute", "media_player.den_stereo", {"is_volume_muted": "yes"}),
    ("fan.oscillate", "fan.den_fan", {"oscillating": True}),  # this fan does not oscillate
    ("lock.open_sesame", "lock.mudroom_door", {}),
])
def test_a_call_the_kinds_do_not_allow_is_refused(cabin: HomeBackend, service: str, entity_id: str,
                                                  data: dict[str, object]) -> None:
    with pytest.raises(HomeError):
        cabin.call_service(service, entity_id, data)


def test_a_thermostat_s_own_range_is_its_range() -> None:
    """A thermostat in °F (min_temp 50, max_temp 90) takes 72 and refuses 95; one that says
    no range has the kinds' default."""
    from assistant.home.base import Entity, EntityState
    from assistant.home.services import validate

    entity = Entity("climate.upstairs", "Upstairs", None)
    fahrenheit = EntityState("climate.upstairs", "cool", {"temperature": 74, "min_temp": 50, "max_temp": 90})
    assert validate(entity, "climate.set_temperature", {"temperature": 72}, fahrenheit) == {"temperature": 72}
    with pytest.raises(HomeError, match="between 50 and 90"):
        validate(entity, "climate.set_temperature", {"temperature": 95}, fahrenheit)
    with pytest.raises(HomeError, match="between 10 and 30"):
        validate(entity, "climate.set_temperature", {"temperature": 72},
                 EntityState("climate.upstairs", "heat", {}))
