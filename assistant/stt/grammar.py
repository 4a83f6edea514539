"""The skills' sentences as a word graph, and the sentence of it nearest a transcript.

Whisper hears "Rural coffee with a bit of cream" for "Brew a coffee with a bit of cream":
close to a sentence the skill takes, but not one. hassil turns the templates into a
finite-state graph (``hassil.fst``); each slot list's arc is replaced by the ways its
values are said, and a shortest path over (graph state, transcript word) finds the
sentence with the fewest, smallest word edits (a substitution costs the two spellings'
character distance). Whisper then has the last word: the repair is kept only when the
audio makes it nearly as likely as what Whisper heard (``WhisperStt``).
"""

from __future__ import annotations

import heapq
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)

SKIP_COST = 0.8
"""Leaving out a word Whisper heard, or adding one it did not hear."""
_TOKEN = re.compile(r"[a-z0-9]+|'[a-z]+")
_LIST_ARC = re.compile(r"^\{(\w+)\}$")


def words_of(text: str) -> list[str]:
    """Lower-case words as the graph spells them: "I'd" is "i 'd", "16-ounce" is "16 ounce"."""
    return _TOKEN.findall(text.lower().replace("’", "'"))


def join_words(words: Iterable[str]) -> str:
    return " ".join(words).replace(" '", "'")


@lru_cache(maxsize=65536)
def _distance(a: str, b: str) -> float:
    return 0.0 if a == b else 1.0 - SequenceMatcher(None, a, b).ratio()


@dataclass(frozen=True)
class Said:
    """One way a slot's value is said, and every way of its list (the rivals)."""

    slot: str
    value: str
    words: tuple[str, ...]
    choices: tuple[tuple[tuple[str, ...], str], ...]
    """(words, value) of every form of the slot's list, this one included."""


@dataclass(frozen=True)
class SlotSpan:
    """Where a slot's value sits in a sentence's words."""

    said: Said
    start: int
    end: int


@dataclass(frozen=True)
class Repair:
    text: str
    cost: float
    """Sum of the edits; 0 would be the transcript itself."""
    words: tuple[str, ...] = ()
    spans: tuple[SlotSpan, ...] = ()
    """The slots' values in ``words``."""

    def rivals(self) -> list[Rival]:
        """Each other value each slot of this sentence could take from its list, said its
        first way ("light roast", not "blonde-roast": each sentence costs Whisper a pass),
        one slot at a time: what the audio is asked to choose between."""
        out: list[Rival] = []
        for span in self.spans:
            first: dict[str, tuple[str, ...]] = {}
            for form, value in span.said.choices:
                first.setdefault(value, form)
            out += [Rival(span, value, form, join_words((*self.words[:span.start], *form,
                                                         *self.words[span.end:])))
                    for value, form in first.items() if value != span.said.value]
        return out


@dataclass(frozen=True)
class Rival:
    span: SlotSpan
    value: str
    words: tuple[str, ...]
    text: str
    """The whole sentence with ``words`` in the span."""


class PhraseGraph:
    """One graph for every intent of the given hassil sentence files (skills' own)."""

    def __init__(self, sentence_files: Iterable[Mapping[str, Any]]) -> None:
        self._arcs: dict[int, list[tuple[int, str | None]]] = defaultdict(list)
        self._said: dict[tuple[int, int], Said] = {}
        """The arcs that begin a slot value's words."""
        self._finals: set[int] = set()
        self._next = 0
        for data in sentence_files:
            try:
                self._add(data)
            except (ValueError, KeyError) as exc:  # e.g. a rule only Home Assistant's sentences define
                log.debug("no word graph for sentences of %s: %s", sorted(data.get("intents", {})), exc)

    def _state(self) -> int:
        self._next += 1
        return self._next

    def _add(self, data: Mapping[str, Any]) -> None:
        from hassil import Intents
        from hassil.fst import intents_to_fst
        from hassil.intents import TextSlotList
        from hassil.sample import sample_expression

        intents = Intents.from_dict({"language": data.get("language", "en"), "intents": data["intents"],
                                     "lists": data.get("lists", {}),
                                     "expansion_rules": data.get("expansion_rules", {})})
        fst = intents_to_fst(intents).remove_spaces()  # a list's arc is labelled with its slot's name
        forms: dict[str, dict[tuple[str, ...], str]] = defaultdict(dict)
        for slot, list_name in _slot_lists(intents):
            slot_list = intents.slot_lists.get(list_name)
            if isinstance(slot_list, TextSlotList):
                for value in slot_list.values:
                    for spoken in sample_expression(value.text_in):
                        if words := tuple(words_of(spoken)):
                            forms[slot].setdefault(words, str(value.value_out))
        said: dict[str, list[Said]] = {}
        for slot, by_form in forms.items():
            choices = tuple(by_form.items())  # as the list says them: its first way first
            said[slot] = [Said(slot, value, f, choices) for f, value in choices]
        offset = self._next + 1
        self._next += max(fst.states | {0}) + 1
        self._arcs[0].append((offset + fst.start, None))
        self._finals |= {offset + s for s in fst.final_states}
        for src, arcs in fst.arcs.items():
            for arc in arcs:
                a, b, label = offset + src, offset + arc.to_state, arc.in_label
                if (ref := _LIST_ARC.match(label)) is not None:
                    for form in said.get(ref.group(1), []):  # a list defined elsewhere: no arc
                        self._chain(a, b, list(form.words), form)
                elif label.startswith("<"):  # <eps>, <skip>
                    self._arcs[a].append((b, None))
                else:
                    self._chain(a, b, words_of(label) or [label])

    def _chain(self, a: int, b: int, words: list[str], said: Said | None = None) -> None:
        if said is not None:
            self._said[(a, len(self._arcs[a]))] = said
        for word in words[:-1]:
            nxt = self._state()
            self._arcs[a].append((nxt, word))
            a = nxt
        self._arcs[a].append((b, words[-1]))

    def nearest(self, text: str, *, max_cost: float) -> Repair | None:
        """The graph's sentence with the cheapest edits from ``text``, if any costs at most
        ``max_cost``."""
        heard = words_of(text)
        n = len(heard)
        best: dict[tuple[int, int], float] = {(0, 0): 0.0}
        back: dict[tuple[int, int], _Back] = {}
        queue: list[tuple[float, int, int]] = [(0.0, 0, 0)]
        while queue:
            cost, state, i = heapq.heappop(queue)
            if cost > best.get((state, i), float("inf")) or cost > max_cost:
                continue
            if i == n and state in self._finals:
                return _repair(back, (state, i), cost)
            steps: list[tuple[int, int, float, str | None, Said | None]] = []
            if i < n:
                steps.append((state, i + 1, SKIP_COST, None, None))  # a word heard that the sentence lacks
            for k, (to, word) in enumerate(self._arcs.get(state, ())):
                if word is None:
                    steps.append((to, i, 0.0, None, None))
                    continue
                said = self._said.get((state, k))
                steps.append((to, i, SKIP_COST, word, said))  # a word of the sentence not heard
                if i < n:
                    steps.append((to, i + 1, _distance(heard[i], word), word, said))
            for to, j, step, word, said in steps:
                c = cost + step
                if c < best.get((to, j), float("inf")):
                    best[(to, j)] = c
                    back[(to, j)] = ((state, i), word, said)
                    heapq.heappush(queue, (c, to, j))
        return None


