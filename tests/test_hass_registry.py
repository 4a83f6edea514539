"""How Home Assistant's registry replies become Hearth's areas, aliases and exposure
(assistant/home/hass_registry.py), including replies with missing or odd fields."""

from __future__ import annotations

from assistant.home.base import Entity
from assistant.home.hass_registry import choose, read_registries
from assistant.settings import ExposureSettings

AREAS = [{"area_id": "living_room", "name": "Living Room", "aliases": ["Lounge"]},
         {"area_id": "kitchen", "name": "Kitchen", "aliases": []},
         {"area_id": None, "name": "broken"}, "not a dict"]
DEVICES = [{"id": "dev1", "area_id": "kitchen"}, {"area_id": "kitchen"}]
ENTITIES = [{"entity_id": "light.ceiling", "area_id": "living_room", "device_id": "dev1"},
            {"entity_id": "switch.kettle", "area_id": None, "device_id": "dev1"},
            {"entity_id": "light.nowhere", "area_id": "attic"}, {"no": "entity_id"}]


def test_areas_entity_areas_and_aliases() -> None:
    reg = read_registries(AREAS, DEVICES, ENTITIES,
                          {"light.ceiling": {"aliases": ["Big Light", ""]}, "x.y": None},
                          {"exposed_entities": {"light.ceiling": {"conversation": True},
                                                "switch.kettle": {"cloud.alexa": True}}})
    assert set(reg.areas) == {"living_room", "kitchen"}
    assert reg.areas["living_room"].aliases == ("Lounge",)
    assert reg.entity_area == {"light.ceiling": "living_room",  # its own area wins
                               "switch.kettle": "kitchen"}  # else its device's
    assert reg.aliases == {"light.ceiling": ("Big Light",)}
    assert reg.assist == {"light.ceiling": True}  # only what Assist itself was told


def test_a_server_without_the_optional_commands() -> None:
    reg = read_registries(None, "garbage", [], None, None)
    assert (dict(reg.areas), dict(reg.entity_area), dict(reg.aliases), reg.assist) == (
        {}, {}, {}, None)


def ids(entities: list[Entity]) -> set[str]:
    return {e.entity_id for e in entities}


HOME = [Entity("light.a", "A"), Entity("light.b", "B"), Entity("lock.door", "Door"),
        Entity("switch.router", "Router"), Entity("input_boolean.x", "X")]


def test_home_assistants_assist_settings_replace_the_defaults() -> None:
    assist = {"light.b": False, "lock.door": True, "input_boolean.x": True}
    chosen, _ = choose(HOME, ExposureSettings(), assist)
    assert ids(chosen) == {"light.a", "switch.router", "lock.door", "input_boolean.x"}
    assert next(e for e in chosen if e.entity_id == "lock.door").sensitive  # still asks
    assert ids(choose(HOME, ExposureSettings(), None)[0]) == {"light.a", "light.b",
                                                             "switch.router"}


def test_hearths_own_settings_win() -> None:
    assist = {"light.b": False, "lock.door": True}
    chosen, _ = choose(HOME, ExposureSettings(expose=("light.b",), hide=("lock.*",)), assist)
    assert ids(chosen) == {"light.a", "light.b", "switch.router"}
    only, _ = choose(HOME, ExposureSettings(expose_defaults=False, expose=("light.a",)),
                     assist)
    assert ids(only) == {"light.a"}
