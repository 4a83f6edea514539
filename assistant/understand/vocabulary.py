"""The words of one language for retrieval and the local LLM's guards, read from data.

``data/<language>/words.yaml`` holds the word lists (device words, plain words, cues of
direction...) and the regular expressions over an utterance's words; this module only
types them. Loaded once per language and frozen, so every turn reads the same tables; a
second language is a second folder, not code.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).with_name("data")


@dataclass(frozen=True)
class Vocabulary:
    language: str
    domain_words: dict[str, str] = field(hash=False)
    """word -> the device kind it says ("lamp" -> light)."""
    thing_words: dict[str, str] = field(hash=False)
    """word -> the thing it points at by what it does ("espresso" -> coffee)."""
    class_words: dict[str, tuple[str, ...]] = field(hash=False)
    device_nouns: frozenset[str]
    device_words: frozenset[str]
    plain_words: frozenset[str]
    other_things: frozenset[str]
    change_verbs: frozenset[str]
    not_places: frozenset[str]
    not_a_request_start: frozenset[str]
    past: frozenset[str]
    nouns: dict[str, tuple[str, str]] = field(hash=False)
    question_nouns: dict[str, str] = field(hash=False)
    verbs: dict[str, str] = field(hash=False)
    cues: dict[str, frozenset[str]] = field(hash=False)
    opposites: dict[str, str] = field(hash=False)
    patterns: dict[str, re.Pattern[str]] = field(hash=False)
    any_media: frozenset[str] = frozenset()
    many: frozenset[str] = frozenset()
    """Words that ask for several at once ("both", "all"): not "which one?"."""
    """Words for "whatever the player has" ("play some music"): no search needed."""

    def pattern(self, name: str) -> re.Pattern[str]:
        return self.patterns[name]


def _inverted(raw: dict[str, list[str]]) -> dict[str, str]:
    """{light: [lamp, bulb]} -> {lamp: light, bulb: light}."""
    return {str(w): str(kind) for kind, ws in raw.items() for w in ws}


def _set(raw: Any) -> frozenset[str]:
    return frozenset(str(w) for w in raw or ())


@functools.cache
def load(language: str = "en", directory: Path = DATA_DIR) -> Vocabulary:
    """The vocabulary of ``language`` (a ``ValueError`` naming the file when it is missing)."""
    path = directory / language / "words.yaml"
    try:
        raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"no vocabulary for language {language!r} ({path} is missing)") from None
    return Vocabulary(
        language=language,
        domain_words=_inverted(raw["domain_words"]),
        thing_words=_inverted(raw["thing_words"]),
        class_words={str(w): tuple(str(c) for c in cs) for w, cs in raw["class_words"].items()},
        device_nouns=_set(raw["device_nouns"]),
        device_words=_set(raw["device_words"]) | _set(raw["device_nouns"]),
        plain_words=_set(raw["plain_words"]),
        other_things=_set(raw["other_things"]),
        change_verbs=_set(raw["change_verbs"]),
        not_places=_set(raw["not_places"]),
        not_a_request_start=_set(raw["not_a_request_start"]),
        past=_set(raw["past"]),
        nouns={str(k): (str(v[0]), str(v[1])) for k, v in raw["nouns"].items()},
        question_nouns={str(k): str(v) for k, v in raw["question_nouns"].items()},
        verbs={str(k): str(v) for k, v in raw["verbs"].items()},
        cues={str(k): _set(v) for k, v in raw["cues"].items()},
        opposites={str(k): str(v) for k, v in raw["opposites"].items()},
        patterns={str(k): re.compile(str(v)) for k, v in raw["patterns"].items()},
        any_media=_set(raw.get("any_media")),
        many=_set(raw.get("many")),
    )