_Back = tuple[tuple[int, int], str | None, Said | None]


@dataclass(frozen=True)
class Verdict:
    """Which value of each slot the audio makes likeliest, and by how much."""

    text: str
    """The sentence with each slot's likeliest value."""
    leads: tuple[tuple[str, str, str, float], ...]
    """(slot, likeliest value, runner-up, lead in nats) for each slot."""

    def doubts(self, lead: float) -> list[str]:
        """The slots whose likeliest value leads by less than ``lead``: ask, don't guess."""
        return [slot for slot, _v, _r, ahead in self.leads if ahead < lead]


def settle(base: Repair, base_score: float, rivals: list[Rival], scores: list[float]) -> Verdict:
    """Each slot of ``base`` against its list's other values, one swapped at a time, by
    Whisper's score of each sentence for the audio (``base_score``, ``scores``)."""
    by_span: dict[SlotSpan, dict[str, tuple[float, tuple[str, ...]]]] = {
        span: {span.said.value: (base_score, span.said.words)} for span in base.spans}
    for rival, score in zip(rivals, scores, strict=True):
        if score > by_span[rival.span].get(rival.value, (float("-inf"), ()))[0]:
            by_span[rival.span][rival.value] = (score, rival.words)
    words = list(base.words)
    leads: list[tuple[str, str, str, float]] = []
    for span in sorted(base.spans, key=lambda s: -s.start):  # right to left: earlier indices hold
        ranked = sorted(by_span[span].items(), key=lambda kv: -kv[1][0])
        value, (score, form) = ranked[0]
        runner_up, (second, _f) = ranked[1] if len(ranked) > 1 else ("", (float("-inf"), ()))
        leads.append((span.said.slot, value, runner_up, score - second))
        words[span.start:span.end] = form
    return Verdict(join_words(words), tuple(reversed(leads)))


def _slot_lists(intents: Any) -> set[tuple[str, str]]:
    """(slot name, list name) of every ``{list:slot}`` the sentences use, through their rules."""
    from hassil.expression import Group, ListReference, RuleReference

    found: set[tuple[str, str]] = set()
    seen_rules: set[str] = set()

    def walk(expression: Any) -> None:
        if isinstance(expression, Group):
            for item in expression.items:
                walk(item)
        elif isinstance(expression, ListReference):
            found.add((expression.slot_name, expression.list_name))
        elif isinstance(expression, RuleReference) and expression.rule_name not in seen_rules:
            seen_rules.add(expression.rule_name)
            rule = intents.expansion_rules.get(expression.rule_name)
            if rule is not None:
                walk(rule.expression)

    for intent in intents.intents.values():
        for data in intent.data:
            for sentence in data.sentences:
                walk(sentence.expression)
    return found


def _repair(back: Mapping[tuple[int, int], _Back], node: tuple[int, int], cost: float) -> Repair:
    steps: list[tuple[str, Said | None]] = []
    while node in back:
        node, word, said = back[node]
        if word is not None:
            steps.append((word, said))
    steps.reverse()
    words = tuple(w for w, _ in steps)
    spans = tuple(SlotSpan(said, i, i + len(said.words)) for i, (_w, said) in enumerate(steps)
                  if said is not None)
    return Repair(join_words(words), cost, words, spans)
