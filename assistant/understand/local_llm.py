"""The local LLM fallback: rank the few valid commands an utterance can mean.

Designed for a 135M model, which cannot be trusted to write a command (a bare prompt
got 3 of 6 simple commands right) but can tell which of a handful of short phrases
best continues a conversation. So:

1. :class:`~assistant.understand.candidates.CommandSpace` retrieves what the utterance
   refers to (names, areas, device words) and builds every valid command for it,
   plus "none" — the output space is the home's exposed entities and their services,
   nothing else (the constraint a grammar would give, enforced by construction);
2. :class:`LlmRanker` scores each command phrase by its log-probability as the
   assistant's answer, after few-shot examples drawn from the sentence templates;
3. the scores become a distribution; the decision is to act (confidence at least
   ``settings.llm.min_confidence``), ask which one when the top choices do the same
   thing to different devices, or pass to the next fallback (the cloud) saying why.

Acting goes through the intent handlers, so sensitive devices still wait for a yes.
"""

from __future__ import annotations

import logging
import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, Protocol

from assistant.home.base import HomeBackend
from assistant.understand.candidates import (
    NOT_A_COMMAND,
    Command,
    CommandSpace,
    Retrieval,
    Target,
    strip_address,
    words,
)
from assistant.understand.intents import IntentHandlers
from assistant.understand.result import Decision

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.llm.local import LocalLlm
    from assistant.understand.templates import TemplateMatcher

log = logging.getLogger(__name__)

Scoring = Literal["sum", "mean", "pmi"]

SYSTEM = ("You are a smart home assistant. Answer with the one home command the user "
          "asks for, or none when they are not asking you to control the home.")

NEGATIVE_SHOTS = (
    "the fan my uncle gave me makes a funny noise",
    "what is the capital of france",
    "the kids left the lights on all night yesterday",
)
"""Non-commands that mention devices: taught as "none" (kept apart from the test sets)."""

_MENTION = re.compile(
    r"\b(?:sister|brother|mum|mom|mother|dad|father|friend|neighbou?r|grandma|grandpa|granny|"
    r"aunt|uncle|son|daughter|wife|husband|boss|cousin|kid|kids|wife|partner|someone)'s\b"
    r"|\b(?:his|her|their)\s+(?:\w+\s+)?(?:lamp|light|lights|tv|fan|coffee|door|vacuum)\b"
    r"|\b(?:is|was|are|were|got|has been)\s+"
    r"(?:broken|broke|dead|faulty|stolen|missing|cheap|expensive|new|old)\b"
    r"|\b(?:yesterday|last night|last week|bought|ordered|repair|repaired|fix|fixed)\b"
    r"|\bhow (?:much|many|long|often)\b|\bwhere (?:can|do|did)\b|\bwhy (?:is|are|does|did)\b"
    r"|\b(?:recipe|price|cost|buy|shop|store|brand|review|movie|film|song about)\b"
    r"|^(?:what|who|when|which) (?:is|are|was|were) (?:a|an|the best)\b"
)
"""Cues that an utterance talks *about* a device rather than asking to use it."""


@dataclass(frozen=True)
class Shot:
    user: str
    answer: str


class Ranker(Protocol):
    """Scores command phrases for an utterance (higher is better)."""

    name: str

    def scores(self, text: str, commands: Sequence[Command]) -> list[float]: ...


class LlmRanker:
    """Log-probability of each command as the assistant's reply, after few-shot turns."""

    name = "llm"

    def __init__(self, llm: LocalLlm, shots: Sequence[Shot] = (), *, scoring: Scoring = "sum") -> None:
        self.llm = llm
        self.scoring: Scoring = scoring
        self.shots = list(shots)
        self._end = "<|im_end|>"
        self._prefix = self._render_prefix()
        self._null: dict[str, float] = {}

    def _render_prefix(self) -> str:
        parts = [f"<|im_start|>system\n{SYSTEM}<|im_end|>\n"]
        for s in self.shots:
            parts.append(f"<|im_start|>user\n{s.user}<|im_end|>\n"
                         f"<|im_start|>assistant\n{s.answer}<|im_end|>\n")
        return "".join(parts)

    def prompt(self, text: str) -> list[int]:
        return self.llm.tokenize(f"{self._prefix}<|im_start|>user\n{text}<|im_end|>\n"
                                 "<|im_start|>assistant\n")

    def scores(self, text: str, commands: Sequence[Command]) -> list[float]:
        conts = [self.llm.tokenize(c.phrase + self._end) for c in commands]
        scored = self.llm.score(self.prompt(text), conts)
        if self.scoring == "mean":
            return [s.mean for s in scored]
        raw = [s.logprob for s in scored]
        if self.scoring == "sum":
            return raw
        return [r - self._null_score(c, tok) for r, c, tok in zip(raw, commands, conts, strict=True)]

    def _null_score(self, command: Command, tokens: list[int]) -> float:
        """log P(phrase | an empty request): the phrase's prior, for PMI scoring."""
        if command.phrase not in self._null:
            self._null[command.phrase] = self.llm.score(self.prompt(""), [tokens])[0].logprob
        return self._null[command.phrase]


