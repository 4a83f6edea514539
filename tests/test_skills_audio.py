"""A skill driven with real speech: SkillTester.ask_wav runs the bundled Whisper
(prompted with the skills' stt_words), then the template path."""

from __future__ import annotations

import json
from pathlib import Path

import hearth_coffee as coffee  # installed beside Hearth (scripts/setup.sh)
import pytest

from assistant.skills.testing import SkillTester


@pytest.mark.real
@pytest.mark.evaldata
def test_a_recorded_coffee_order(eval_data: Path, tmp_path: Path) -> None:
    folder = eval_data / "commands" / "coffee_orders"
    clip = "0b3c4445-7e32-4372-a2a2-3b8d903dbf80.wav"
    label = json.loads((folder / "labels.json").read_text())[clip]
    assert label["slots"]["coffeeDrink"] == "iced mocha"  # "May I have a 16-ounce double shot iced mocha ..."
    with SkillTester(coffee.skill, data_dir=tmp_path) as t:  # type: ignore[attr-defined]
        assert "americano" in (t.stt_prompts()[1] or "")  # the retry hears the skill's words
        turn = t.ask_wav(folder / clip)
        assert turn.intent == "HearthBrew"
        assert turn.slots == {"drink": "iced mocha", "size": "16 oz", "shots": 2, "sugar": "brown sugar"}
        assert t.state("switch.coffee_maker") == "on"
