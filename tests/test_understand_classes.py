"""Classes of phrasing, each proven in homes written here (not evaluation homes): the ends
of a range said as a frame ("as bright as it goes"), a value that belongs to one half of a
compound, questions answered and never acted on, remarks left alone. Templates and rules
only (no LLM): what a proposer would have done is given as a proposal to the last checks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.home.demo import DemoHome
from assistant.understand.memory import ConversationMemory
from assistant.understand.registry import load
from assistant.understand.result import Action, Decision
from assistant.understand.router import Understander
from assistant.understand.said import Said

POTTERY = {  # a potter's cottage: a snug, an attic studio, a porch, a carport
    "areas": [{"id": "snug", "name": "Snug"}, {"id": "attic", "name": "Attic Studio"},
              {"id": "porch", "name": "Porch"}, {"id": "carport", "name": "Carport"}],
    "entities": [
        {"entity_id": "light.reading_lamp", "name": "Reading Lamp", "area": "snug",
         "features": ["dimmable", "color_temp"], "state": "on",
         "attributes": {"brightness_pct": 40, "color_temp_kelvin": 3500}},
        {"entity_id": "light.easel_light", "name": "Easel Light", "area": "attic",
         "features": ["dimmable"], "state": "on", "attributes": {"brightness_pct": 60}},
        {"entity_id": "cover.snug_shutters", "name": "Snug Shutters", "area": "snug",
         "device_class": "shutter", "features": ["position"], "state": "open",
         "attributes": {"current_position": 100}},
        {"entity_id": "cover.carport_door", "name": "Carport Door", "area": "carport",
         "device_class": "garage", "state": "closed"},
        {"entity_id": "lock.porch_door", "name": "Porch Door", "area": "porch", "state": "locked"},
        {"entity_id": "climate.heat_pump", "name": "Heat Pump", "area": "snug", "state": "heat",
         "attributes": {"temperature": 19}},
        {"entity_id": "media_player.studio_radio", "name": "Studio Radio", "area": "attic",
         "features": ["volume"], "state": "playing", "attributes": {"volume_level": 0.4}},
        {"entity_id": "switch.kiln", "name": "Kiln", "area": "attic", "state": "off"},
        {"entity_id": "cover.snug_curtains", "name": "Snug Curtains", "area": "snug",
         "device_class": "curtain", "state": "open"},
        {"entity_id": "cover.attic_curtains", "name": "Gable Curtains", "area": "attic",
         "device_class": "curtain", "state": "closed"},
        {"entity_id": "light.candle_lantern", "name": "Candle Lantern", "area": "porch", "state": "off"},
    ],
}
LIGHTHOUSE = {  # a lighthouse flat: the lamp room, the watch room
    "areas": [{"id": "lamp_room", "name": "Lamp Room"}, {"id": "watch_room", "name": "Watch Room"}],
    "entities": [
        {"entity_id": "fan.lamp_room_vent", "name": "Vent", "area": "lamp_room",
         "features": ["speed"], "state": "on", "attributes": {"percentage": 30}},
        {"entity_id": "cover.storm_blind", "name": "Storm Blind", "area": "watch_room",
         "features": ["position"], "state": "closed", "attributes": {"current_position": 0}},
        {"entity_id": "light.chart_table", "name": "Chart Table Light", "area": "watch_room",
         "features": ["dimmable"], "state": "off", "attributes": {"brightness_pct": 50}},
        {"entity_id": "light.left_bunk", "name": "Left Bunk Light", "area": "watch_room",
         "state": "off"},
    ],
}


def _brain(tmp_path: Path, home: dict[str, Any]) -> Iterator[Understander]:
    path = tmp_path / "home.yaml"
    path.write_text(yaml.safe_dump(home), encoding="utf-8")
    backend = DemoHome(path, tmp_path / "home.sqlite")
    yield Understander(backend, memory=ConversationMemory(None))
    backend.close()


@pytest.fixture()
def cottage(tmp_path: Path) -> Iterator[Understander]:
    yield from _brain(tmp_path, POTTERY)


@pytest.fixture()
def lighthouse(tmp_path: Path) -> Iterator[Understander]:
    yield from _brain(tmp_path, LIGHTHOUSE)


class Proposing:
    """A fallback that proposes one fixed action, as a careless ranker might."""

    name = "proposing"

    def __init__(self, action: Action) -> None:
        self.action = action

    def decide(self, text: str, area: str | None, previous: Decision, conversation: object = None
               ) -> Decision:
        return Decision("local_llm", "Done.", actions=(self.action,), reason="proposed")


def _acts(decision: Decision) -> list[tuple[str, str, dict[str, object]]]:
    return [(a.service, a.entity_id, dict(a.data)) for a in (*decision.actions, *decision.pending)]


def _values(text: str) -> list[tuple[float, str]]:
    registry = load()
    return [(v.number, v.unit) for v in Said(text, registry.vocab, registry.opposites).values]


@pytest.mark.parametrize(("text", "share"), [
    ("make the reading lamp as bright as it goes", 100),
    ("vent as fast as it'll go", 100),
    ("open the storm blind as far as it can go", 100),
    ("radio as quiet as possible", 0),
    ("chart table light as low as it goes", 0),
])
def test_the_ends_of_a_range_said_in_a_frame_are_the_ends(text: str, share: int) -> None:
    assert _values(text) == [(share, "share")]


def test_a_step_proposed_for_an_end_said_becomes_the_end(cottage: Understander) -> None:
    cottage.fallbacks = [Proposing(Action("light.turn_on", "light.easel_light", {"brightness_pct": 85}))]
    assert _acts(cottage.decide("easel light as bright as it will go please", area="attic")) == [
        ("light.turn_on", "light.easel_light", {"brightness_pct": 100})]
    cottage.fallbacks = [Proposing(Action("light.turn_on", "light.easel_light", {"brightness_pct": 35}))]
    assert _acts(cottage.decide("take the easel light as dim as it goes", area="attic")) == [
        ("light.turn_on", "light.easel_light", {"brightness_pct": 1})]


@pytest.mark.parametrize("text", [
    "heat pump to twenty one and close the shutters",
    "close the shutters and the heat pump to twenty one",
])
def test_a_value_stays_with_the_half_that_says_it(cottage: Understander, text: str) -> None:
    parts = cottage.splitter.split(text)
    assert len(parts) == 2
    assert [p for p in parts if "twenty one" in p] == [next(p for p in parts if "heat pump" in p)]


def test_two_halves_each_with_its_own_value(lighthouse: Understander) -> None:
    assert lighthouse.splitter.split("storm blind to 30 percent and the vent to 80 percent") == [
        "storm blind to 30 percent", "the vent to 80 percent"]


@pytest.mark.parametrize(("text", "proposed", "entity"), [
    ("have we left the porch door unlocked?", Action("lock.unlock", "lock.porch_door"), "Porch Door"),
    ("did we leave the kiln on?", Action("switch.turn_on", "switch.kiln"), "Kiln"),
    ("has anyone opened the carport door", Action("cover.open_cover", "cover.carport_door"),
     "Carport Door"),
    ("do we have the radio playing up there", Action("media_player.media_play",
                                                     "media_player.studio_radio"), "Studio Radio"),
])
def test_a_question_is_answered_whatever_was_proposed(cottage: Understander, text: str,
                                                      proposed: Action, entity: str) -> None:
    cottage.fallbacks = [Proposing(proposed)]
    decision = cottage.decide(text, area="snug")
    assert not decision.actions and not decision.pending
    assert decision.intent == "HassGetState" and entity in decision.reply


def test_a_question_nothing_proposed_for_is_answered_from_what_it_names(lighthouse: Understander) -> None:
    decision = lighthouse.decide("did somebody leave the chart table light on", area="lamp_room")
    assert decision.intent == "HassGetState" and "Chart Table Light is off" in decision.reply


@pytest.mark.parametrize(("text", "proposed"), [
    ("the kids left the easel light on all afternoon", Action("light.turn_on", "light.easel_light")),
    ("my neighbour turned the kiln off", Action("switch.turn_off", "switch.kiln")),
    ("somebody switched the radio on earlier", Action("media_player.turn_on", "media_player.studio_radio")),
])
def test_a_remark_is_left_alone(cottage: Understander, text: str, proposed: Action) -> None:
    cottage.fallbacks = [Proposing(proposed)]
    decision = cottage.decide(text, area="attic")
    assert not decision.actions and not decision.pending and "left" in decision.reply


@pytest.mark.parametrize(("text", "proposed"), [
    ("i left the kiln on, could you switch it off", Action("switch.turn_off", "switch.kiln")),
    ("turn off the easel light we left on", Action("light.turn_off", "light.easel_light")),
])
def test_a_request_that_tells_what_happened_is_still_done(cottage: Understander, text: str,
                                                          proposed: Action) -> None:
    cottage.fallbacks = [Proposing(proposed)]
    assert _acts(cottage.decide(text, area="attic")) == [(proposed.service, proposed.entity_id, {})]


def test_a_past_word_that_starts_the_request_is_no_remark(lighthouse: Understander) -> None:
    """"left bunk light on": a name (the left one) or a terse request, not something told."""
    lighthouse.fallbacks = [Proposing(Action("light.turn_on", "light.left_bunk"))]
    assert _acts(lighthouse.decide("left bunk light on", area="watch_room")) == [
        ("light.turn_on", "light.left_bunk", {})]


@pytest.mark.parametrize(("text", "mode"), [
    ("put the heat pump on auto", "auto"),
    ("switch the heat pump to cooling", "cool"),
    ("set the heating to dry mode", "dry"),
    ("the heat pump to fan only", "fan_only"),
])
def test_a_mode_said_is_the_mode_set(cottage: Understander, text: str, mode: str) -> None:
    assert _acts(cottage.decide(text, area="snug")) == [
        ("climate.set_hvac_mode", "climate.heat_pump", {"hvac_mode": mode})]


def test_a_mode_the_device_lacks_is_not_set(tmp_path: Path) -> None:
    home = {"areas": [{"id": "hut", "name": "Hut"}],
            "entities": [{"entity_id": "climate.stove", "name": "Stove", "area": "hut", "state": "heat",
                          "attributes": {"temperature": 18, "hvac_modes": ["off", "heat"]}}]}
    for brain in _brain(tmp_path, home):
        decision = brain.decide("switch the stove to cool", area="hut")
        assert not decision.actions and "no cool mode" in decision.reply


@pytest.mark.parametrize(("text", "kelvin"), [
    ("make the reading lamp warmer", 3000),
    ("make the reading lamp a bit cooler", 4000),
])
def test_warmer_and_cooler_move_a_white_light_s_colour_temperature(
        cottage: Understander, text: str, kelvin: int) -> None:
    assert _acts(cottage.decide(text, area="snug")) == [
        ("light.turn_on", "light.reading_lamp", {"color_temp_kelvin": kelvin})]


INN = {  # a two-room guest house where both rooms have the same devices
    "areas": [{"id": "rose", "name": "Rose Room"}, {"id": "ivy", "name": "Ivy Room"},
              {"id": "hall", "name": "Hall"}],
    "entities": [
        {"entity_id": "light.rose_night", "name": "Night Light", "area": "rose",
         "features": ["dimmable"], "state": "on", "attributes": {"brightness_pct": 50}},
        {"entity_id": "light.ivy_night", "name": "Night Light", "area": "ivy",
         "features": ["dimmable"], "state": "on", "attributes": {"brightness_pct": 50}},
        {"entity_id": "fan.rose_fan", "name": "Box Fan", "area": "rose", "features": ["speed"],
         "state": "off"},
        {"entity_id": "fan.ivy_fan", "name": "Box Fan", "area": "ivy", "features": ["speed"],
         "state": "off"},
        {"entity_id": "alarm_control_panel.house", "name": "House Alarm", "area": "hall",
         "state": "disarmed"},
        {"entity_id": "light.hall_lamp", "name": "Hall Lamp", "area": "hall",
         "features": ["dimmable", "color_temp"], "state": "on",
         "attributes": {"brightness_pct": 80, "color_temp_kelvin": 4000}},
    ],
}


@pytest.fixture()
def inn(tmp_path: Path) -> Iterator[Understander]:
    yield from _brain(tmp_path, INN)


@pytest.mark.parametrize("text", ["night light to twenty percent", "set the box fan to 40 percent",
                                  "turn the box fan on"])
def test_a_name_two_rooms_share_is_asked_about_from_elsewhere(inn: Understander, text: str) -> None:
    decision = inn.decide(text, area="hall")
    assert decision.handled_by == "clarify" and not decision.actions
    assert "Rose Room" in decision.reply and "Ivy Room" in decision.reply


@pytest.mark.parametrize(("text", "area", "entity"), [
    ("turn off the night light", "ivy", "light.ivy_night"),
    ("box fan on", "rose", "fan.rose_fan"),
    ("turn off the night light in the rose room", "hall", "light.rose_night"),
])
def test_a_name_two_rooms_share_is_the_one_of_the_room_said_or_here(
        inn: Understander, text: str, area: str, entity: str) -> None:
    assert [a[1] for a in _acts(inn.decide(text, area=area))] == [entity]


@pytest.mark.parametrize(("text", "service"), [
    ("arm the house alarm for the night", "alarm_arm_night"),
    ("set the house alarm to home mode", "alarm_arm_home"),
    ("arm the house alarm, we're going out", "alarm_arm_away"),
])
def test_the_words_pick_which_way_of_arming(inn: Understander, text: str, service: str) -> None:
    inn.fallbacks = [Proposing(Action("alarm_control_panel.alarm_arm_away", "alarm_control_panel.house"))]
    decision = inn.decide(text, area="hall")
    assert not decision.actions  # sensitive: waits for a yes
    assert [a.service for a in decision.pending] == [f"alarm_control_panel.{service}"]


@pytest.mark.parametrize(("text", "value"), [
    ("open it a quarter of the way", (25.0, "share")),
    ("three quarters of the way", (75.0, "share")),
    ("hall lamp to 2700 kelvin", (2700.0, "kelvin")),
])
def test_shares_of_the_way_and_kelvin_are_values(text: str, value: tuple[float, str]) -> None:
    assert _values(text) == [value]


def test_a_kelvin_said_is_the_kelvin_done(inn: Understander) -> None:
    inn.fallbacks = [Proposing(Action("light.turn_on", "light.hall_lamp", {"rgb_color": [255, 214, 170]}))]
    acts = _acts(inn.decide("hall lamp to warm white, 2700 kelvin", area="hall"))
    assert acts and acts[0][2].get("color_temp_kelvin") == 2700


def test_a_question_about_a_kind_in_a_room_asks_about_that_room_s_one(tmp_path: Path) -> None:
    home = {"areas": [{"id": "loft", "name": "Loft"}],
            "entities": [
                {"entity_id": "cover.loft_blind", "name": "Roof Blind", "area": "loft",
                 "device_class": "blind", "state": "open"},
                {"entity_id": "binary_sensor.loft_window", "name": "Loft Skylight Sensor",
                 "area": "loft", "device_class": "window", "state": "off"}]}
    for brain in _brain(tmp_path, home):
        brain.fallbacks = [Proposing(Action("cover.open_cover", "cover.loft_blind"))]
        decision = brain.decide("is the window in the loft open", area="loft")
        assert not decision.actions and decision.slots.get("name") == "binary_sensor.loft_window"
        assert "closed" in decision.reply  # a window sensor's "off", said as a window's state


@pytest.mark.parametrize(("text", "area", "expected"), [
    ("draw the curtains", "snug", ("cover.close_cover", "cover.snug_curtains")),
    ("draw the gable curtains", "snug", ("cover.close_cover", "cover.attic_curtains")),
    ("draw back the curtains", "attic", ("cover.open_cover", "cover.attic_curtains")),
    ("draw the curtains in the attic studio back", "snug", ("cover.open_cover", "cover.attic_curtains")),
    ("light the candle lantern", "snug", ("light.turn_on", "light.candle_lantern")),
])
def test_verbs_of_their_own_for_curtains_and_lamps(cottage: Understander, text: str, area: str,
                                                   expected: tuple[str, str]) -> None:
    assert [(a[0], a[1]) for a in _acts(cottage.decide(text, area=area))] == [expected]


def test_draw_is_close_and_draw_back_is_open_to_the_last_check() -> None:
    registry = load()
    assert "close" in Said("draw the curtains", registry.vocab).affirmed("cover")
    assert Said("draw the curtains back", registry.vocab).affirmed("cover") == {"open"}


@pytest.mark.parametrize(("text", "kept"), [
    ("don't switch on the gable curtains light, switch it off", "switch off the gable curtains light"),
    ("please don't close the awning, open it", "please open the awning"),
    ("the porch lamp, not on, off", "the porch lamp off"),
    ("I'd like the fan on, actually, no, off", "i'd like the fan off"),
    ("turn the lamp on, then off", None),  # two steps, not a correction
    ("turn on the lamp and turn off the fan", None),  # another device named after
    ("open the blind, don't close it", None),  # restated(): the other shape
])
def test_a_correction_in_the_same_breath_leaves_the_later_direction(text: str, kept: str | None) -> None:
    registry = load()
    assert Said(text, registry.vocab, registry.opposites).corrected() == kept


@pytest.mark.parametrize(("text", "expected"), [
    ("don't open the snug shutters, close them", ("cover.close_cover", "cover.snug_shutters")),
    ("I want the kiln off, wait, no, on", ("switch.turn_on", "switch.kiln")),
    ("I don't want the reading lamp on, switch it off", ("light.turn_off", "light.reading_lamp")),
])
def test_a_corrected_request_does_the_later_direction(cottage: Understander, text: str,
                                                      expected: tuple[str, str]) -> None:
    assert [(a[0], a[1]) for a in _acts(cottage.decide(text, area="snug"))] == [expected]


@pytest.mark.parametrize(("text", "kelvin"), [
    ("hall lamp to 2700 kelvin", 2700),
    ("hall lamp to four thousand kelvin", 4000),
    ("set the colour temperature of the hall lamp to two thousand seven hundred k", 2700),
])
def test_a_white_light_is_set_to_the_kelvin_said(inn: Understander, text: str, kelvin: int) -> None:
    assert _acts(inn.decide(text, area="hall")) == [
        ("light.turn_on", "light.hall_lamp", {"color_temp_kelvin": kelvin})]


def test_a_light_without_colour_temperature_says_so(inn: Understander) -> None:
    decision = inn.decide("the night light to 3000 kelvin", area="rose")
    assert not decision.actions and "can't change white" in decision.reply


def test_sound_the_horn_turns_a_switch_on_but_never_an_alarm(tmp_path: Path) -> None:
    home = {"areas": [{"id": "deck", "name": "Deck"}],
            "entities": [{"entity_id": "switch.fog_horn", "name": "Fog Horn", "area": "deck", "state": "off"},
                         {"entity_id": "alarm_control_panel.boat", "name": "Boat Alarm", "area": "deck",
                          "state": "disarmed"}]}
    for brain in _brain(tmp_path, home):
        assert _acts(brain.decide("sound the fog horn", area="deck")) == [
            ("switch.turn_on", "switch.fog_horn", {})]
        assert not _acts(brain.decide("sound the boat alarm", area="deck"))


@pytest.mark.parametrize(("text", "value"), [
    ("bump it up two degrees", (2.0, "degrees", 1)),
    ("two degrees cooler please", (2.0, "degrees", -1)),
    ("lower the storm blind by 30 percent", (30.0, "percent", -1)),
    ("turn it up to 70 degrees", (70.0, "degrees", 0)),  # a level, said after "to"
    ("storm blind to 30 percent", (30.0, "percent", 0)),
])
def test_a_value_beside_a_direction_is_a_change(text: str, value: tuple[float, str, int]) -> None:
    registry = load()
    assert [(v.number, v.unit, v.change) for v in Said(text, registry.vocab).values] == [value]


@pytest.mark.parametrize(("text", "proposed", "expected"), [
    ("bump the heat pump up two degrees", Action("climate.set_temperature", "climate.heat_pump",
                                                 {"temperature": 20}), {"temperature": 21}),
    ("easel light brightness up 20 percent", Action("light.turn_on", "light.easel_light",
                                                    {"brightness_pct": 20}), {"brightness_pct": 80}),
    ("lower the snug shutters by 30 percent", Action("cover.set_cover_position", "cover.snug_shutters",
                                                     {"position": 30}), {"position": 70}),
])
def test_a_change_said_is_done_from_the_level_now(cottage: Understander, text: str, proposed: Action,
                                                  expected: dict[str, object]) -> None:
    """Never the change taken as the level ("up 20 percent" proposed as 20%: dimmer)."""
    cottage.fallbacks = [Proposing(proposed)]
    acts = _acts(cottage.decide(text, area="snug"))
    assert acts == [(proposed.service, proposed.entity_id, expected)]