class LexicalRanker:
    """Word overlap between the utterance and each phrase: the no-LLM baseline."""

    name = "lexical"

    def scores(self, text: str, commands: Sequence[Command]) -> list[float]:
        said = set(words(text))
        out = []
        for c in commands:
            if c.intent is None:
                out.append(0.5)
                continue
            ws = set(words(c.phrase)) - {"the", "in", "to", "of", "on", "with", "it"}
            out.append(2.0 * len(said & ws) / max(1, len(ws)))
        return out


def template_shots(templates: TemplateMatcher, space: CommandSpace, area: str | None,
                   *, per_intent: int = 2, seed: int = 7) -> list[Shot]:
    """Few-shot examples drawn from the sentence templates: sampled sentences for the
    common home intents, answered with the command phrase the ranker would choose."""
    from hassil.sample import sample_intents

    rng = random.Random(seed)
    wanted = ["HassTurnOff", "HassTurnOn", "HearthLightStep", "HearthLightColor",
              "HassVacuumStart", "HearthBrew"]
    by_intent: dict[str, list[str]] = {}
    for intent, sentence in sample_intents(templates.intents, slot_lists=templates.slot_lists,
                                           max_sentences_per_intent=400, intent_names=set(wanted),
                                           language=templates.language):
        by_intent.setdefault(intent, []).append(sentence)
    shots: list[Shot] = []
    for intent in wanted:
        pool = by_intent.get(intent, [])
        rng.shuffle(pool)
        taken = 0
        for sentence in pool:
            if taken >= per_intent:
                break
            match = templates.match(sentence, area=area)
            if match is None or match.intent != intent:
                continue
            found = space.retrieve(sentence)
            commands = space.commands(found, space.targets(found, area))
            phrase = _phrase_for(commands, match.intent, match.slots)
            if phrase:
                shots.append(Shot(sentence, phrase))
                taken += 1
    shots.extend(Shot(n, NOT_A_COMMAND.phrase) for n in NEGATIVE_SHOTS)
    rng.shuffle(shots)
    return shots


def _phrase_for(commands: Sequence[Command], intent: str, slots: dict[str, object]) -> str | None:
    alias = {"HearthLightColor": "HassLightSet", "HearthBrew": "HassTurnOn"}
    for c in commands:
        if c.intent == alias.get(intent, intent) and all(
                c.slots.get(k) == v for k, v in slots.items() if k in ("step", "color", "name")):
            return c.phrase
    return None


