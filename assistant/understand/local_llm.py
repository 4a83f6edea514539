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
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from assistant.errors import HearthError
from assistant.home.base import HomeBackend
from assistant.understand.candidates import (
    NOT_A_COMMAND,
    VOCABULARY,
    Command,
    CommandSpace,
    Retrieval,
    Target,
    strip_address,
    words,
)
from assistant.understand.cues import explicit, prune_by_cues
from assistant.understand.intents import IntentHandlers
from assistant.understand.ranking import (
    HybridRanker,
    LazyRanker,
    LexicalRanker,
    LlmRanker,
    Ranker,
    Scoring,
)
from assistant.understand.result import Decision
from assistant.understand.shots import Shot, cached_template_shots, template_shots

__all__ = ["HybridRanker", "LazyRanker", "LexicalRanker", "LlmRanker", "LocalLlmFallback", "Ranker",
           "Scoring", "Shot", "template_shots"]

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.llm.local import LocalLlm
    from assistant.understand.router import Conversation
    from assistant.understand.templates import TemplateMatcher

log = logging.getLogger(__name__)

_P = VOCABULARY.patterns
_MENTION = _P["mention"]
"""Cues that an utterance talks *about* a device rather than asking to use it, or is about
another assistant topic (calendar, email, alarms) that merely shares a word ("clean")."""
_ASK = _P["ask"]
"""Where a request starts after its reason ("it's dark, can you turn on the lights")."""
_NOT = _P["negated"]
"""A request not to do something: never acted on by the ranker (whose commands are all positive)."""
_LATER = _P["later"]
"""A request for later ("at one pm", "when I arrive home"): Hearth acts now or not at all."""


