"""The skills' sentences as a word graph: the sentence nearest a transcript."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from assistant.stt.grammar import PhraseGraph, settle, words_of

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


def test_a_sentence_knows_where_its_slots_are_and_what_else_could_fill_them(coffee: PhraseGraph) -> None:
    repair = coffee.nearest("Brew a dark roast latte with oat milk.", max_cost=0.0)
    assert repair is not None
    spans = {s.said.slot: " ".join(repair.words[s.start:s.end]) for s in repair.spans}
    assert spans == {"roast": "dark roast", "drink": "latte", "milk": "oat milk"}
    rivals = {r.text for r in repair.rivals()}
    assert "brew a light roast latte with oat milk" in rivals  # one slot swapped at a time
    assert "brew a dark roast mocha with oat milk" in rivals
    assert "brew a light roast mocha with oat milk" not in rivals
    assert all(r.value != "dark" for r in repair.rivals() if r.span.said.slot == "roast")
    assert len({(r.span, r.value) for r in repair.rivals()}) == len(repair.rivals())  # each value once


def test_the_likeliest_value_of_each_slot_wins_and_a_thin_lead_is_a_doubt(coffee: PhraseGraph) -> None:
    base = coffee.nearest("brew a dark roast latte", max_cost=0.0)
    assert base is not None
    rivals = base.rivals()
    scores = [-20.0 + (3.0 if r.text == "brew a light roast latte" else 0.0)
              + (10.5 if r.text == "brew a dark roast mocha" else 0.0) for r in rivals]
    verdict = settle(base, -10.0, rivals, scores)
    assert verdict.text == "brew a dark roast mocha"  # the audio's choice, 0.5 ahead of "latte"
    leads = {slot: (value, runner_up, round(lead, 2)) for slot, value, runner_up, lead in verdict.leads}
    assert leads == {"roast": ("dark", "light", 7.0), "drink": ("mocha", "latte", 0.5)}
    assert verdict.doubts(1.0) == ["drink"] and verdict.doubts(0.4) == []
