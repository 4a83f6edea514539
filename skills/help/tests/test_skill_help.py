"""Help lists what the loaded skills say they can do."""

from __future__ import annotations

from pathlib import Path

from hearth_help import skill

from assistant.skills import Intent, Permissions, Skill, SkillContext
from assistant.skills.testing import SkillTester

greeter: Skill = Skill("greeter", "Greets people.", sentences=[{"language": "en", "intents": {
    "HearthGreet": {"data": [{"sentences": ["greet (the|my) guests"]}]}}}], permissions=Permissions())


@greeter.intent("HearthGreet", examples=["greet the guests"])
def greet(intent: Intent, ctx: SkillContext) -> str:  # type: ignore[type-arg]
    return "Welcome!"


def test_lists_an_example_from_every_skill(tmp_path: Path) -> None:
    with SkillTester(skill, greeter, data_dir=tmp_path) as t:
        assert t.ask("what can you do").reply == "You can say things like 'greet the guests'."
        assert t.ask("what can the greeter skill do").reply == "The greeter skill. Try 'greet the guests'."
        assert "don't have a weather skill" in t.ask("what can the weather skill do").reply


def test_honest_small_talk(tmp_path: Path) -> None:
    with SkillTester(skill, data_dir=tmp_path) as t:
        assert "audio never leaves" in t.ask("are you always listening").reply
        assert t.ask("hello").reply == "Hello! How can I help?"
