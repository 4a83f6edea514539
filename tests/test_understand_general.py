"""General abilities, each in a home written here (not an evaluation home): a restated
opposite is dropped, a device's own name says no direction, values are read as said,
mute / locate / oscillate are commands, and a thermostat in °F takes °F."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from assistant.home.demo import DemoHome
from assistant.understand.candidates import CommandSpace
from assistant.understand.memory import ConversationMemory
from assistant.understand.registry import load
from assistant.understand.router import Understander
from assistant.understand.said import Said

HOME = {
    "areas": [{"id": "den", "name": "Den"}, {"id": "deck", "name": "Deck"}],
    "entities": [
        {"entity_id": "light.sconce", "name": "Sconce", "area": "den", "state": "off"},
        {"entity_id": "light.left_spot", "name": "Left Spot Light", "area": "deck", "state": "off"},
        {"entity_id": "light.right_spot", "name": "Right Spot Light", "area": "deck", "state": "off"},
        {"entity_id": "cover.awning", "name": "Awning", "area": "deck", "features": ["position"],
         "state": "closed", "attributes": {"current_position": 0}},
        {"entity_id": "scene.lights_out", "name": "Lights Out", "state": "off"},
        {"entity_id": "media_player.hifi", "name": "Hifi", "area": "den", "features": ["volume"],
         "state": "playing", "attributes": {"volume_level": 0.3}},
        {"entity_id": "vacuum.dusty", "name": "Dusty", "area": "den", "state": "docked"},
        {"entity_id": "fan.deck_fan", "name": "Deck Fan", "area": "deck", "features": ["oscillate"],
         "state": "on", "attributes": {"oscillating": False}},
        {"entity_id": "climate.furnace", "name": "Furnace", "area": "den", "unit": "°F", "state": "heat",
         "attributes": {"temperature": 66, "min_temp": 50, "max_temp": 90}},
    ],
}


@pytest.fixture()
def brain(tmp_path: Path) -> Iterator[Understander]:
    path = tmp_path / "home.yaml"
    path.write_text(yaml.safe_dump(HOME), encoding="utf-8")
    home = DemoHome(path, tmp_path / "home.sqlite")
    yield Understander(home, memory=ConversationMemory(None))
    home.close()


def _said(text: str) -> Said:
    registry = load()
    return Said(text, registry.vocab, registry.opposites)


@pytest.mark.parametrize(("text", "kept"), [
    ("turn on the sconce not off", "turn on the sconce"),
    ("open the awning, don't close it", "open the awning"),
    ("turn the hifi down and not up", "turn the hifi down"),
    ("don't turn the sconce off", None),  # a plain negation: nothing to drop
    ("turn on the sconce, not the fan", None),  # a correction of the target, not a restatement
])
def test_a_restated_opposite_is_dropped(text: str, kept: str | None) -> None:
    assert _said(text).restated() == kept


def test_values_are_read_as_said(brain: Understander) -> None:
    space = CommandSpace(brain.home)
    assert space.retrieve("awning halfway").percent == 50
    assert space.retrieve("awning to a quarter").percent == 25
    assert space.retrieve("set the furnace to sixty eight degrees").degrees == 68
    assert space.retrieve("furnace to 72").degrees == 72


def _actions(brain: Understander, text: str) -> list[tuple[str, str, dict[str, object]]]:
    d = brain.decide(text, area="den")
    return [(a.service, a.entity_id, dict(a.data)) for a in (*d.actions, *d.pending)]


def test_a_name_with_a_direction_word_in_it_says_no_direction(brain: Understander) -> None:
    assert _actions(brain, "lights out") == [("scene.turn_on", "scene.lights_out", {})]


def test_a_thermostat_in_fahrenheit_takes_fahrenheit(brain: Understander) -> None:
    assert _actions(brain, "set the furnace to 72 degrees") == [
        ("climate.set_temperature", "climate.furnace", {"temperature": 72.0})]
    assert brain.decide("set the furnace to 95 degrees", area="den").handled_by == "unhandled"


def test_mute_locate_and_oscillate_are_commands(brain: Understander) -> None:
    space = CommandSpace(brain.home)

    def actions(text: str) -> set[str]:
        found = space.retrieve(text)
        return {c.action for c in space.commands(found, space.targets(found, "den"))}

    assert {"mute", "unmute"} <= actions("mute the hifi")
    assert "off" in actions("hifi off") and "off" not in actions("pause the hifi")
    assert "locate" in actions("make dusty beep")
    assert {"oscillate", "still"} <= actions("make the deck fan oscillate")


def test_one_of_several_named_in_part_is_one_target_each(brain: Understander) -> None:
    """"the spot light" of two: one target each (the ranker asks which); "both": one group."""
    space = CommandSpace(brain.home)

    def keys(text: str) -> list[str]:
        return [t.key for t in space.targets(space.retrieve(text), "deck")]

    assert keys("spot light on") == ["light.left_spot", "light.right_spot"]
    assert keys("both spot lights on") == ["light.left_spot+light.right_spot"]


def test_a_room_and_what_only_some_kinds_do_names_those_kinds(brain: Understander) -> None:
    space = CommandSpace(brain.home)
    assert space.retrieve("open the deck").domains == ["cover"]  # the awning, not the lights
    assert space.retrieve("turn off the deck").domains == []  # every kind turns off


def test_a_scene_is_told_back_as_activated(brain: Understander) -> None:
    assert brain.decide("lights out", area="den").reply.startswith("Activated")


def test_turning_down_what_is_at_its_lowest_does_nothing(brain: Understander) -> None:
    """An action that sets a level at its bottom lower still ("turn the awning down" with it
    closed, proposed as position 0) is not done: the check asks instead."""
    from assistant.understand.direction import DirectionCheck
    from assistant.understand.result import Action, Decision

    proposed = Decision("local_llm", "Set the Awning to 0%.",
                        actions=(Action("cover.set_cover_position", "cover.awning", {"position": 0}),))
    checked = DirectionCheck(brain.home).check(proposed, "turn the awning down")
    assert checked.handled_by == "clarify" and not checked.actions
