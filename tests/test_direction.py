"""Never the opposite action: direction traps in three homes built here.

Three ways in: (1) what the words say (negation, particles, numbers); (2) a proposer that
always proposes the opposite (or a wrong value), held by the last check; (3) the real
route — templates, and with ``-m real`` the local LLM — on the same traps. Whatever
proposes, no inverted action may come out: zero allowed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from direction_homes import HOMES, TRAPS, VALUES, build_home

from assistant.home.base import HomeBackend
from assistant.understand.context import ConversationMemory
from assistant.understand.direction import DirectionCheck
from assistant.understand.registry import load
from assistant.understand.result import Action, Decision
from assistant.understand.router import Understander
from assistant.understand.said import Said

LEVEL = {"light": ("brightness_pct", "brightness_pct"), "fan": ("percentage", "percentage"),
         "cover": ("position", "current_position"), "media_player": ("volume_level", "volume_level"),
         "climate": ("temperature", "temperature")}
"""The test's own table (not the registry's): which data field rises with which state attribute."""


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, HomeBackend]]:
    tmp = tmp_path_factory.mktemp("direction-homes")
    built = {name: build_home(name, tmp) for name in HOMES}
    yield built  # type: ignore[misc]
    for home in built.values():
        home.close()


def _level(home: HomeBackend, action: Action) -> int:
    """+1 if the action raises its level, -1 if it lowers it, 0 if it sets none."""
    domain = action.entity_id.split(".")[0]
    if domain not in LEVEL or LEVEL[domain][0] not in action.data:
        return 0
    state = home.get_state(action.entity_id)
    current = 0.0 if state.state == "off" and domain in ("light", "fan") else \
        float(state.attributes.get(LEVEL[domain][1], 0))
    new = float(action.data[LEVEL[domain][0]])
    return (new > current) - (new < current)


def inverted(home: HomeBackend, action: Action, entity_id: str, forbidden: set[str]) -> bool:
    if action.entity_id != entity_id:
        return False
    service = action.service.split(".", 1)[1]
    for f in forbidden:
        if f.endswith(("+", "-")) and f[:-1] == service:  # volume_mute+ / volume_mute-
            if bool(action.data.get("is_volume_muted")) == (f[-1] == "+"):
                return True
        elif "+" in f:
            name, way = f.split("+")
            if name == service and _level(home, action) == (1 if way == "up" else -1):
                return True
        elif f == service:
            return True
    return False


def _opposite(home: HomeBackend, entity_id: str, f: str) -> Action:
    """The inverted action a careless proposer would make."""
    domain = entity_id.split(".")[0]
    if f.endswith(("+", "-")):
        return Action(f"{domain}.{f[:-1]}", entity_id, {"is_volume_muted": f.endswith("+")})
    if "+" in f:
        name, way = f.split("+")
        key, attr = LEVEL[domain]
        state = home.get_state(entity_id)
        current = float(state.attributes.get(attr, 0))
        step = {"volume_level": 0.2, "temperature": 2.0}.get(key, 25.0)
        value = current + step if way == "up" else current - step
        return Action(f"{domain}.{name}", entity_id, {key: value})
    return Action(f"{domain}.{f}", entity_id)


# --- (1) what the words say -------------------------------------------------------------

@pytest.mark.parametrize(("text", "affirmed", "negated"), [
    ("kitchen light on", {"on"}, set()),
    ("turn off the light on the porch", {"off"}, set()),
    ("don't turn it off", set(), {"off"}),
    ("not on, off", {"off"}, {"on"}),
    ("it's too dim in here", {"up"}, set()),
    ("turn the music back on", {"on"}, set()),
    ("stop the vacuum", {"stop"}, set()),
])
def test_the_words_say_a_direction(text: str, affirmed: set[str], negated: set[str]) -> None:
    domain = "vacuum" if "vacuum" in text else "light"
    said = Said(text, load().vocab, load().opposites)
    assert said.affirmed(domain) == affirmed
    assert said.negated(domain) == negated


@pytest.mark.parametrize(("text", "number", "unit"), [
    ("set the thermostat to eighteen degrees", 18, "degrees"),
    ("twenty-one degrees", 21, "degrees"),
    ("eighteen and a half degrees", 18.5, "degrees"),
    ("full brightness", 100, "share"),
    ("volume at half", 50, "share"),
    ("to 40 percent", 40, "percent"),
    ("set it to twenty two", 22, "bare"),
])
def test_the_words_say_a_value(text: str, number: float, unit: str) -> None:
    said = Said(text, load().vocab)
    assert (said.values[-1].number, said.values[-1].unit) == (number, unit)


def test_half_an_hour_is_not_a_level() -> None:
    assert Said("turn on the fan for half an hour", load().vocab).values == ()


# --- (2) a proposer that always gets it backwards ------------------------------------

@pytest.mark.parametrize(("home_name", "room", "text", "entity_id", "forbidden"), TRAPS,
                         ids=[t[2] for t in TRAPS])
def test_an_inverted_proposal_is_never_executed(homes: dict[str, HomeBackend], home_name: str,
                                                room: str, text: str, entity_id: str,
                                                forbidden: set[str]) -> None:
    home = homes[home_name]
    check = DirectionCheck(home)
    for f in forbidden:
        wrong = _opposite(home, entity_id, f)
        proposed = Decision("local_llm", "Done.", actions=(wrong,))
        decided = check.check(proposed, text)
        out = [*decided.actions, *decided.pending]
        assert not any(inverted(home, a, entity_id, forbidden) for a in out), (text, f, decided)
        assert out or decided.handled_by == "clarify", decided
        assert not any(a.entity_id.startswith("lock.") for a in decided.actions), "a lock without a yes"


@pytest.mark.parametrize(("home_name", "room", "text", "entity_id", "key", "value"), VALUES,
                         ids=[v[2] for v in VALUES])
def test_a_wrong_value_becomes_the_value_said(homes: dict[str, HomeBackend], home_name: str, room: str,
                                              text: str, entity_id: str, key: str, value: float) -> None:
    home = homes[home_name]
    domain = entity_id.split(".")[0]
    service = {"light": "turn_on", "climate": "set_temperature", "media_player": "volume_set",
               "cover": "set_cover_position", "fan": "set_percentage"}[domain]
    wrong = {"volume_level": 0.75, "temperature": 19.0}.get(key, 25)
    decided = DirectionCheck(home).check(
        Decision("local_llm", "Done.", actions=(Action(f"{domain}.{service}", entity_id, {key: wrong}),)),
        text)
    assert [a.data.get(key) for a in decided.actions] == [value], decided


def test_the_reply_says_what_is_done_after_a_correction(homes: dict[str, HomeBackend]) -> None:
    home = homes["flat"]
    decided = DirectionCheck(home).check(
        Decision("local_llm", "Turned off the Kitchen Light.", intent="HassTurnOff",
                 actions=(Action("light.turn_off", "light.kitchen_light"),)), "kitchen light on")
    assert decided.actions == (Action("light.turn_on", "light.kitchen_light"),)
    assert decided.reply == "Turned on the Kitchen Light."
    assert decided.intent == "HassTurnOn" and "direction check" in decided.reason


def test_a_proposal_for_another_kind_of_thing_is_asked_about(homes: dict[str, HomeBackend]) -> None:
    home = homes["flat"]
    decided = DirectionCheck(home).check(
        Decision("local_llm", "Do you really want me to lock the Back Door?",
                 pending=(Action("lock.lock", "lock.back_door"),)),
        "Mute the media player in the art studio")
    assert decided.handled_by == "clarify" and not decided.pending and not decided.actions


def test_a_sensitive_action_waits_for_a_yes_whoever_proposed_it(homes: dict[str, HomeBackend]) -> None:
    decided = DirectionCheck(homes["flat"]).check(
        Decision("cloud", "Opened.", actions=(Action("cover.open_cover", "cover.garage_door"),)),
        "open the garage")
    assert decided.handled_by == "confirm" and not decided.actions
    assert decided.pending == (Action("cover.open_cover", "cover.garage_door"),)


def test_a_question_changes_nothing(homes: dict[str, HomeBackend]) -> None:
    decided = DirectionCheck(homes["flat"]).check(
        Decision("local_llm", "Locked.", pending=(Action("lock.lock", "lock.back_door"),)),
        "is the back door locked")
    assert not decided.actions and not decided.pending


# --- (3) the real route -----------------------------------------------------------------

def _route(homes: dict[str, HomeBackend], llm: object | None,
           tmp: Path) -> dict[str, Understander]:
    out = {}
    for name, home in homes.items():
        u = Understander(home, memory=ConversationMemory(None))
        if llm is not None:
            from assistant.config import load_settings
            from assistant.understand.local_llm import LocalLlmFallback

            settings = load_settings(data_dir=str(tmp))
            u.fallbacks = [LocalLlmFallback.from_settings(settings, home, templates=u.templates,
                                                          llm=llm)]  # type: ignore[arg-type]
        out[name] = u
    return out


def _no_inversions(routes: dict[str, Understander], homes: dict[str, HomeBackend]) -> list[Any]:
    bad = []
    for home_name, room, text, entity_id, forbidden in TRAPS:
        u = routes[home_name]
        u.forget()
        d = u.decide(text, area=room)
        if any(inverted(homes[home_name], a, entity_id, forbidden) for a in (*d.actions, *d.pending)):
            bad.append((text, d.handled_by, d.actions, d.pending, d.reason))
    return bad


def test_no_inversions_through_the_templates(homes: dict[str, HomeBackend], tmp_path: Path) -> None:
    assert _no_inversions(_route(homes, None, tmp_path), homes) == []


@pytest.mark.real
def test_no_inversions_through_the_local_llm(homes: dict[str, HomeBackend], tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    from assistant.llm.local import LocalLlm

    llm = LocalLlm(threads=2)
    try:
        assert _no_inversions(_route(homes, llm, tmp_path), homes) == []
    finally:
        llm.close()


def test_down_is_a_step_not_the_bottom(homes: dict[str, HomeBackend]) -> None:
    """'slow the fan down' proposed as 0 % (off): a step down instead (the fan is at 50 %)."""
    decided = DirectionCheck(homes["cabin"]).check(
        Decision("local_llm", "Set the Ceiling Fan to 0%.",
                 actions=(Action("fan.set_percentage", "fan.den_fan", {"percentage": 0}),)),
        "slow the ceiling fan down")
    assert decided.actions == (Action("fan.set_percentage", "fan.den_fan", {"percentage": 25}),)


def test_mute_is_the_mute_service(homes: dict[str, HomeBackend]) -> None:
    decided = DirectionCheck(homes["cabin"]).check(
        Decision("local", "Turned the Stereo down.",
                 actions=(Action("media_player.volume_set", "media_player.den_stereo",
                                 {"volume_level": 0.3}),)),
        "mute the stereo")
    assert decided.actions == (Action("media_player.volume_mute", "media_player.den_stereo",
                                      {"is_volume_muted": True}),)
