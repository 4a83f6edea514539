"""Few-shot examples for the local LLM, drawn from the sentence templates.

A 135M model learns the task from a handful of worked examples in its prompt: what
people say (random sentences the templates accept, short ones naming one thing) and
the command phrase the ranker must choose for them, plus a few non-commands answered
"none". They are deterministic for a given home, and evaluated once (then cached).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.understand.candidates import NOT_A_COMMAND, Command, CommandSpace, words

if TYPE_CHECKING:
    from assistant.understand.templates import TemplateMatcher

log = logging.getLogger(__name__)

NEGATIVE_SHOTS = (
    "the fan my uncle gave me makes a funny noise",
    "what is the capital of france",
    "the kids left the lights on all night yesterday",
)
"""Non-commands that mention devices: taught as "none" (kept apart from the test sets)."""


@dataclass(frozen=True)
class Shot:
    user: str
    answer: str


WANTED = ("HassTurnOff", "HassTurnOn", "HearthLightStep", "HearthLightColor", "HassVacuumStart",
          "HearthBrew")
"""The intents examples are drawn from: the common home requests."""


def cached_template_shots(templates: TemplateMatcher, space: CommandSpace, area: str | None,
                          cache_dir: Path | None) -> list[Shot]:
    """:func:`template_shots`, kept in ``cache_dir`` for the same home, area and sentences
    (a cold ``hearth ask`` then skips sampling them)."""
    if cache_dir is None:
        return template_shots(templates, space, area)
    key = hashlib.sha256(json.dumps({
        "area": area,
        "entities": sorted((e.entity_id, e.names, e.area, sorted(e.features)) for e in space.entities),
        "areas": sorted((a.id, a.name, a.aliases) for a in space.areas.values()),
        "sentences": {name: [s.text for b in templates.intents.intents[name].data for s in b.sentences]
                      for name in WANTED if name in templates.intents.intents},
        "negative": NEGATIVE_SHOTS,
    }, sort_keys=True, default=list).encode()).hexdigest()[:24]
    path = cache_dir / f"shots-{key}.json"
    try:
        return [Shot(str(s["user"]), str(s["answer"])) for s in json.loads(path.read_text("utf-8"))]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    shots = template_shots(templates, space, area)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([{"user": s.user, "answer": s.answer} for s in shots]), "utf-8")
    except OSError as exc:
        log.warning("few-shot examples not cached (%s)", exc)
    return shots


def template_shots(templates: TemplateMatcher, space: CommandSpace, area: str | None,
                   *, per_intent: int = 2, seed: int = 7, tries: int = 60) -> list[Shot]:
    """Few-shot examples drawn from the sentence templates: random sentences of the common
    home intents (short ones naming one thing, as people say them), each answered with
    the command phrase the ranker would have to choose. Deterministic for a given home."""
    rng = random.Random(seed)
    shots: list[Shot] = []
    for intent in WANTED:
        data = templates.intents.intents.get(intent)
        if data is None:
            continue
        sentences = [(block, sentence) for block in data.data for sentence in block.sentences]
        taken, seen = 0, set()
        for _ in range(tries):
            if taken >= per_intent or not sentences:
                break
            _, sentence = rng.choice(sentences)
            text = _random_text(sentence.expression, templates, rng)
            if text is None or text in seen:
                continue
            seen.add(text)
            toks = words(text)
            if not 2 <= len(toks) <= 8 or len(set(toks)) < len(toks):
                continue
            found = space.retrieve(text)
            if len(found.entities) + len(found.areas) > 1:
                continue  # "turn off the living room my living room lamp": not how people talk
            match = templates.match(text, area=area)
            if match is None or match.intent != intent:
                continue
            phrase = _phrase_for(space.commands(found, space.targets(found, area)),
                                 match.intent, match.slots)
            if phrase:
                shots.append(Shot(" ".join(toks), phrase))
                taken += 1
    shots.extend(Shot(n, NOT_A_COMMAND.phrase) for n in NEGATIVE_SHOTS)
    rng.shuffle(shots)
    return shots


def _random_text(expr: object, templates: TemplateMatcher, rng: random.Random,
                 depth: int = 0) -> str | None:
    """One random sentence a hassil template accepts (None: a list this home has no values for)."""
    from hassil.expression import (
        Alternative,
        Group,
        ListReference,
        Permutation,
        RuleReference,
        TextChunk,
    )
    from hassil.intents import RangeSlotList, TextSlotList

    if depth > 30:
        return None
    if isinstance(expr, TextChunk):
        return expr.text
    if isinstance(expr, Alternative):
        if not expr.items:
            return ""
        return _random_text(rng.choice(expr.items), templates, rng, depth + 1)
    if isinstance(expr, Group):
        items = list(expr.items)
        if isinstance(expr, Permutation):
            rng.shuffle(items)
        parts = [_random_text(i, templates, rng, depth + 1) for i in items]
        if any(p is None for p in parts):
            return None
        joiner = " " if isinstance(expr, Permutation) else ""
        return joiner.join(p for p in parts if p is not None)
    if isinstance(expr, RuleReference):
        rule = templates.intents.expansion_rules.get(expr.rule_name)
        return None if rule is None else _random_text(rule.expression, templates, rng, depth + 1)
    if isinstance(expr, ListReference):
        slot_list = templates.slot_lists.get(expr.list_name) or \
            templates.intents.slot_lists.get(expr.list_name)
        if isinstance(slot_list, TextSlotList) and slot_list.values:
            value = rng.choice(slot_list.values)
            return _random_text(value.text_in, templates, rng, depth + 1)
        if isinstance(slot_list, RangeSlotList):
            return str(rng.randrange(slot_list.start, slot_list.stop + 1, slot_list.step))
        return None
    return None


def _phrase_for(commands: Sequence[Command], intent: str, slots: dict[str, object]) -> str | None:
    """The command that does what the template match does (same targets, same values)."""
    alias = {"HearthLightColor": "HassLightSet", "HearthBrew": "HassTurnOn"}
    if intent != "HearthBrew" and "name" not in slots and "area" not in slots:
        return None  # the whole home: not a shape worth teaching
    for c in commands:
        names = c.slots.get("name")
        first = (names[0] if isinstance(names, list) else names) if names else ""
        domain = c.slots.get("domain") or str(first).split(".", 1)[0]
        if c.intent != alias.get(intent, intent) or domain in ("lock", "cover"):
            continue  # sensitive devices are not taught by example
        same_values = all(c.slots.get(k) == v for k, v in slots.items()
                          if k in ("step", "color", "name"))
        same_place = "area" not in slots or "name" in c.slots or c.slots.get("area") == slots["area"]
        if same_values and same_place:
            return c.phrase
    return None
