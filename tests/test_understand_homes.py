"""Resolution in a home that is not the demo home (built here): names said in part, the
sort of a kind ("the curtains"), the speaker's room, one vacuum per request, and a whole
command after another is not taken for a follow-up of it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from assistant.home.demo import DemoHome
from assistant.understand.candidates import CommandSpace
from assistant.understand.context import ConversationMemory
from assistant.understand.router import Understander

HOME = {
    "areas": [{"id": "scullery", "name": "Scullery"}, {"id": "snug", "name": "Snug"},
              {"id": "loft", "name": "Loft"}, {"id": "porch", "name": "Porch"}],
    "entities": [
        {"entity_id": "light.strip", "name": "Strip Light", "area": "scullery", "state": "off"},
        {"entity_id": "light.snug_lamp", "name": "Reading Lamp", "area": "snug", "state": "off"},
        {"entity_id": "light.snug_ceiling", "name": "Ceiling Light", "area": "snug", "state": "off"},
        {"entity_id": "light.loft_ceiling", "name": "Ceiling Light", "area": "loft", "state": "off"},
        {"entity_id": "light.lantern", "name": "Porch Lantern", "area": "porch", "state": "off"},
        {"entity_id": "fan.stove", "name": "Stove Fan", "area": "snug", "state": "off"},
        {"entity_id": "fan.loft", "name": "Loft Fan", "area": "loft", "state": "off"},
        {"entity_id": "cover.snug_curtains", "name": "Velvet Curtains", "area": "snug",
         "device_class": "curtain", "state": "open"},
        {"entity_id": "cover.snug_blind", "name": "Roller Blind", "area": "snug",
         "device_class": "blind", "state": "open"},
        {"entity_id": "vacuum.henry", "name": "Henry", "area": "snug", "state": "docked"},
        {"entity_id": "vacuum.upstairs", "name": "Upstairs Bot", "area": "loft", "state": "docked"},
    ],
}


@pytest.fixture()
def home(tmp_path: Path) -> Iterator[DemoHome]:
    path = tmp_path / "home.yaml"
    path.write_text(yaml.safe_dump(HOME), encoding="utf-8")
    h = DemoHome(path, tmp_path / "home.sqlite")
    yield h
    h.close()


def _keys(space: CommandSpace, text: str, area: str) -> list[str]:
    return [t.key for t in space.targets(space.retrieve(text), area)]


def test_one_word_of_a_name_names_the_device(home: DemoHome) -> None:
    space = CommandSpace(home)
    assert _keys(space, "turn the fan by the stove off", "scullery") == ["fan.stove"]
    assert _keys(space, "the lantern on", "scullery") == ["light.lantern"]


def test_the_sort_of_a_kind_narrows_it(home: DemoHome) -> None:
    space = CommandSpace(home)
    assert _keys(space, "close the curtains", "snug") == ["cover.snug_curtains"]
    assert _keys(space, "lower the blind", "snug") == ["cover.snug_blind"]


def test_the_same_name_in_two_rooms_is_the_one_here(home: DemoHome) -> None:
    space = CommandSpace(home)
    assert _keys(space, "ceiling light on", "loft") == ["light.loft_ceiling"]
    assert sorted(_keys(space, "ceiling light on", "scullery")) == ["light.loft_ceiling",
                                                                     "light.snug_ceiling"]


def test_one_request_starts_one_vacuum(home: DemoHome) -> None:
    space = CommandSpace(home)
    assert _keys(space, "start the vacuum", "loft") == ["vacuum.upstairs"]
    assert sorted(_keys(space, "start the vacuum", "porch")) == ["vacuum.henry", "vacuum.upstairs"]
    for target in space.targets(space.retrieve("start the vacuum"), "porch"):
        assert len(target.entities) == 1  # ask which, never both


def test_a_whole_command_after_another_is_not_its_follow_up(home: DemoHome, tmp_path: Path) -> None:
    u = Understander(home, memory=ConversationMemory(tmp_path / "conversation.sqlite"))
    first = u.decide("turn off the strip light", area="scullery")
    assert [(a.service, a.entity_id) for a in first.actions] == [("light.turn_off", "light.strip")]
    second = u.decide("porch lantern on", area="scullery")
    assert [(a.service, a.entity_id) for a in second.actions] == [("light.turn_on", "light.lantern")]


def test_a_room_the_home_does_not_have_is_unknown(home: DemoHome) -> None:
    space = CommandSpace(home)
    assert space.retrieve("turn on the lights in the nursery").unknown
    assert not space.retrieve("turn on the lights in the snug").unknown
    assert not space.retrieve("turn the light off in a bit").unknown


def test_the_vocabulary_is_data() -> None:
    from assistant.understand import vocabulary

    words = vocabulary.load("en")
    assert words.domain_words["lamp"] == "light" and "the" in words.plain_words
    with pytest.raises(ValueError, match="no vocabulary"):
        vocabulary.load("xx")


def test_a_bare_number_for_a_thermostat_is_degrees(tmp_path: Path) -> None:
    path = tmp_path / "warm.yaml"
    path.write_text(yaml.safe_dump({"areas": [{"id": "den", "name": "Den"}], "entities": [
        {"entity_id": "climate.radiators", "name": "Radiators", "area": "den", "state": "heat",
         "attributes": {"temperature": 19.0}}]}), encoding="utf-8")
    h = DemoHome(path, tmp_path / "warm.sqlite")
    try:
        space = CommandSpace(h)
        assert space.retrieve("radiators to eighteen").degrees == 18.0
        assert space.retrieve("set the radiators to 21").degrees == 21.0
        assert space.retrieve("radiators to nineteen degrees").degrees == 19.0
    finally:
        h.close()


def test_a_scene_named_after_another_turn_is_that_scene(tmp_path: Path) -> None:
    path = tmp_path / "scene.yaml"
    path.write_text(yaml.safe_dump({"areas": [{"id": "den", "name": "Den"}], "entities": [
        {"entity_id": "climate.radiators", "name": "Radiators", "area": "den", "state": "heat",
         "attributes": {"temperature": 19.0}},
        {"entity_id": "scene.supper_time", "name": "Supper Time", "state": "off"}]}), encoding="utf-8")
    h = DemoHome(path, tmp_path / "scene.sqlite")
    try:
        u = Understander(h, memory=ConversationMemory(tmp_path / "conversation.sqlite"))
        u.decide("set the radiators to 21 degrees", area="den")
        d = u.decide("supper time", area="den")
        assert [(a.service, a.entity_id) for a in d.actions] == [("scene.turn_on", "scene.supper_time")]
    finally:
        h.close()


def test_a_follow_up_continues_only_its_own_rooms_conversation(home: DemoHome, tmp_path: Path) -> None:
    u = Understander(home, memory=ConversationMemory(tmp_path / "conversation.sqlite"))
    u.decide("turn on the strip light", area="scullery")
    here = u.decide("turn it off", area="scullery")
    assert [(a.service, a.entity_id) for a in here.actions] == [("light.turn_off", "light.strip")]
    u.decide("turn on the strip light", area="scullery")
    elsewhere = u.decide("brighter please", area="loft")  # the loft's light, not the scullery's
    assert "light.strip" not in {a.entity_id for a in elsewhere.actions}
    assert {a.entity_id for a in elsewhere.actions} <= {"light.loft_ceiling"}
    u.decide("turn on the strip light", area="scullery")
    assert not u.decide("turn it off", area="porch").actions  # "it" is nothing in the porch


def test_mute_and_unmute_set_the_players_flag(tmp_path: Path) -> None:
    path = tmp_path / "music.yaml"
    path.write_text(yaml.safe_dump({"areas": [{"id": "den", "name": "Den"}], "entities": [
        {"entity_id": "media_player.gramophone", "name": "Gramophone", "area": "den",
         "state": "playing", "features": ["volume"], "attributes": {"volume_level": 0.4}}]}),
        encoding="utf-8")
    h = DemoHome(path, tmp_path / "music.sqlite")
    try:
        u = Understander(h, memory=ConversationMemory(None))
        for said, muted in (("mute the gramophone", True), ("unmute the gramophone", False)):
            d = u.decide(said, area="den")
            assert [(a.service, a.entity_id, a.data) for a in d.actions] == [
                ("media_player.volume_mute", "media_player.gramophone", {"is_volume_muted": muted})]
        for said, muted in (("mute the den", True), ("unmute the speaker in the den", False)):
            d = u.decide(said, area="den")  # a room's players, by the room or the kind
            assert [(a.service, a.entity_id, a.data) for a in d.actions] == [
                ("media_player.volume_mute", "media_player.gramophone", {"is_volume_muted": muted})]
    finally:
        h.close()


def test_a_kind_the_room_lacks_is_the_homes_one_or_asked_about(home: DemoHome, tmp_path: Path) -> None:
    u = Understander(home, memory=ConversationMemory(tmp_path / "conversation.sqlite"))
    asked = u.decide("start the vacuum", area="porch")  # two vacuums, neither in the porch
    assert asked.handled_by == "clarify" and not asked.actions
    assert "Henry" in asked.reply and "Upstairs Bot" in asked.reply
    answered = u.decide("henry", area="porch")
    assert [(a.service, a.entity_id) for a in answered.actions] == [("vacuum.start", "vacuum.henry")]
    here = u.decide("start the vacuum", area="loft")
    assert [(a.service, a.entity_id) for a in here.actions] == [("vacuum.start", "vacuum.upstairs")]


def test_a_rooms_humidity_or_temperature_is_its_own_sensors(tmp_path: Path) -> None:
    path = tmp_path / "damp.yaml"
    path.write_text(yaml.safe_dump({"areas": [{"id": "den", "name": "Den"}, {"id": "attic", "name": "Attic"},
                                              {"id": "wet_room", "name": "Wet Room"}], "entities": [
        {"entity_id": "climate.attic", "name": "Attic Radiator", "area": "attic", "state": "heat",
         "attributes": {"temperature": 19, "current_temperature": 18}},
        {"entity_id": "sensor.den_damp", "name": "Den Damp", "area": "den", "device_class": "humidity",
         "state": "55", "unit": "%"},
        {"entity_id": "sensor.hygro", "name": "Hygrometer", "area": "wet_room", "device_class": "humidity",
         "state": "80", "unit": "%"},
        {"entity_id": "sensor.den_thermo", "name": "Den Thermometer", "area": "den",
         "device_class": "temperature", "state": "20", "unit": "°C"}]}), encoding="utf-8")
    h = DemoHome(path, tmp_path / "damp.sqlite")
    try:
        u = Understander(h, memory=ConversationMemory(None))
        for said, area, reply in (("what's the humidity in the wet room", "den", "Hygrometer is 80"),
                                  ("how humid is the wet room", "attic", "Hygrometer is 80"),
                                  ("how humid is it in here", "den", "Den Damp is 55"),
                                  ("what's the temperature in the den", "attic", "Den Thermometer is 20")):
            d = u.decide(said, area=area)
            assert d.handled_by == "local" and not d.actions and reply in d.reply, (said, d.reply)
            assert ("80" in d.reply) != ("55" in d.reply) or "Thermometer" in d.reply  # one room's
    finally:
        h.close()


def test_the_lamp_is_the_lamp_and_the_lights_are_all_lights(tmp_path: Path) -> None:
    path = tmp_path / "lamps.yaml"
    path.write_text(yaml.safe_dump({"areas": [{"id": "den", "name": "Den"}, {"id": "attic", "name": "Attic"}],
                                    "entities": [
        {"entity_id": "light.den_ceiling", "name": "Den Ceiling", "area": "den", "state": "on"},
        {"entity_id": "light.desk_lamp", "name": "Desk Lamp", "area": "den", "state": "on"},
        {"entity_id": "light.floor_lamp", "name": "Floor Lamp", "area": "den", "state": "on"},
        {"entity_id": "light.reading", "name": "Reading Lamp", "area": "attic", "state": "on"},
        {"entity_id": "light.attic_spots", "name": "Attic Spots", "area": "attic", "state": "on"}]}),
        encoding="utf-8")
    h = DemoHome(path, tmp_path / "lamps.sqlite")
    try:
        u = Understander(h, memory=ConversationMemory(None))

        def done(said: str, area: str) -> set[str]:
            return {a.entity_id for a in u.decide(said, area=area).actions}

        assert done("switch off the lamp", "attic") == {"light.reading"}
        assert done("turn off the lamp in the attic", "den") == {"light.reading"}
        assert done("turn off the lamps", "den") == {"light.desk_lamp", "light.floor_lamp"}
        assert done("turn off the lights", "den") == {"light.den_ceiling", "light.desk_lamp",
                                                      "light.floor_lamp"}
        asked = u.decide("turn off the lamp", area="den")
        assert asked.handled_by == "clarify" and not asked.actions
        assert done("the floor lamp", "den") == {"light.floor_lamp"}
        assert u.decide("turn off the lamp in the house", area="den").handled_by == "clarify"
    finally:
        h.close()


def test_one_command_on_two_named_targets_does_both(home: DemoHome, tmp_path: Path) -> None:
    u = Understander(home, memory=ConversationMemory(tmp_path / "conversation.sqlite"))
    d = u.decide("turn on the strip light and the porch lantern", area="loft")
    assert [(a.service, a.entity_id) for a in d.actions] == [("light.turn_on", "light.strip"),
                                                             ("light.turn_on", "light.lantern")]
    d = u.decide("switch on the lights in the scullery and the porch", area="loft")
    assert {a.entity_id for a in d.actions} == {"light.strip", "light.lantern"}
    assert {a.service for a in d.actions} == {"light.turn_on"}
    assert u.splitter.split("turn on the strip light and then the porch lantern") == [
        "turn on the strip light and then the porch lantern"]  # "then": not the same request


def test_play_starts_a_player_and_says_it_cannot_search(tmp_path: Path) -> None:
    path = tmp_path / "radio.yaml"
    areas = [{"id": "den", "name": "Den"}, {"id": "galley", "name": "Galley"}]
    path.write_text(yaml.safe_dump({"areas": areas, "entities": [
        {"entity_id": "media_player.wireless", "name": "Wireless", "area": "den", "state": "paused"},
        {"entity_id": "media_player.galley_box", "name": "Galley Box", "area": "galley",
         "state": "paused"}]}), encoding="utf-8")
    h = DemoHome(path, tmp_path / "radio.sqlite")
    try:
        u = Understander(h, memory=ConversationMemory(None))
        for said, player in (("play some music", "media_player.wireless"),
                             ("play the galley box", "media_player.galley_box"),
                             ("play music in the galley", "media_player.galley_box")):
            d = u.decide(said, area="den")
            assert [(a.service, a.entity_id) for a in d.actions] == [("media_player.media_play", player)]
        d = u.decide("play beethoven", area="den")
        assert not d.actions and "can't search" in d.reply
    finally:
        h.close()


def test_a_word_before_the_kind_narrows_a_rooms_devices(tmp_path: Path) -> None:
    path = tmp_path / "nursery.yaml"
    path.write_text(yaml.safe_dump({"areas": [{"id": "nursery", "name": "Nursery"},
                                              {"id": "hall", "name": "Hall"}], "entities": [
        {"entity_id": "light.nursery_glow", "name": "Nursery Glow Lamp", "area": "nursery", "state": "on"},
        {"entity_id": "light.nursery_top", "name": "Nursery Ceiling Light", "area": "nursery", "state": "on"},
        {"entity_id": "light.hall", "name": "Hall Pendant", "area": "hall", "state": "on"}]}),
        encoding="utf-8")
    h = DemoHome(path, tmp_path / "nursery.sqlite")
    try:
        space = CommandSpace(h)
        assert _keys(space, "switch off the ceiling light in the nursery", "hall") == ["light.nursery_top"]
        assert _keys(space, "switch off the lights in the nursery", "hall") == ["light@nursery"]
        assert _keys(space, "switch off the ceiling light in the hall", "nursery") == ["light.hall"]
    finally:
        h.close()


def test_the_thing_here_is_not_offered_with_another_rooms(tmp_path: Path) -> None:
    path = tmp_path / "tvs.yaml"
    path.write_text(yaml.safe_dump({"areas": [{"id": "lounge", "name": "Lounge"},
                                              {"id": "guest_room", "name": "Guest Room"}], "entities": [
        {"entity_id": "media_player.lounge_tv", "name": "Lounge TV", "area": "lounge", "state": "on"},
        {"entity_id": "media_player.guest_tv", "name": "Guest TV", "area": "guest_room", "state": "on"}]}),
        encoding="utf-8")
    h = DemoHome(path, tmp_path / "tvs.sqlite")
    try:
        space = CommandSpace(h)
        assert _keys(space, "mute the tv", "lounge") == ["media_player.lounge_tv"]
        assert "media_player.guest_tv" in _keys(space, "turn off the tv for the guest", "lounge")
    finally:
        h.close()
