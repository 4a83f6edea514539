"""The coffee skill through the real template path, router and runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from hearth_coffee import SENTENCES, skill, spoken_values

from assistant.skills import Action
from assistant.skills.testing import FakeClock, SkillTester

BREW = [Action("switch.turn_on", "switch.coffee_maker")]


def test_a_full_order_fills_every_slot(tmp_path: Path) -> None:
    with SkillTester(skill, data_dir=tmp_path) as t:
        turn = t.ask("can I get a 16-ounce double shot dark roast latte with a little bit of skim milk "
                     "and brown sugar")
        assert turn.intent == "HearthBrew"
        assert turn.slots == {"drink": "latte", "size": "16 oz", "roast": "dark", "shots": 2,
                              "milk": "a little bit of skim milk", "sugar": "brown sugar"}
        assert turn.actions == BREW
        assert t.state("switch.coffee_maker") == "on"
        assert "latte" in turn.reply


def test_modifiers_in_any_order_and_sugar_before_milk(tmp_path: Path) -> None:
    with SkillTester(skill, data_dir=tmp_path) as t:
        turn = t.ask("make me a triple shot small medium roast mocha with sweetener and some oat milk")
        assert turn.slots == {"drink": "mocha", "size": "small", "roast": "medium", "shots": 3,
                              "milk": "some oat milk", "sugar": "sweetener"}


def test_plain_orders_name_their_drink(tmp_path: Path) -> None:
    with SkillTester(skill, data_dir=tmp_path) as t:
        assert t.ask("can I have a latte").slots == {"drink": "latte"}
        assert t.ask("make coffee").slots == {"drink": "coffee"}


def test_the_usual_repeats_the_last_order(tmp_path: Path) -> None:
    with SkillTester(skill, data_dir=tmp_path) as t:
        assert t.ask("make me the usual").actions == []
        t.ask("a large iced coffee with cream")
    with SkillTester(skill, data_dir=tmp_path) as t:  # remembered across restarts
        turn = t.ask("make me the usual")
        assert turn.slots == {"drink": "iced coffee", "size": "large", "milk": "cream"}
        assert turn.actions == BREW


def test_ready_reminder_is_spoken_unprompted(tmp_path: Path) -> None:
    clock = FakeClock()
    with SkillTester(skill, data_dir=tmp_path, clock=clock,
                     settings={"coffee": {"ready_after_s": 90}}) as t:
        t.ask("an espresso please")
        assert t.advance(60) == []
        assert t.advance(31) == ["Your espresso is ready."]



FRAMES = {"coffee_drink": "can I get a large {}", "coffee_size": "can I get a {} latte",
          "coffee_roast": "can I get a {} latte", "coffee_shots": "can I get a {} latte",
          "coffee_milk_kind": "can I get a latte with {}", "coffee_sugar_kind": "can I get a latte with {}"}


@pytest.mark.parametrize("slot_list", sorted(FRAMES))
def test_whisper_is_told_the_words_as_the_grammar_says_them(slot_list: str, tmp_path: Path) -> None:
    """The words for Whisper's prompt come from the sentence lists, each said as an order takes it."""
    words = spoken_values(SENTENCES, (slot_list,))
    assert words and set(words) <= set(skill.stt_words)
    with SkillTester(skill, data_dir=tmp_path) as t:
        for word in words:
            order = FRAMES[slot_list].format(word)
            assert t.ask(order, dry_run=True).intent == "HearthBrew", order
