"""Whole commands: several in one sentence are each done, asked about or not done, and
the reply says which; a sensitive part still needs its own yes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import load_settings
from assistant.home import open_home
from assistant.home.base import HomeBackend
from assistant.understand.context import ConversationMemory
from assistant.understand.result import Action
from assistant.understand.router import Understander

AREA = "living_room"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HomeBackend]:
    h = open_home(load_settings(data_dir=str(tmp_path_factory.mktemp("compound"))))
    yield h
    h.close()


@pytest.fixture()
def understander(home: HomeBackend, tmp_path: Path) -> Understander:
    return Understander(home, memory=ConversationMemory(tmp_path / "conversation.sqlite"))


@pytest.mark.parametrize(("text", "parts"), [
    ("turn on the hallway light and open the garage", ["turn on the hallway light", "open the garage"]),
    ("lights off and lock the door", ["lights off", "lock the door"]),
    ("turn off the tv and then turn on the coffee maker", ["turn off the tv", "turn on the coffee maker"]),
    ("turn on the kitchen light, then make it blue", ["turn on the kitchen light", "make it blue"]),
    ("turn on the kitchen and hallway lights and open the blinds",
     ["turn on the kitchen and hallway lights", "open the blinds"]),
    ("turn the kitchen and hallway lights on", ["turn the kitchen and hallway lights on"]),
    ("make the bedroom light black and white", ["make the bedroom light black and white"]),
    ("add salt and pepper to my shopping list", ["add salt and pepper to my shopping list"]),
    ("turn on the lights and the fan", ["turn on the lights and the fan"]),
    ("turn the lights on and off", ["turn the lights on and off"]),
])
def test_a_sentence_is_split_only_where_each_side_is_a_command(understander: Understander, text: str,
                                                               parts: list[str]) -> None:
    assert understander.splitter.split(text) == parts


def test_both_commands_are_done(understander: Understander) -> None:
    d = understander.decide("turn off the tv and then turn on the coffee maker", area=AREA)
    assert d.actions == (Action("switch.turn_off", "switch.tv"),
                         Action("switch.turn_on", "switch.coffee_maker"))
    assert "Turned off the TV" in d.reply and "Turned on the Coffee Maker" in d.reply
    assert len(d.parts) == 2


def test_a_sensitive_part_waits_for_its_own_yes(understander: Understander) -> None:
    d = understander.decide("turn on the hallway light and unlock the front door", area=AREA)
    assert d.actions == (Action("light.turn_on", "light.hallway"),)
    assert d.pending == (Action("lock.unlock", "lock.front_door"),)
    assert d.handled_by == "confirm" and d.expects_reply
    assert "Hallway Light" in d.reply and "unlock the Front Door?" in d.reply
    yes = understander.decide("yes", area=AREA)
    assert yes.actions == (Action("lock.unlock", "lock.front_door"),)  # only the part that waited


def test_a_part_not_understood_is_named_in_the_reply(understander: Understander) -> None:
    d = understander.decide("turn on the hallway light and then set the sprinklers to mist", area=AREA)
    assert d.actions == (Action("light.turn_on", "light.hallway"),)
    assert '"set the sprinklers to mist"' in d.reply


def test_the_second_part_can_say_it(understander: Understander) -> None:
    d = understander.decide("turn on the bedroom light and make it blue", area=AREA)
    assert [a.entity_id for a in d.actions] == ["light.bedroom", "light.bedroom"]
    assert d.actions[-1].data == {"rgb_color": [0, 0, 255]}
