"""The skills' sentences as a word graph: the sentence nearest a transcript."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from assistant.stt.grammar import PhraseGraph, words_of

COFFEE = Path(__file__).resolve().parents[1] / "skills" / "coffee" / "hearth_coffee" / "sentences" / "en.yaml"


@pytest.fixture(scope="module")
def coffee() -> PhraseGraph:
    return PhraseGraph([yaml.safe_load(COFFEE.read_text(encoding="utf-8"))])


def test_a_sentence_of_the_grammar_is_its_own_nearest(coffee: PhraseGraph) -> None:
    repair = coffee.nearest("Can I get a 16-ounce double shot latte with some oat milk?", max_cost=1.0)
    assert repair is not None and repair.cost == 0.0
    assert repair.text == "can i get a 16 ounce double shot latte with some oat milk"


@pytest.mark.parametrize(("heard", "meant"), [
    ("Roo a small latte.", "brew a small latte"),  # a word misheard
    ("Get me a large diced mocha with a lot of skin milk.",
     "get me a large iced mocha with a lot of skim milk"),
    ("I'd like a medium double shot latte, sweet sugar.", "i'd like a medium double shot latte with sugar"),
])
def test_near_misses_find_the_sentence(coffee: PhraseGraph, heard: str, meant: str) -> None:
    repair = coffee.nearest(heard, max_cost=0.25 * len(words_of(heard)))
    assert repair is not None and repair.text == meant


def test_other_speech_is_too_far(coffee: PhraseGraph) -> None:
    for heard in ("turn on the kitchen light", "what's the weather like today",
                  "set a timer for five minutes"):
        assert coffee.nearest(heard, max_cost=0.25 * len(words_of(heard))) is None, heard


def test_sentences_whose_rules_live_elsewhere_are_left_out() -> None:
    graph = PhraseGraph([{"language": "en", "intents": {"X": {"data": [{"sentences": ["<missing> now"]}]}}},
                         yaml.safe_load(COFFEE.read_text(encoding="utf-8"))])
    assert graph.nearest("brew a latte", max_cost=0.0) is not None
    assert graph.nearest("now", max_cost=0.5) is None
