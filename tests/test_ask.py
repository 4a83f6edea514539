"""The local command set of the voice-loop issue, through the text path and `hearth ask`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from assistant.config import load_settings
from assistant.runtime import Runtime
from tests.conftest import run_hearth


@pytest.fixture()
def assistant() -> Iterator[Runtime]:
    with Runtime(load_settings()) as a:
        yield a


def state(a: Runtime, entity_id: str) -> tuple[str, dict[str, Any]]:
    st = a.home.get_state(entity_id)
    return st.state, dict(st.attributes)


@pytest.mark.parametrize(
    ("text", "entity_id", "expect_state", "expect_attrs"),
    [
        ("turn on the kitchen light", "light.kitchen", "on", {}),
        ("switch on the coffee maker", "switch.coffee_maker", "on", {}),
        ("turn on the bedroom fan", "fan.bedroom", "on", {}),
        ("set the kitchen light to 30%", "light.kitchen", "on", {"brightness_pct": 30}),
        ("turn the bedroom light red", "light.bedroom", "on", {"rgb_color": [255, 0, 0]}),
        ("set the thermostat to 22 degrees", "climate.thermostat", "heat", {"temperature": 22.0}),
        ("open the blinds", "cover.living_room_blinds", "open", {"current_position": 100}),
        ("set the blinds to 40%", "cover.living_room_blinds", "open", {"current_position": 40}),
        ("start the vacuum", "vacuum.robot", "cleaning", {}),
        ("set the volume to 30%", "media_player.speaker", "paused", {"volume_level": 0.3}),
    ],
)
def test_commands_change_the_home(assistant: Runtime, text: str, entity_id: str,
                                  expect_state: str, expect_attrs: dict[str, Any]) -> None:
    result = assistant.ask(text)
    assert result.decision.handled_by == "local", result.reply
    assert any(a.entity_id == entity_id for a in result.applied)
    st, attrs = state(assistant, entity_id)
    assert st == expect_state
    for k, v in expect_attrs.items():
        assert attrs[k] == v
    assert result.reply and not result.errors


def test_off_after_on(assistant: Runtime) -> None:
    assistant.ask("turn on the tv")
    assert state(assistant, "switch.tv")[0] == "on"
    assistant.ask("turn off the tv")
    assert state(assistant, "switch.tv")[0] == "off"


def test_close_cover_vacuum_home_and_media(assistant: Runtime) -> None:
    assistant.ask("open the blinds")
    assistant.ask("close the blinds")
    assert state(assistant, "cover.living_room_blinds")[0] == "closed"
    assistant.ask("start the vacuum")
    assistant.ask("send the vacuum home")
    assert state(assistant, "vacuum.robot")[0] == "returning"
    assistant.ask("resume the music")
    assert state(assistant, "media_player.speaker")[0] == "playing"
    assistant.ask("pause the music")
    assert state(assistant, "media_player.speaker")[0] == "paused"


def test_the_device_area_resolves_turn_on_the_light(assistant: Runtime) -> None:
    result = assistant.ask("turn on the light")
    assert {a.entity_id for a in result.applied} == {"light.living_room_ceiling", "light.floor_lamp"}
    result = assistant.ask("turn on the light", area="Kitchen")
    assert {a.entity_id for a in result.applied} == {"light.kitchen"}


def test_living_room_light_means_the_ceiling_light(assistant: Runtime) -> None:
    result = assistant.ask("turn on the living room light")
    assert [a.entity_id for a in result.applied] == ["light.living_room_ceiling"]


def test_state_questions(assistant: Runtime) -> None:
    assert assistant.ask("is the kitchen light on").reply.startswith("No")
    assistant.ask("turn on the kitchen light")
    assert assistant.ask("is the kitchen light on").reply.startswith("Yes")
    reply = assistant.ask("what's the temperature outside").reply
    assert "8.5" in reply


@pytest.mark.parametrize("text", ["unlock the front door", "open the garage door"])
def test_sensitive_entities_need_a_spoken_yes(assistant: Runtime, text: str) -> None:
    entity = "lock.front_door" if "lock" in text else "cover.garage_door"
    before = state(assistant, entity)[0]
    asked = assistant.ask(text)
    assert asked.decision.handled_by == "confirm" and asked.decision.expects_reply
    assert not asked.applied and state(assistant, entity)[0] == before
    done = assistant.ask("yes")
    assert [a.entity_id for a in done.applied] == [entity]
    assert state(assistant, entity)[0] != before


def test_no_means_no(assistant: Runtime) -> None:
    assistant.ask("unlock the front door")
    assert not assistant.ask("no").applied
    assert not assistant.ask("yes").applied
    assert state(assistant, "lock.front_door")[0] == "locked"


def test_dry_run_decides_without_applying(assistant: Runtime) -> None:
    result = assistant.ask("turn on the kitchen light", dry_run=True)
    assert result.as_json()["actions"][0]["entity_id"] == "light.kitchen"
    assert state(assistant, "light.kitchen")[0] == "off"


def test_cli_ask_json_contract() -> None:
    proc = run_hearth("ask", "turn on the kitchen light", "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    for key in ("text", "handled_by", "intent", "slots", "actions", "reply", "left_device", "timings_ms"):
        assert key in out
    assert out["handled_by"] == "local"
    assert out["actions"] == [{"service": "light.turn_on", "entity_id": "light.kitchen", "data": {}}]
    assert out["left_device"] is False


def test_cli_ask_area_by_name_or_id() -> None:
    for area in ("Kitchen", "kitchen", "KITCHEN"):
        proc = run_hearth("ask", "turn on the light", "--area", area, "--dry-run", "--json")
        out = json.loads(proc.stdout)
        assert [a["entity_id"] for a in out["actions"]] == ["light.kitchen"]
    proc = run_hearth("ask", "turn on the light", "--area", "attic", "--json")
    assert proc.returncode != 0 and "no area 'attic'" in proc.stderr.decode()


def test_cli_batch_from_stdin() -> None:
    second = json.dumps({"text": "turn on the light", "area": "Bedroom"})
    lines = "turn on the kitchen light\n" + second + "\n"
    proc = run_hearth("ask", "--batch", "-", "--json", "--dry-run", input=lines.encode())
    assert proc.returncode == 0, proc.stderr
    outs = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [o["actions"][0]["entity_id"] for o in outs] == ["light.kitchen", "light.bedroom"]


def test_cli_ask_applies_and_persists() -> None:
    assert run_hearth("ask", "turn on the hallway light").returncode == 0
    proc = run_hearth("home", "--entity", "light.hallway", "--json")
    assert json.loads(proc.stdout)["state"] == "on"