class LocalLlmFallback:
    """A :class:`~assistant.understand.router.Fallback` backed by the local LLM."""

    name = "local_llm"

    def __init__(self, home: HomeBackend, ranker: Ranker, *, handlers: IntentHandlers | None = None,
                 space: CommandSpace | None = None, min_confidence: float = 0.5,
                 clarify_ratio: float = 0.5, max_commands: int = 24) -> None:
        self.home = home
        self.ranker = ranker
        self.handlers = handlers or IntentHandlers(home)
        self.space = space or CommandSpace(home)
        self.min_confidence = min_confidence
        self.clarify_ratio = clarify_ratio
        """Ask "which one?" when the runner-up (same action, other device) is at least this
        fraction of the best."""
        self.max_commands = max_commands

    @classmethod
    def from_settings(cls, settings: Settings, home: HomeBackend, *,
                      templates: TemplateMatcher | None = None,
                      llm: LocalLlm | None = None) -> LocalLlmFallback:
        """The default design: SmolLM2 (or ``llm.model``), few-shot from the templates."""
        from assistant.llm.local import LocalLlm
        from assistant.understand.templates import TemplateMatcher

        model = llm or LocalLlm.from_settings(settings.llm)
        space = CommandSpace(home)
        matcher = templates or TemplateMatcher(home.entities(), home.areas())
        area = settings.device_area
        try:
            area = home.area(area).id
        except Exception:
            area = None
        shots = template_shots(matcher, space, area) if settings.llm.few_shot else []
        ranker = LlmRanker(model, shots, scoring=settings.llm.scoring)
        return cls(home, ranker, space=space, min_confidence=settings.llm.min_confidence)

    def decide(self, text: str, area: str | None, previous: Decision) -> Decision | None:
        said = strip_address(text)
        found = self.space.retrieve(said)
        if found.empty:
            return None  # no device words: nothing here for the local model to rank
        if _MENTION.search(said.lower()):
            return self._pass(previous, "mentions a device but does not ask for anything", [])
        targets = self.space.targets(found, area)
        commands = self.space.commands(found, targets)[: self.max_commands]
        if not commands:
            return self._pass(previous, "refers to nothing this home can control", [])
        options = [*commands, NOT_A_COMMAND]
        scores = self.ranker.scores(said, options)
        probs = _softmax(scores)
        ranked = sorted(zip(options, probs, strict=True), key=lambda cp: -cp[1])
        shown = [c.as_candidate(p) for c, p in ranked[:6]]
        best, p_best = ranked[0]
        if best.intent is None:
            return self._pass(previous, f"the local LLM judged it not a home command "
                                        f"(p={p_best:.2f})", shown)
        same_action = [(c, p) for c, p in ranked if c.action == best.action and c.group != best.group]
        if same_action and self._ambiguous(found, targets, best, same_action[0][1], p_best):
            return self._clarify(best, [c for c, _ in same_action], targets, p_best, shown)
        if p_best < self.min_confidence:
            action_total = sum(p for c, p in ranked if c.action == best.action)
            if same_action and action_total >= self.min_confidence:
                return self._clarify(best, [c for c, _ in same_action], targets, action_total, shown)
            return self._pass(previous, f"the local LLM is not sure (best {best.phrase!r}, "
                                        f"p={p_best:.2f} < {self.min_confidence:.2f})", shown)
        assert best.intent is not None
        decision = self.handlers.handle(best.intent, dict(best.slots), area)
        handled_by = decision.handled_by if decision.handled_by != "local" else "local_llm"
        return replace(decision, handled_by=handled_by, confidence=round(p_best, 3),
                       candidates=tuple(shown),
                       reason=f"the local LLM chose {best.phrase!r} (p={p_best:.2f})"
                       + (f"; {decision.reason}" if decision.reason else ""))

    def _ambiguous(self, found: Retrieval, targets: Sequence[Target], best: Command,
                   p_other: float, p_best: float) -> bool:
        """Two devices fit and the utterance names neither (or the model cannot tell)."""
        if p_other >= self.clarify_ratio * p_best:
            return True
        named = bool(found.entities or found.areas or found.things)
        return not named and len({t.key for t in targets if t.domain == best.slots.get("domain",
                                  t.domain)}) > 1 and not found.whole_home

    def _clarify(self, best: Command, others: Sequence[Command], targets: Sequence[Target],
                 confidence: float, shown: list[dict[str, object]]) -> Decision:
        labels = {t.key: t.label for t in targets}
        choices = [best, *[c for c in others if c.group != best.group]]
        seen: list[Command] = []
        for c in choices:
            if c.group not in {s.group for s in seen}:
                seen.append(c)
        names = [labels.get(c.group, c.group) for c in seen[:4]]
        noun = _question_noun(targets)
        question = f"Which {noun} — " + (", ".join(names[:-1]) + " or " + names[-1]) + "?"
        options = tuple({"phrase": c.phrase, "intent": c.intent, "slots": dict(c.slots),
                         "label": labels.get(c.group, c.group), "source": "local_llm"}
                        for c in seen[:4])
        return Decision("clarify", question, intent=best.intent, slots=dict(best.slots),
                        confidence=round(confidence, 3), candidates=options, expects_reply=True,
                        reason=f"{len(seen)} devices fit {best.action!r}: asking which")

    @staticmethod
    def _pass(previous: Decision, why: str, shown: list[dict[str, object]]) -> Decision:
        return replace(previous, handled_by="unhandled", candidates=tuple(shown),
                       reason=f"{previous.reason}; local LLM passed: {why}".lstrip("; "))


def _question_noun(targets: Sequence[Target]) -> str:
    domains = {t.domain for t in targets}
    nouns = {"light": "light", "switch": "plug", "fan": "fan", "cover": "blind", "lock": "lock",
             "vacuum": "vacuum", "media_player": "speaker", "climate": "thermostat"}
    return nouns.get(next(iter(domains)), "one") if len(domains) == 1 else "one"


def _softmax(xs: Sequence[float]) -> list[float]:
    m = max(xs)
    exps = [math.exp(x - m) for x in xs]
    total = sum(exps)
    return [e / total for e in exps]
