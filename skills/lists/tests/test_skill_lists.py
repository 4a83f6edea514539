"""Shopping and to-do lists: add, check off, read, clear, and survive a restart."""

from __future__ import annotations

from pathlib import Path

from hearth_lists import skill

from assistant.skills.testing import SkillTester


def test_add_read_and_check_off(tmp_path: Path) -> None:
    with SkillTester(skill, data_dir=tmp_path) as t:
        assert t.ask("add milk and eggs to my shopping list").reply == \
            "Added milk and eggs to your shopping list."
        assert t.ask("add some milk to my shopping list").reply == "Milk is already on it."
        assert t.ask("we're out of coffee beans").reply == "Added coffee beans to your shopping list."
        assert t.ask("add call the plumber to my to do list").reply == \
            "Added call the plumber to your to-do list."
        assert t.ask("check eggs off my shopping list").reply == "Checked eggs off your shopping list."
        assert t.ask("what's on my shopping list").reply == \
            "Your shopping list has 2 items: milk and coffee beans."
        assert t.ask("clear my to do list").reply == "Cleared your to-do list (1 item)."


def test_lists_survive_a_restart(tmp_path: Path) -> None:
    with SkillTester(skill, data_dir=tmp_path) as t:
        t.ask("add bread to the shopping list")
    with SkillTester(skill, data_dir=tmp_path) as t:
        assert t.ask("what's on my list").reply == \
            "Your shopping list has 1 item: bread. Your to-do list is empty."