class LocalLlmFallback:
    """A :class:`~assistant.understand.router.Fallback` backed by the local LLM."""

    name = "local_llm"

    def __init__(self, home: HomeBackend, ranker: Ranker, *, handlers: IntentHandlers | None = None,
                 space: CommandSpace | None = None, min_confidence: float = 0.5,
                 clarify_ratio: float = 0.5, max_commands: int = 24, prune: bool = True,
                 guards: bool = True, explicit_confidence: float = 0.2) -> None:
        self.home = home
        self.ranker = ranker
        self.handlers = handlers or IntentHandlers(home)
        self.space = space or CommandSpace(home)
        self.min_confidence = min_confidence
        self.clarify_ratio = clarify_ratio
        """Ask "which one?" when the runner-up (same action, other device) is at least this
        fraction of the best."""
        self.max_commands = max_commands
        self.prune = prune
        """Let the request's own words rule out contradicting commands (measured: on)."""
        self.guards = guards
        """Pass mentions, other topics, requests for later and unknown devices (measured: on)."""
        self.explicit_confidence = explicit_confidence
        """When the words name the one command left (a device and "off"), act on it from this
        probability (instead of ``min_confidence``): the model only judges "is it a request"."""

    @classmethod
    def from_settings(cls, settings: Settings, home: HomeBackend, *,
                      templates: TemplateMatcher | None = None, llm: LocalLlm | None = None,
                      lazy: bool = False) -> LocalLlmFallback:
        """The default design: SmolLM2 (or ``llm.model``), few-shot from the templates.

        ``lazy``: load the model and build the prompt on the first request that needs them.
        """
        space = CommandSpace(home)

        cache = settings.data_dir / "cache"

        def build() -> Ranker:
            if settings.llm.ranker in ("embedding", "embedding_llm"):  # measured by bench_rankers
                from assistant.understand.rank_embed import from_settings as alternative

                return alternative(settings.llm, build_llm)
            return build_llm()

        def build_llm() -> Ranker:
            from assistant.llm.local import LocalLlm
            from assistant.understand.templates import TemplateMatcher

            model = llm or LocalLlm.from_settings(settings.llm, settings.cache_dir)
            matcher = templates or TemplateMatcher(home.entities(), home.areas())
            try:
                area: str | None = home.area(settings.device_area).id
            except HearthError:  # a bad device area is reported by the app, not here
                area = None
            shots = cached_template_shots(matcher, space, area, cache) if settings.llm.few_shot else []
            ranker: Ranker
            if settings.llm.ranker == "choice":
                from assistant.understand.rank_choice import ChoiceRanker

                ranker = ChoiceRanker(model, shots, cache_dir=cache)
            else:
                ranker = LlmRanker(model, shots, scoring=settings.llm.scoring, cache_dir=cache)
            if settings.llm.lexical_weight > 0:
                ranker = HybridRanker(ranker, settings.llm.lexical_weight)
            return ranker

        return cls(home, LazyRanker(build) if lazy else build(), space=space,
                   min_confidence=settings.llm.min_confidence)

    def close(self) -> None:
        close = getattr(self.ranker, "close", None)
        if close is not None:
            close()

    def decide(self, text: str, area: str | None, previous: Decision,
               conversation: Conversation | None = None) -> Decision | None:
        said = strip_address(text)
        found = self.space.retrieve(said)
        if found.empty:
            return None  # no device words: nothing here for the local model to rank
        lowered = said.lower()
        mention = _MENTION.search(lowered)
        if self.guards and mention and not set(words(mention.group(0))) <= self.space.known_words:
            # "arm the house alarm" in a home with an alarm panel is not about a clock's alarm
            return self._pass(previous, "mentions a device but does not ask for anything", [])
        if self.guards and found.unknown and not found.entities:
            return self._pass(previous, f"names a device this home does not have "
                                        f"({', '.join(repr(u) for u in found.unknown)})", [])
        if self.guards and _NOT.search(lowered):
            return self._pass(previous, "says what not to do", [])
        if self.guards and _LATER.search(lowered):
            return self._pass(previous, "asks for something later; only the cloud or a skill "
                                        "could schedule it", [])
        targets = self.space.targets(found, area)
        everything = self.space.commands(found, targets)
        ask = _ASK.search(said)
        # "it's too bright in here, can you turn a light off": the reason, then the request;
        # the request's words say which way (the reason's 'bright' does not)
        request = said[ask.start():] if ask and ask.start() > 0 else said
        commands = (prune_by_cues(request, everything, found) if self.prune
                    else everything)[: self.max_commands]
        if not commands:
            return self._pass(previous, "refers to nothing this home can control", [])
        pruned = len(everything) - len(commands)
        options = [*commands, NOT_A_COMMAND]
        try:
            scores = self.ranker.scores(said, options)
        except HearthError as exc:  # the model is missing or broken: the route goes on without it
            return self._pass(previous, f"the local LLM is unavailable ({exc.code})", [])
        probs = _softmax(scores)
        ranked = sorted(zip(options, probs, strict=True), key=lambda cp: -cp[1])
        shown = [c.as_candidate(p) for c, p in ranked[:6]]
        best, p_best = ranked[0]
        why = f"{len(commands)} valid commands" + (f" ({pruned} ruled out by the request's words)"
                                                   if pruned else "")
        top, p_top = next((c, p) for c, p in ranked if c.intent is not None)
        same_action = [(c, p) for c, p in ranked if c.action == top.action and c.group != top.group]
        p_action = p_top + sum(p for _, p in same_action)
        p_none = dict((c.phrase, p) for c, p in ranked)[NOT_A_COMMAND.phrase]
        real = [c for c in commands if c.intent is not None]
        # the words name the action and the kind of device, and every command left does it
        said_so = bool(real) and len({c.action for c in real}) == 1 \
            and explicit(request, real[0], found) and p_action >= self.explicit_confidence
        if same_action and (p_action > p_none or said_so) and self._ambiguous(
                found, targets, top, same_action[0][1], p_top):
            # the request is a command (all devices together beat "none"), the device is open
            return self._clarify(top, [c for c, _ in same_action], targets, p_action, shown)
        threshold = self.min_confidence
        if (best.intent is None or p_best < self.min_confidence) and len(real) == 1 and said_so:
            # the words name the one thing to do; the model only doubted it was a request
            best, p_best, threshold = top, p_top, self.explicit_confidence
            why += "; the request's words name it"
        if best.intent is None:
            return self._pass(previous, f"the local LLM judged it not a home command "
                                        f"(p={p_best:.2f} among {why})", shown)
        if p_best < threshold:
            return self._pass(previous, f"the local LLM is not sure (best {best.phrase!r}, "
                                        f"p={p_best:.2f} < {threshold:.2f}, {why})", shown)
        assert best.intent is not None
        decision = self.handlers.handle(best.intent, dict(best.slots), area)
        handled_by = decision.handled_by if decision.handled_by != "local" else "local_llm"
        return replace(decision, handled_by=handled_by, confidence=round(p_best, 3),
                       candidates=tuple(shown),
                       reason=f"the local LLM chose {best.phrase!r} (p={p_best:.2f}, {why})"
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
        verb = _VERBS.get(best.action.split(":")[0], "")
        question = (f"Which {noun}" + (f" should I {verb}" if verb else "") + " — "
                    + ", ".join(names[:-1]) + " or " + names[-1] + "?")
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


_VERBS = VOCABULARY.verbs


def _question_noun(targets: Sequence[Target]) -> str:
    domains = {t.domain for t in targets}
    nouns = VOCABULARY.question_nouns
    return nouns.get(next(iter(domains)), "one") if len(domains) == 1 else "one"


def _softmax(xs: Sequence[float]) -> list[float]:
    m = max(xs)
    exps = [math.exp(x - m) for x in xs]
    total = sum(exps)
    return [e / total for e in exps]
