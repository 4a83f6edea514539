"""The sentence-embedding ranker (all-MiniLM-L6-v2, int8 ONNX) with the real model, in a
home built here: it prefers the command that means what was said, scores "none" for what
is not about the home, plugs into the fallback through ``[llm] ranker``, and a missing
model is one clear error the fallback passes on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from assistant.config import load_settings
from assistant.errors import ModelError
from assistant.home.demo import DemoHome
from assistant.understand import rank_embed
from assistant.understand.candidates import NOT_A_COMMAND, Command
from assistant.understand.context import ConversationMemory
from assistant.understand.local_llm import LocalLlmFallback
from assistant.understand.rank_embed import EmbeddingRanker, SumRanker
from assistant.understand.router import Understander

pytestmark = pytest.mark.real

HOME = {
    "areas": [{"id": "galley", "name": "Galley"}, {"id": "den", "name": "Den"}],
    "entities": [
        {"entity_id": "light.galley_spots", "name": "Galley Spots", "area": "galley", "state": "off",
         "features": ["dimmable"], "attributes": {"brightness_pct": 40}},
        {"entity_id": "fan.den_fan", "name": "Den Fan", "area": "den", "state": "off"},
        {"entity_id": "cover.den_shutter", "name": "Den Shutter", "area": "den",
         "device_class": "shutter", "state": "open"},
        {"entity_id": "media_player.den_radio", "name": "Den Radio", "area": "den", "state": "playing"},
    ],
}


@pytest.fixture(scope="module")
def ranker() -> EmbeddingRanker:
    try:
        return EmbeddingRanker.installed()
    except ModelError as exc:
        pytest.skip(f"the embedding model is not installed (pip install 'hearth[embedding]'): {exc}")


@pytest.fixture()
def home(tmp_path: Path) -> Iterator[DemoHome]:
    path = tmp_path / "home.yaml"
    path.write_text(yaml.safe_dump(HOME), encoding="utf-8")
    h = DemoHome(path, tmp_path / "home.sqlite")
    yield h
    h.close()


def _best(ranker: EmbeddingRanker, text: str, phrases: list[str]) -> str:
    commands = [Command(p, "X") for p in phrases] + [NOT_A_COMMAND]
    scores = ranker.scores(text, commands)
    return max(zip(scores, commands, strict=True), key=lambda sc: sc[0])[1].phrase


def test_the_phrase_that_means_the_request_wins(ranker: EmbeddingRanker) -> None:
    phrases = ["open the den shutter", "turn on the den fan", "pause the den radio",
               "turn on the galley spots"]
    assert _best(ranker, "could you get the fan going in the den", phrases) == "turn on the den fan"
    assert _best(ranker, "hold the music for a second", phrases) == "pause the den radio"
    assert _best(ranker, "let some daylight into the den", phrases) == "open the den shutter"


def test_what_is_not_about_the_home_scores_none(ranker: EmbeddingRanker) -> None:
    phrases = ["open the den shutter", "turn on the den fan", "pause the den radio"]
    assert _best(ranker, "what is the capital of peru", phrases) == "none"


def test_vectors_are_unit_and_phrases_cached(ranker: EmbeddingRanker) -> None:
    vecs = ranker.encoder.encode(["turn on the den fan", "hello"])
    assert vecs.shape == (2, 384)
    assert abs(float((vecs[0] ** 2).sum()) - 1.0) < 1e-4
    ranker.scores("the fan", [Command("switch the den fan off", "X"), NOT_A_COMMAND])
    assert "switch the den fan off" in ranker._cache


def test_the_setting_plugs_it_into_the_fallback(ranker: EmbeddingRanker, home: DemoHome,
                                                tmp_path: Path) -> None:
    settings = load_settings(data_dir=str(tmp_path / "data"))
    settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"ranker": "embedding"})})
    understander = Understander(home, memory=ConversationMemory(None))
    fallback = LocalLlmFallback.from_settings(settings, home, templates=understander.templates)
    assert isinstance(fallback.ranker, SumRanker)
    assert fallback.ranker.name == "embedding+lexical"
    understander.fallbacks = [fallback]
    decision = understander.decide("could you get the fan going in the den please", area="galley")
    assert decision.handled_by == "local_llm", decision.reason
    assert [a.entity_id for a in decision.actions] == ["fan.den_fan"]
    assert all(a.service == "fan.turn_on" for a in decision.actions)


def test_a_missing_model_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rank_embed, "MODEL_PACKAGE", "no_such_embedding_package")
    with pytest.raises(ModelError, match="no_such_embedding_package"):
        EmbeddingRanker.installed()


def test_a_changed_model_file_is_refused(tmp_path: Path) -> None:
    try:
        _, tok = rank_embed.model_files()
    except ModelError as exc:
        pytest.skip(f"the embedding model is not installed: {exc}")
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not the model")
    with pytest.raises(ModelError, match="sha256"):
        rank_embed.MiniLmEncoder(fake, tok)


def test_the_embedding_choice_loads_no_llm(ranker: EmbeddingRanker, home: DemoHome, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.llm import local

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the embedding ranker must not load the LLM")

    monkeypatch.setattr(local.LocalLlm, "from_settings", refuse)
    settings = load_settings(data_dir=str(tmp_path / "data"))
    llm = settings.llm.model_copy(update={"ranker": "embedding", "lexical_weight": 0.0})
    fallback = LocalLlmFallback.from_settings(settings.model_copy(update={"llm": llm}), home)
    assert fallback.ranker.name == "embedding"


class _Fixed:
    def __init__(self, name: str, values: list[float]) -> None:
        self.name = name
        self.values = values

    def scores(self, text: str, commands: object) -> list[float]:
        return self.values


def test_sum_ranker_adds_weighted_scores() -> None:
    total = SumRanker([(_Fixed("a", [1.0, 2.0]), 1.0), (_Fixed("b", [10.0, 0.0]), 0.5)])
    assert total.name == "a+b"
    assert total.scores("x", [Command("p", "X"), NOT_A_COMMAND]) == [6.0, 2.0]
