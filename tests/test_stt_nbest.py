"""Whisper's retry reads an n-best list against the sentences in play (real tiny.en, a
real recorded coffee order from the benchmark's development half)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assistant.audio.files import read_audio
from assistant.skills.testing import SkillTester
from assistant.stt.grammar import PhraseGraph
from assistant.stt.whisper import WhisperStt, bias_prompt

# "I want an eight ounce triple shot coffee with some sugar and a little bit of skim milk"
# (development half: even-numbered in sorted order)
CLIP = "2f71d6c9-6592-4407-aab7-8ddbb55bec62.wav"


@pytest.fixture(scope="module")
def tester(tmp_path_factory: pytest.TempPathFactory) -> SkillTester:
    return SkillTester(builtin=True, data_dir=tmp_path_factory.mktemp("nbest"))


def _stt(tester: SkillTester, hypotheses: int, accepts: object) -> WhisperStt:
    settings = tester.settings.stt.model_copy(update={"retry_hypotheses": hypotheses})
    words = [n for e in tester.home.entities() for n in e.names] + tester.registry.stt_words()
    return WhisperStt(settings, prompt=bias_prompt(words), retry_prompt=bias_prompt(words),
                      accepts=accepts)  # type: ignore[arg-type]


@pytest.mark.real
@pytest.mark.evaldata
def test_the_first_hypothesis_the_grammar_accepts_wins(eval_data: Path, tester: SkillTester) -> None:
    audio = read_audio(eval_data / "commands" / "coffee_orders" / CLIP)
    label = json.loads((eval_data / "commands" / "coffee_orders" / "labels.json").read_text())[CLIP]

    def accepts(text: str) -> bool:
        return tester.understander.is_complete_command(text, area=None)

    text = _stt(tester, 5, accepts).transcribe_retry(audio)
    assert accepts(text), text
    turn = tester.ask(text, dry_run=True)
    assert turn.intent == "HearthBrew", text
    assert turn.slots == {"drink": label["slots"]["coffeeDrink"], "size": "8 oz", "shots": 3,
                          "milk": "a little bit of skim milk", "sugar": "some sugar"}, text


@pytest.mark.real
@pytest.mark.evaldata
def test_hypotheses_are_read_in_score_order_and_the_best_stays_when_none_fits(
        eval_data: Path, tester: SkillTester) -> None:
    audio = read_audio(eval_data / "commands" / "coffee_orders" / CLIP)
    seen: list[str] = []

    def second(text: str) -> bool:
        seen.append(text)
        return len(seen) == 2

    assert _stt(tester, 5, second).transcribe_retry(audio) == seen[1] != seen[0]
    seen.clear()

    def none(text: str) -> bool:
        seen.append(text)
        return False

    best = _stt(tester, 5, none).transcribe_retry(audio)
    assert len(seen) >= 2 and best == seen[0]
    assert _stt(tester, 1, lambda _t: False).transcribe_retry(audio) != ""


def _with_phrases(tester: SkillTester) -> WhisperStt:
    stt = _stt(tester, 5, lambda text: tester.understander.is_complete_command(text, area=None))
    stt.phrases = PhraseGraph(tester.registry.sentences())
    return stt


@pytest.mark.real
def test_other_speech_is_not_repaired_into_an_order(tester: SkillTester, say: Any) -> None:
    """Biasing toward the skills' sentences must not turn other requests into coffee."""
    stt = _with_phrases(tester)
    for said in ("play solitaire", "delete meeting", "what's on my work schedule", "put the radio on"):
        text = stt.transcribe_retry(say(said))
        assert tester.ask(text, dry_run=True).intent != "HearthBrew", (said, text)


@pytest.mark.real
def test_a_near_miss_is_repaired_when_whisper_agrees(tester: SkillTester, espeak: Any) -> None:
    """espeak-ng's voice makes tiny.en mishear orders (as real kitchens do); the nearest
    sentence of the grammar wins when the audio supports it."""
    stt = _with_phrases(tester)
    audio = espeak("make me a double shot espresso with brown sugar", voice="en-029", speed=150)
    assert not tester.understander.is_complete_command(stt.transcribe(audio), area=None)  # "shotest dress"
    text = stt.transcribe_retry(audio)
    slots = tester.ask(text, dry_run=True).slots
    assert slots == {"drink": "espresso", "shots": 2, "sugar": "brown sugar"}, text


@pytest.mark.real
@pytest.mark.evaldata
def test_a_second_look_at_the_same_audio_reuses_the_encoders_output(eval_data: Path,
                                                                     tester: SkillTester) -> None:
    audio = read_audio(eval_data / "commands" / "coffee_orders" / CLIP)
    stt = _stt(tester, 1, None)
    alone = stt.transcribe_retry(audio)
    stt._encoded.clear()
    encode, calls = stt._model.encode, []
    stt._model.encode = lambda features: calls.append(1) or encode(features)  # type: ignore[method-assign]
    stt.transcribe(audio)
    assert stt.transcribe_retry(audio) == alone  # the same words as with its own encoding
    assert len(calls) == 1
    stt.transcribe(audio[:-1600])  # other audio is encoded anew
    assert len(calls) == 2
