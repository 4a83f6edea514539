"""Route an utterance to the cheapest path that understands it.

1. templates (hassil) — exact, ~ms;
2. the local LLM (constrained to the home's real entities and services);
3. the cloud, only if the privacy policy allows.
The router also owns the short conversation memory a turn needs: a pending
confirmation waiting for "yes" or "no".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from assistant.home.base import HomeBackend
from assistant.understand.intents import IntentHandlers
from assistant.understand.result import Action, Decision
from assistant.understand.templates import TemplateMatcher

if TYPE_CHECKING:
    from assistant.skills.registry import SkillRegistry

CONFIRM_WINDOW_S = 15.0


@dataclass
class Conversation:
    """What the last turn left open. Lives as long as the process (or the session)."""

    pending: tuple[Action, ...] = ()
    pending_since: float = 0.0
    last_entities: list[str] = field(default_factory=list)
    follow_up: Callable[[bool], Decision] | None = None
    """A yes/no question a fallback asked ("shall I ask the cloud?"): called with the answer."""
    follow_up_since: float = 0.0

    def take_follow_up(self, now: float) -> Callable[[bool], Decision] | None:
        follow_up, self.follow_up = self.follow_up, None
        return follow_up if now - self.follow_up_since <= CONFIRM_WINDOW_S else None

    def take_pending(self, now: float) -> tuple[Action, ...]:
        pending, self.pending = self.pending, ()
        return pending if now - self.pending_since <= CONFIRM_WINDOW_S else ()


class Fallback(Protocol):
    """A later stage of the route (the local LLM, the cloud). Returns None to pass."""

    name: str

    def decide(self, text: str, area: str | None, previous: Decision) -> Decision | None: ...


class Understander:
    """Templates, then fallbacks, for one home. Build once; call :meth:`decide` per turn."""

    def __init__(
        self,
        home: HomeBackend,
        *,
        language: str = "en",
        fallbacks: Sequence[Fallback] = (),
        skills: SkillRegistry | None = None,
    ) -> None:
        self.home = home
        self.skills = skills
        """Plugin skills: their sentences join the templates; their intents go to their handlers."""
        self.templates = TemplateMatcher(home.entities(), home.areas(), language=language,
                                         extra_sentences=skills.sentences() if skills else None)
        self.handlers = IntentHandlers(home)
        self.fallbacks = list(fallbacks)
        self.conversation = Conversation()

    def is_complete_command(self, text: str, *, area: str | None) -> bool:
        """Would this text, as it stands, match a sentence template? (For ending a turn
        early at a short pause; decides nothing and remembers nothing.)"""
        return self.templates.match(text, area=area) is not None

    def decide(self, text: str, *, area: str | None) -> Decision:
        """Understand ``text`` said in ``area``. Pure apart from the conversation memory."""
        now = time.monotonic()
        match = self.templates.match(text, area=area)
        if self.skills is not None and (answer := self.skills.interrupt(text, match)) is not None:
            return self._remember(answer, now)  # "stop" while a timer rings
        if match is not None and match.intent in ("HearthConfirm", "HearthDeny"):
            return self._answer_confirmation(match.intent == "HearthConfirm", now)
        self.conversation.pending = ()
        self.conversation.follow_up = None
        if match is None:
            decision = Decision("unhandled", "Sorry, I didn't understand that.", confidence=0.0,
                                reason="no template matched")
            for fallback in self.fallbacks:
                proposed = fallback.decide(text, area, decision)
                if proposed is not None:
                    decision = proposed
                    break
            return self._remember(decision, now)
        if self.skills is not None and self.skills.owns(match.intent):
            return self._remember(self.skills.decide(text, match, area), now)
        if not self.handlers.supports(match.intent):
            return Decision("unhandled", "Sorry, I can't do that yet.", intent=match.intent,
                            slots=match.slots, reason=f"no handler for {match.intent}")
        decision = self.handlers.handle(match.intent, match.slots, area)
        candidates = ({"intent": match.intent, "slots": match.slots, "source": "templates",
                       "score": 1.0},)
        decision = replace(decision, candidates=candidates,
                           reason=decision.reason or "a sentence template matched")
        return self._remember(decision, now)

    def _remember(self, decision: Decision, now: float) -> Decision:
        if decision.pending:
            self.conversation.pending = decision.pending
            self.conversation.pending_since = now
        targets = [a.entity_id for a in (*decision.actions, *decision.pending)]
        if targets:
            self.conversation.last_entities = targets
        return decision

    def _answer_confirmation(self, yes: bool, now: float) -> Decision:
        follow_up = self.conversation.take_follow_up(now)
        if follow_up is not None:
            return self._remember(follow_up(yes), now)
        pending = self.conversation.take_pending(now)
        intent = "HearthConfirm" if yes else "HearthDeny"
        if not pending:
            return Decision("unhandled", "There's nothing waiting for a yes or no.", intent=intent,
                            reason="no pending confirmation")
        if not yes:
            return Decision("local", "Okay, I won't.", intent=intent, reason="confirmation declined")
        return Decision("local", "Done.", intent=intent, actions=pending,
                        reason="confirmed by the user")
