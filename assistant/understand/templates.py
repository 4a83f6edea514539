"""Sentence templates: hassil with Home Assistant's English sentences plus Hearth's own.

Recognition is a pure function of the text, the home's names and the area the device
is in; it returns the intent and its slots, never an action.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hassil import Intents, SlotList, TextSlotList, recognize_best
from home_assistant_intents import get_intents

from assistant.home.base import Area, Entity
from assistant.resources import data_path
from assistant.understand import vocabulary
from assistant.understand.sorts import narrow, same_name

log = logging.getLogger(__name__)

SENTENCES_DIR = data_path("understand", "sentences")


@dataclass(frozen=True)
class TemplateMatch:
    intent: str
    slots: dict[str, Any]
    text: str
    """What matched, with hassil's own normalisation."""


@functools.cache
def _base_intents_dict(language: str) -> dict[str, Any]:
    data = get_intents(language)
    if data is None:
        raise ValueError(f"home-assistant-intents has no sentences for {language!r}")
    return dict(data)


def merge_intents(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Add ``extra``'s intents and lists to ``base`` without changing ``base``."""
    merged = dict(base)
    merged["intents"] = {k: dict(v) for k, v in base.get("intents", {}).items()}
    for name, intent in extra.get("intents", {}).items():
        if name in merged["intents"]:
            merged["intents"][name] = {
                **merged["intents"][name],
                "data": [*merged["intents"][name]["data"], *intent["data"]],
            }
        else:
            merged["intents"][name] = intent
    merged["lists"] = {**base.get("lists", {}), **extra.get("lists", {})}
    merged["skip_words"] = [*base.get("skip_words", []), *extra.get("skip_words", [])]
    merged["expansion_rules"] = {**base.get("expansion_rules", {}), **extra.get("expansion_rules", {})}
    return merged


def load_sentence_files(paths: list[Path]) -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in paths]


def _spellings(names: tuple[str, ...]) -> list[str]:
    """Names as people (and speech-to-text) write them: "Bedroom" is also "bed room"."""
    out = list(dict.fromkeys(names))
    for n in names:
        low = n.lower()
        if low.endswith("room") and len(low) > 4 and low[-5] != " ":
            out.append(n[:-4] + " room")
    return list(dict.fromkeys(out))


class TemplateMatcher:
    """hassil over the home's names: the sentences are parsed once; the names follow the home."""

    def __init__(
        self,
        entities: list[Entity],
        areas: list[Area],
        *,
        language: str = "en",
        extra_sentences: list[dict[str, Any]] | None = None,
    ) -> None:
        data = _base_intents_dict(language)
        for extra in [*load_sentence_files(sorted(SENTENCES_DIR.glob(f"{language}*.yaml"))),
                      *(extra_sentences or [])]:
            data = merge_intents(data, extra)
        self.intents = Intents.from_dict(data)
        self.language = language
        self.slot_lists: dict[str, SlotList] = {}
        self.vocab = vocabulary.load(language)
        self.entities: list[Entity] = []
        self.set_names(entities, areas)
        self.match("turn on the light", area=areas[0].id if areas else None)  # warm hassil's caches

    def set_names(self, entities: list[Entity], areas: list[Area]) -> None:
        """The home's names as hassil's slot lists (cheap: the sentences stay parsed)."""
        self.entities = list(entities)
        self.slot_lists = {
            "name": TextSlotList.from_tuples(
                [
                    (name, e.entity_id, self._entity_context(e))
                    for e in entities
                    for name in e.names
                ],
                allow_template=False,
            ),
            "area": TextSlotList.from_tuples(
                [(name, a.id) for a in areas for name in _spellings((a.name, *a.aliases))],
                allow_template=False,
            ),
            "floor": TextSlotList.from_tuples([], allow_template=False),
        }

    @staticmethod
    def _entity_context(entity: Entity) -> dict[str, Any]:
        ctx: dict[str, Any] = {"domain": entity.domain}
        if entity.area:
            ctx["area"] = entity.area
        if entity.device_class:
            ctx["device_class"] = entity.device_class
        return ctx

    def match(self, text: str, *, area: str | None) -> TemplateMatch | None:
        """The best template match for ``text`` said in ``area``, or None."""
        context = {"area": area} if area else {}
        result = recognize_best(
            text,
            self.intents,
            slot_lists=self.slot_lists,
            intent_context=context,
            language=self.language,
            best_slot_name="name",
        )
        if result is None or result.intent is None:
            return None
        # A sentence meant for "here" carries the area as a slot (requires_context area
        # slot: true); one without an area slot means the whole home ("all the lights").
        slots = {name: ent.value for name, ent in result.entities.items()}
        slots = narrow(slots, text, self.entities, self.vocab)  # "the lamp": the Desk Lamp
        if "name" in result.entities:  # "the bedside lamp", and two rooms have one
            slots = same_name(slots, str(result.entities["name"].text), self.entities, area)
        return TemplateMatch(intent=result.intent.name, slots=slots, text=text)
