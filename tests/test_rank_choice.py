"""The multiple-choice ranker with the real SmolLM2-135M: the options and the examples'
format, scores for every option in the caller's order, and the setting that selects it."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import load_settings
from assistant.home import open_home
from assistant.understand.candidates import NOT_A_COMMAND, Command
from assistant.understand.shots import Shot

pytestmark = pytest.mark.real


SHOTS = [Shot("switch the hall lamp off", "turn off the Hall Lamp"),
         Shot("get the porch fan going", "turn on the Porch Fan"),
         Shot("what is the capital of france", NOT_A_COMMAND.phrase),
         Shot("open the den shutter", "open the Den Shutter")]


def test_examples_show_lettered_options_with_none_last_and_the_right_letter(llm: object) -> None:
    from assistant.understand.rank_choice import ChoiceRanker

    ranker = ChoiceRanker(llm, SHOTS, distractors=2)  # type: ignore[arg-type]
    turns = ranker._prefix.split("<|im_start|>user\n")[1:]
    assert len(turns) == len(SHOTS)
    for shot, turn in zip(SHOTS, turns, strict=True):
        asked, answer = turn.split("<|im_end|>\n<|im_start|>assistant\n")
        lines = asked.split("\n")
        assert lines[0] == shot.user and lines[-1].endswith(f". {NOT_A_COMMAND.phrase}")
        chosen = answer.removesuffix("<|im_end|>\n")
        assert f"{chosen}. {shot.answer}" in lines[1:]


def test_every_option_is_scored_in_the_callers_order(llm: object) -> None:
    from assistant.understand.rank_choice import ChoiceRanker

    ranker = ChoiceRanker(llm, SHOTS)  # type: ignore[arg-type]
    commands = [NOT_A_COMMAND, Command("turn on the Kitchen Light", "HassTurnOn"),
                Command("turn off the Kitchen Light", "HassTurnOff")]
    scores = ranker.scores("kitchen light off please", commands)
    assert len(scores) == 3 and all(s < 0 for s in scores)
    assert scores[2] > scores[1]  # it reads the request, not only the letters
    with pytest.raises(ValueError, match="at most"):
        ranker.scores("x", [Command(f"turn on lamp {i}", "HassTurnOn") for i in range(27)])


def test_the_setting_selects_it(llm: object, tmp_path: Path) -> None:
    from assistant.understand.local_llm import LocalLlmFallback
    from assistant.understand.rank_choice import ChoiceRanker
    from assistant.understand.ranking import HybridRanker

    settings = load_settings(data_dir=str(tmp_path))
    settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"ranker": "choice"})})
    home = open_home(settings)
    try:
        fallback = LocalLlmFallback.from_settings(settings, home, llm=llm)  # type: ignore[arg-type]
        assert isinstance(fallback.ranker, HybridRanker)
        assert isinstance(fallback.ranker.model, ChoiceRanker)
    finally:
        home.close()
