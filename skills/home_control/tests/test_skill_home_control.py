"""Home control through the skill runner: the core handlers, the domain guard, all-off."""

from __future__ import annotations

from pathlib import Path

from hearth_home_control import skill

from assistant.skills import Action
from assistant.skills.testing import SkillTester


def test_turn_on_a_light(tmp_path: Path) -> None:
    with SkillTester(skill, data_dir=tmp_path) as t:
        turn = t.ask("turn on the kitchen light")
        assert turn.intent == "HassTurnOn"
        assert turn.actions == [Action("light.turn_on", "light.kitchen")]
        assert t.state("light.kitchen") == "on"


def test_the_device_area_resolves_here(tmp_path: Path) -> None:
    with SkillTester(skill, data_dir=tmp_path) as t:
        turn = t.ask("turn on the lights", area="Bedroom")
        assert [a.entity_id for a in turn.actions] == ["light.bedroom"]


def test_sensitive_devices_still_ask_first(tmp_path: Path) -> None:
    with SkillTester(skill, data_dir=tmp_path) as t:
        turn = t.ask("unlock the front door")
        assert turn.handled_by == "confirm" and turn.actions == []
        assert turn.pending == [Action("lock.unlock", "lock.front_door")]
        assert t.ask("yes").actions == [Action("lock.unlock", "lock.front_door")]


def test_everything_off(tmp_path: Path) -> None:
    with SkillTester(skill, data_dir=tmp_path) as t:
        t.ask("turn on the kitchen light")
        t.ask("turn on the tv")
        turn = t.ask("good night")
        assert Action("light.turn_off", "light.kitchen") in turn.actions
        assert Action("switch.turn_off", "switch.tv") in turn.actions
        assert turn.reply.startswith("Good night.")
        assert t.state("light.kitchen") == "off"
        assert t.ask("turn everything off").reply == "Everything is already off."
