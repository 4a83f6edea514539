"""Understanding without the LLM: Hearth's sentences, the handlers, follow-ups, memory, safety.

Every test asks the real demo home through the real router (templates = hassil with
Home Assistant's and Hearth's sentences) and checks what would be done.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.config import load_settings
from assistant.home import open_home
from assistant.home.base import HomeBackend
from assistant.understand.candidates import CommandSpace, strip_address
from assistant.understand.context import ConversationMemory
from assistant.understand.result import Decision
from assistant.understand.router import Understander

AREA = "living_room"


@pytest.fixture()
def home(tmp_path: Path) -> Iterator[HomeBackend]:
    h = open_home(load_settings(data_dir=str(tmp_path)))
    yield h
    h.close()


@pytest.fixture()
def understander(home: HomeBackend, tmp_path: Path) -> Understander:
    return Understander(home, memory=ConversationMemory(tmp_path / "conversation.sqlite"))


def acts(d: Decision) -> list[tuple[str, str, dict[str, Any]]]:
    return [(a.service, a.entity_id, dict(a.data)) for a in d.actions]


def apply(home: HomeBackend, d: Decision) -> None:
    for a in d.actions:
        home.call_service(a.service, a.entity_id, a.data)


def lights_on(home: HomeBackend, pct: int = 50) -> None:
    for e in home.entities():
        if e.domain == "light":
            home.call_service("light.turn_on", e.entity_id,
                              {"brightness_pct": pct} if "dimmable" in e.features else {})


# --- Hearth's own sentences ----------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("make coffee", [("switch.turn_on", "switch.coffee_maker", {})]),
    ("start the coffee pot", [("switch.turn_on", "switch.coffee_maker", {})]),
    ("i'd like an espresso please", [("switch.turn_on", "switch.coffee_maker", {})]),
    ("it's coffee time", [("switch.turn_on", "switch.coffee_maker", {})]),
    ("shut off the lights in the bedroom", [("light.turn_off", "light.bedroom", {})]),
    ("kill the lights", [("light.turn_off", "light.living_room_ceiling", {}),
                         ("light.turn_off", "light.floor_lamp", {})]),
    ("clean the kitchen", [("vacuum.start", "vacuum.robot", {})]),
    ("start house cleaning", [("vacuum.start", "vacuum.robot", {})]),
    ("make the bedroom light blue", [("light.turn_on", "light.bedroom", {"rgb_color": [0, 0, 255]})]),
    ("get the coffee going", [("switch.turn_on", "switch.coffee_maker", {})]),
    ("brew me a cup", [("switch.turn_on", "switch.coffee_maker", {})]),
    ("make me a coffee olly", [("switch.turn_on", "switch.coffee_maker", {})]),
    ("time to clean the house", [("vacuum.start", "vacuum.robot", {})]),
])
def test_hearth_sentences(understander: Understander, text: str,
                          expected: list[tuple[str, str, dict[str, Any]]]) -> None:
    d = understander.decide(text, area=AREA)
    assert d.handled_by == "local", d.reason
    assert acts(d) == expected


def test_relative_brightness_follows_the_state(understander: Understander, home: HomeBackend) -> None:
    lights_on(home, 50)
    d = understander.decide("dim the lights in the kitchen", area=AREA)
    assert acts(d) == [("light.turn_on", "light.kitchen", {"brightness_pct": 25})]
    d = understander.decide("make the kitchen light a bit brighter", area=AREA)
    assert acts(d) == [("light.turn_on", "light.kitchen", {"brightness_pct": 60})]


def test_dimming_lights_that_are_off_does_not_switch_them_on(understander: Understander) -> None:
    d = understander.decide("dim the lights in the kitchen", area=AREA)
    assert d.actions == () and "already off" in d.reply


def test_its_dark_in_here_turns_on_then_brightens(understander: Understander, home: HomeBackend) -> None:
    d = understander.decide("it's dark in here", area="bedroom")
    assert acts(d) == [("light.turn_on", "light.bedroom", {})]
    apply(home, d)
    home.call_service("light.turn_on", "light.bedroom", {"brightness_pct": 40})
    d = understander.decide("it's too dark in here", area="bedroom")
    assert acts(d) == [("light.turn_on", "light.bedroom", {"brightness_pct": 65})]


def test_warm_and_cool_shift_a_lights_colour(understander: Understander, home: HomeBackend) -> None:
    lights_on(home)
    d = understander.decide("make the bedroom light warm", area=AREA)
    assert acts(d) == [("light.turn_on", "light.bedroom", {"rgb_color": [255, 234, 212]})]


def test_the_request_after_its_reason_decides_which_way(home: HomeBackend) -> None:
    from assistant.understand.local_llm import LexicalRanker, LocalLlmFallback
    from assistant.understand.result import Decision

    fallback = LocalLlmFallback(home, LexicalRanker())
    d = fallback.decide("it's too bright in here, can you turn a light off", AREA,
                        Decision("unhandled", "", reason="no template matched"))
    assert d is not None and {c["phrase"] for c in d.candidates} <= {"turn off the lights", "none"}


def test_redder_moves_the_colour_toward_red(understander: Understander, home: HomeBackend) -> None:
    home.call_service("light.turn_on", "light.bedroom", {"rgb_color": [0, 0, 255]})
    d = understander.decide("make the light in here redder", area="bedroom")
    assert acts(d) == [("light.turn_on", "light.bedroom", {"rgb_color": [128, 0, 128]})]


def test_whole_home_means_every_room(understander: Understander) -> None:
    d = understander.decide("turn on all the lights in the house", area=AREA)
    assert {a.entity_id for a in d.actions} == {e.entity_id for e in understander.home.entities()
                                                if e.domain == "light"}


def test_wake_name_left_in_the_transcript_is_ignored(understander: Understander) -> None:
    assert strip_address("Olly, turn on the kitchen light") == "turn on the kitchen light"
    assert strip_address("turn on the kitchen light, olly") == "turn on the kitchen light"
    assert strip_address("turn on the computer") == "turn on the computer"
    d = understander.decide("alexa turn on the kitchen light", area=AREA)
    assert acts(d) == [("light.turn_on", "light.kitchen", {})]


def test_colour_left_open_is_asked_and_the_answer_completes_it(understander: Understander) -> None:
    d = understander.decide("change the colour of the lights", area="bedroom")
    assert d.handled_by == "clarify" and d.expects_reply and not d.actions
    d = understander.decide("blue", area="bedroom")
    assert acts(d) == [("light.turn_on", "light.bedroom", {"rgb_color": [0, 0, 255]})]


# --- follow-ups ----------------------------------------------------------------------

def test_turn_it_off_refers_to_the_last_device(understander: Understander, home: HomeBackend) -> None:
    apply(home, understander.decide("turn on the bedroom light", area=AREA))
    d = understander.decide("turn it off", area=AREA)
    assert acts(d) == [("light.turn_off", "light.bedroom", {})]
    assert d.reason.startswith("follow-up")


def test_a_bit_brighter_steps_the_last_light(understander: Understander, home: HomeBackend) -> None:
    apply(home, understander.decide("set the kitchen light to 40%", area=AREA))
    d = understander.decide("a bit brighter", area=AREA)
    assert acts(d) == [("light.turn_on", "light.kitchen", {"brightness_pct": 50})]


def test_and_the_bedroom_too_repeats_the_request_there(understander: Understander,
                                                      home: HomeBackend) -> None:
    apply(home, understander.decide("turn on the lights in the kitchen", area=AREA))
    d = understander.decide("and the bedroom too", area=AREA)
    assert acts(d) == [("light.turn_on", "light.bedroom", {})]


def test_the_other_one_undoes_and_switches(understander: Understander, home: HomeBackend) -> None:
    apply(home, understander.decide("turn on the floor lamp", area=AREA))
    d = understander.decide("no, the other one", area=AREA)
    assert ("light.turn_off", "light.floor_lamp", {}) in acts(d)
    assert ("light.turn_on", "light.living_room_ceiling", {}) in acts(d)


def test_follow_ups_expire(home: HomeBackend, tmp_path: Path) -> None:
    now = [1000.0]
    memory = ConversationMemory(tmp_path / "c.sqlite", follow_up_s=20, clock=lambda: now[0])
    u = Understander(home, memory=memory)
    u.decide("turn on the bedroom light", area=AREA)
    now[0] += 25
    d = u.decide("turn it off", area=AREA)
    assert not any(a.entity_id == "light.bedroom" for a in d.actions)


# --- confirmation and memory across processes ---------------------------------------------

def test_sensitive_needs_a_yes_that_a_second_process_can_give(home: HomeBackend, tmp_path: Path) -> None:
    path = tmp_path / "conversation.sqlite"
    first = Understander(home, memory=ConversationMemory(path))
    d = first.decide("unlock the front door", area=AREA)
    assert d.handled_by == "confirm" and not d.actions and d.expects_reply
    second = Understander(home, memory=ConversationMemory(path))  # like a new `hearth ask`
    d = second.decide("yes", area=AREA)
    assert acts(d) == [("lock.unlock", "lock.front_door", {})]
    assert second.decide("yes", area=AREA).actions == ()  # used up


def test_a_late_yes_does_nothing(home: HomeBackend, tmp_path: Path) -> None:
    now = [50.0]
    u = Understander(home, memory=ConversationMemory(tmp_path / "c.sqlite", confirm_s=15,
                                                     clock=lambda: now[0]))
    u.decide("open the garage door", area=AREA)
    now[0] += 16
    assert u.decide("yes", area=AREA).actions == ()


def test_no_cancels_and_no_with_nothing_pending_is_fine(understander: Understander) -> None:
    understander.decide("unlock the front door", area=AREA)
    d = understander.decide("no", area=AREA)
    assert d.actions == () and "won't" in d.reply
    d = understander.decide("never mind", area=AREA)
    assert d.handled_by == "local" and d.actions == ()


def test_another_request_drops_the_pending_confirmation(understander: Understander) -> None:
    understander.decide("unlock the front door", area=AREA)
    understander.decide("turn on the kitchen light", area=AREA)
    assert understander.decide("yes", area=AREA).actions == ()


def test_corrupt_memory_file_is_not_fatal(home: HomeBackend, tmp_path: Path) -> None:
    path = tmp_path / "conversation.sqlite"
    path.write_bytes(b"this is not sqlite")
    u = Understander(home, memory=ConversationMemory(path))
    d = u.decide("turn on the kitchen light", area=AREA)
    assert acts(d) == [("light.turn_on", "light.kitchen", {})]


# --- safety without the model ---------------------------------------------------------

@pytest.mark.parametrize("text", [
    "unlock the front door",
    "open the garage door",
    "please unlock the front door right now, it is an emergency",
])
def test_sensitive_devices_are_never_acted_on_directly(understander: Understander, text: str) -> None:
    d = understander.decide(text, area=AREA)
    assert d.actions == ()
    if d.pending:
        assert d.handled_by == "confirm" and d.expects_reply


def test_follow_up_on_a_lock_still_needs_a_yes(understander: Understander) -> None:
    understander.decide("lock the front door", area=AREA)
    understander.decide("no", area=AREA)
    d = understander.decide("turn it off", area=AREA)  # "it" = the front door -> unlock
    assert d.actions == ()


def test_command_space_only_names_real_entities(home: HomeBackend) -> None:
    space = CommandSpace(home)
    found = space.retrieve("turn on the sauna light and unlock the bank vault")
    commands = space.commands(found, space.targets(found, AREA))
    ids = {e.entity_id for e in home.entities()}
    for c in commands:
        named = c.slots.get("name")
        for n in (named if isinstance(named, list) else [named] if named else []):
            assert n in ids
    assert all(c.intent is not None for c in commands)


@pytest.mark.parametrize(("text", "expected"), [
    ("i want the lights off", [("light.turn_off", "light.living_room_ceiling", {}),
                               ("light.turn_off", "light.floor_lamp", {})]),
    ("i need the lights on", [("light.turn_on", "light.living_room_ceiling", {}),
                              ("light.turn_on", "light.floor_lamp", {})]),
    ("turn the brightness down", [("light.turn_on", "light.living_room_ceiling", {"brightness_pct": 25}),
                                  ("light.turn_on", "light.floor_lamp", {"brightness_pct": 25})]),
    ("turn the kitchen brightness up", [("light.turn_on", "light.kitchen", {"brightness_pct": 75})]),
    ("i want it brighter", [("light.turn_on", "light.living_room_ceiling", {"brightness_pct": 75}),
                            ("light.turn_on", "light.floor_lamp", {"brightness_pct": 75})]),
    ("it's too dim in here", [("light.turn_on", "light.living_room_ceiling", {"brightness_pct": 75}),
                              ("light.turn_on", "light.floor_lamp", {"brightness_pct": 75})]),
    ("the room is too dark", [("light.turn_on", "light.living_room_ceiling", {"brightness_pct": 75}),
                              ("light.turn_on", "light.floor_lamp", {"brightness_pct": 75})]),
    ("the lights are way too bright", [("light.turn_on", "light.living_room_ceiling", {"brightness_pct": 25}),
                                       ("light.turn_on", "light.floor_lamp", {"brightness_pct": 25})]),
    ("set brightness higher", [("light.turn_on", "light.living_room_ceiling", {"brightness_pct": 75}),
                               ("light.turn_on", "light.floor_lamp", {"brightness_pct": 75})]),
])
def test_wishes_and_brightness_turned_up_or_down(understander: Understander, home: HomeBackend,
                                                 text: str,
                                                 expected: list[tuple[str, str, dict[str, Any]]]) -> None:
    lights_on(home, 50)
    d = understander.decide(text, area=AREA)
    assert d.handled_by == "local", d.reason
    assert acts(d) == expected


@pytest.mark.parametrize(("text", "unknown"), [
    ("turn off the closet light", True),
    ("switch off the light in the guest bedroom", True),
    ("dim the screen", True),
    ("make my phone brighter", True),
    ("change light colours from blue to white", False),
    ("hey siri change the current light settings", False),
    ("raise the lamp's light", False),
    ("turn off the lights in the master bedroom", False),
    ("turn on the lights in the garden", True),
    ("turn on the lights in the garage", False),
])
def test_words_before_a_device_or_place_name_another_only_when_they_are_names(
        home: HomeBackend, text: str, unknown: bool) -> None:
    """"closet light" names a device this home lacks; "change light", "current light" and
    "the lamp's light" do not (a verb, a word of state, a possessive)."""
    assert bool(CommandSpace(home).retrieve(text).unknown) == unknown


def test_the_requests_words_rule_out_commands(home: HomeBackend) -> None:
    from assistant.understand.cues import prune_by_cues

    space = CommandSpace(home)

    def kept(text: str) -> set[str]:
        found = space.retrieve(text)
        return {c.action for c in prune_by_cues(text, space.commands(found, space.targets(found, AREA)),
                                                found)}

    assert kept("turn the lights down to seven") == {"down"}  # a step, not on or off
    assert kept("shut down the lights") == {"off"}
    assert kept("shut the lights down") == {"off"}
    assert kept("increase the brightness it is hard to see down here") == {"up"}  # where, not which way
    assert kept("turn my lights to some random colour") == {"colour"}
    assert kept("pause the vacuum") == {"pause"}  # "the vacuum" is the device, not the verb
    assert kept("please turn on the robot vacuum") == {"start"}
    assert kept("lights to max") == {"pct100"}
    assert kept("make it green in here") == {"colour:green"}  # only lights have a colour
    assert kept("make my background green") == set()  # ... unless something else is named
    assert kept("go clean the kitchen") == {"start"}  # the place to clean, not the vacuum's room
    assert kept("disable the bedroom fan") == {"off"}


def test_only_requests_said_as_requests_count_as_explicit() -> None:
    from assistant.understand.cues import request_form

    for text in ("turn the lights off", "can you please dim the lights", "lights off please",
                 "the lights need to be off", "i want red lights", "please help me turn on the fan"):
        assert request_form(text), text
    for text in ("my mom turned off the lights", "i hate it when the lights go off",
                 "it's nice when the lights are on", "we left the lights on"):
        assert not request_form(text), text


def test_every_light_of_the_room_is_the_room_not_the_home(home: HomeBackend) -> None:
    found = CommandSpace(home).retrieve("every light of the room increase its intensity")
    assert not found.whole_home
    assert CommandSpace(home).retrieve("every light in the house").whole_home


def test_a_bare_device_name_is_not_a_command(understander: Understander) -> None:
    d = understander.decide("the floor lamp", area=AREA)
    assert d.actions == ()


def test_two_hearth_ask_processes_share_the_conversation(tmp_path: Path) -> None:
    """`hearth ask "unlock the front door"` then `hearth ask yes`: the second process acts."""
    import json

    from tests.conftest import run_hearth

    env = {"HEARTH_DATA_DIR": str(tmp_path / "data")}
    first = run_hearth("ask", "unlock the front door", "--json", env=env)
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    assert out["handled_by"] == "confirm" and out["actions"] == []
    second = run_hearth("ask", "yes", "--json", env=env)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["actions"] == [
        {"service": "lock.unlock", "entity_id": "lock.front_door", "data": {}}]
    third = run_hearth("ask", "yes", "--json", env=env)
    assert json.loads(third.stdout)["actions"] == []


def test_a_follow_up_does_not_carry_one_kinds_request_to_another(understander: Understander) -> None:
    """'... the kitchen light too' after a thermostat change is not a temperature for a light."""
    first = understander.decide("set the thermostat to 21 degrees", area=AREA)
    assert [a.service for a in first.actions] == ["climate.set_temperature"]
    then = understander.decide("the kitchen light too", area=AREA)
    assert not any(a.service.startswith("climate.") for a in (*then.actions, *then.pending)), then
