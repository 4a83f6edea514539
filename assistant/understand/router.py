"""Route an utterance to the cheapest path that understands it.

1. templates (hassil) — exact, ~ms;
2. the local LLM (constrained to the home's real entities and services);
3. the cloud, only if the privacy policy allows.
The router also owns the short conversation memory a turn needs: a pending
confirmation waiting for "yes" or "no", the last devices (for "turn it off", "a bit
brighter", "and the bedroom too", "no, the other one") and a question waiting for its
answer — persisted by :mod:`assistant.understand.context` so processes share it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from assistant import limits
from assistant.home.base import HomeBackend
from assistant.stages import Stage, StageWatch, unwatched
from assistant.understand.candidates import CommandSpace, strip_address, words
from assistant.understand.compound import Splitter, combine
from assistant.understand.context import FollowUps, Resolved
from assistant.understand.direction import DirectionCheck
from assistant.understand.intents import IntentHandlers
from assistant.understand.memory import ConversationMemory, Memory, alternatives_for, snapshot
from assistant.understand.result import Decision
from assistant.understand.templates import TemplateMatcher
from assistant.understand.told import Told

if TYPE_CHECKING:
    from assistant.understand.skill_port import SkillRouting

log = logging.getLogger(__name__)

CONFIRM_WINDOW_S = 15.0
_ELLIPSIS = re.compile(r"^(?:and|also|what about|how about)\b|\b(?:too|as well|also)$")
"""How a follow-up on another device is marked ("and the bedroom too")."""


@dataclass
class Conversation:
    """One room's (or satellite's) conversation in this process: what its last turn left
    open that cannot be persisted (a callable), and the utterance being understood.
    The persisted part (pending actions, last devices) is :class:`ConversationMemory`'s,
    under the same ``key``."""

    key: str = "default"
    follow_up: Callable[[bool], Decision] | None = None
    """A yes/no question a fallback asked ("shall I ask the cloud?"): called with the answer."""
    follow_up_since: float = 0.0
    utterance: str = ""
    """The utterance being understood as it was said (capitals kept): the cloud stage
    sends it on, and redaction needs the capitals ("Will" the name, "will" the verb)."""

    def take_follow_up(self, now: float) -> Callable[[bool], Decision] | None:
        follow_up, self.follow_up = self.follow_up, None
        return follow_up if now - self.follow_up_since <= CONFIRM_WINDOW_S else None


class Conversations:
    """The conversation store, keyed by room or satellite: two rooms never share a
    follow-up, and a turn in one never waits for a turn in the other."""

    def __init__(self) -> None:
        self._by_key: dict[str, Conversation] = {}
        self._lock = threading.Lock()

    def get(self, key: str = "default") -> Conversation:
        with self._lock:
            conversation = self._by_key.get(key)
            if conversation is None:
                conversation = self._by_key[key] = Conversation(key=key)
            return conversation


class Fallback(Protocol):
    """A later stage of the route (the local LLM, the cloud). Returns None to pass."""

    name: str

    def decide(self, text: str, area: str | None, previous: Decision,
               conversation: Conversation | None = None) -> Decision | None: ...


class Understander:
    """Templates, then fallbacks, for one home. Build once; call :meth:`decide` per turn."""

    def __init__(
        self,
        home: HomeBackend,
        *,
        language: str = "en",
        fallbacks: Sequence[Fallback] = (),
        skills: SkillRouting | None = None,
        memory: ConversationMemory | None = None,
    ) -> None:
        self.home = home
        self.skills = skills
        """Plugin skills: their sentences join the templates; their intents go to their handlers."""
        self.templates = TemplateMatcher(home.entities(), home.areas(), language=language,
                                         extra_sentences=skills.sentences() if skills else None)
        self.handlers = IntentHandlers(home)
        self.fallbacks = list(fallbacks)
        self.conversations = Conversations()
        self.memory = memory or ConversationMemory(None)
        self.space = CommandSpace(home)
        self.follow_ups = FollowUps(home, self.space, self._match_slots)
        self.direction = DirectionCheck(home)
        """The last check: every action's direction and values against the words said."""
        self.splitter = Splitter(self.space, self.direction.registry)
        self.told = Told(self.handlers, self.space, self.direction.words)
        """A question is answered and a remark left, whatever was proposed for them."""
        self._names = (tuple(home.entities()), tuple(home.areas()))
        self._home_changed = threading.Event()
        self._refreshing = threading.Lock()
        self.names_listeners: list[Callable[[], None]] = []
        """Called after the home's names changed (the speech-to-text prompt follows them)."""
        home.add_listener(lambda _entity_id: self._home_changed.set())

    @property
    def conversation(self) -> Conversation:
        """The device's own conversation (``hearth ask``, the microphone)."""
        return self.conversations.get()

    def _refresh_names(self) -> None:
        """Devices discovered, renamed or removed since the last turn join the templates and
        the local LLM's commands now (hassil's parsed sentences are kept: this is cheap)."""
        if not self._home_changed.is_set():
            return
        with self._refreshing:
            self._home_changed.clear()
            names = (tuple(self.home.entities()), tuple(self.home.areas()))
            if names == self._names:
                return  # only a state changed
            self._names = names
            self.templates.set_names(list(names[0]), list(names[1]))
            spaces = [self.space, *(getattr(f, "space", None) for f in self.fallbacks)]
            for space in {id(s): s for s in spaces if isinstance(s, CommandSpace)}.values():
                space.reindex()
        log.info("the home's names changed: %d entities, %d areas", len(names[0]), len(names[1]))
        for listener in self.names_listeners:
            try:
                listener()
            except Exception:
                log.exception("a listener to the home's names failed")

    def _match_slots(self, text: str, area: str | None) -> tuple[str, dict[str, object]] | None:
        match = self.templates.match(text, area=area)
        return (match.intent, match.slots) if match is not None else None

    def forget(self, room: str = "default") -> None:
        """Start a fresh conversation (nothing pending, no last turn)."""
        self.memory.clear(room)
        self.conversations.get(room).follow_up = None

    def is_complete_command(self, text: str, *, area: str | None) -> bool:
        """Would this text, as it stands, match a sentence template? (For ending a turn
        early at a short pause; decides nothing and remembers nothing.)"""
        self._refresh_names()
        return self.templates.match(text, area=area) is not None

    def decide(self, text: str, *, area: str | None, room: str = "default",
               watch: StageWatch = unwatched) -> Decision:
        """Understand ``text`` said in ``area``. Pure apart from ``room``'s conversation:
        turns in different rooms may run at the same time. ``watch`` times the stages that
        run inside understanding (a skill, the cloud)."""
        conv = self.conversations.get(room)
        conv.utterance = text
        if (too_long := limits.too_long_to_understand(text)) is not None:  # no matcher sees it
            return Decision("unhandled", "Sorry, that's too long for me to take in as one request.",
                            confidence=0.0, reason=f"too long to understand: {too_long}")
        self._refresh_names()
        now = time.monotonic()
        text = strip_address(text)  # "olly, turn on the light": a wake name left in the transcript
        said = self.direction.words(text)  # "open it, don't close it"; "don't open it, close it"
        text = said.restated() or said.corrected() or text
        parts = self.splitter.split(text)
        if len(parts) > 1:  # "turn on the hallway light and open the garage": each is decided
            decisions = []
            for part in parts:
                decisions.append(self._decide(part, area, now, conv, watch))
                self._drop_question(room)  # the next part is a command, not an answer to this one
            return self._remember(combine(parts, decisions), now, None, area, room)
        return self._decide(text, area, now, conv, watch)

    def _decide(self, text: str, area: str | None, now: float, conv: Conversation,
                watch: StageWatch = unwatched) -> Decision:
        room = conv.key
        memory = self.memory.load(room).said_in(area)
        match = self.templates.match(text, area=area)

        def check(decision: Decision, words: str) -> Decision:
            told = self.told.instead(decision, words, area)
            checked = told if told is not None else self.direction.check(decision, words)
            return replace(checked, privacy=checked.privacy or decision.privacy)  # what left stays told

        if self.skills is not None and (answer := self.skills.interrupt(text, match)) is not None:
            return self._remember(check(answer, text), now, memory, area, room)  # "stop" while a timer rings
        if match is not None and match.intent in ("HearthConfirm", "HearthDeny"):
            return self._answer_confirmation(match.intent == "HearthConfirm", now, memory, room)
        conv.follow_up = None
        resolved = self._follow_up(text, area, memory, match is not None)
        if resolved is not None:
            return self._remember(check(self._resolved(resolved, area), text), now, memory, area, room)
        if match is None:
            decision = Decision("unhandled", "Sorry, I didn't understand that.", confidence=0.0,
                                reason="no template matched")
            for fallback in self.fallbacks:
                if time.monotonic() - now > limits.TURN_BUDGET_S:  # stopped, and answered
                    decision = Decision("unhandled", "Sorry, that took me too long.", confidence=0.0,
                                        reason=f"{decision.reason}; over the turn's budget of "
                                        f"{limits.TURN_BUDGET_S:g} s before {fallback.name}")
                    break
                stage: Stage | None = getattr(fallback, "stage", None)  # the cloud is its own
                with watch(stage) if stage is not None else nullcontext():
                    proposed = fallback.decide(text, area, decision, conv)
                if proposed is not None:
                    decision = proposed
                    if proposed.handled_by != "unhandled":
                        break  # an "unhandled" proposal passes on, saying why
            asked = conv.follow_up
            if asked is not None:  # "shall I ask the cloud?": its answer is checked against these words
                conv.follow_up = lambda yes: check(asked(yes), text)
            return self._remember(check(decision, text), now, memory, area, room)
        if self.skills is not None and self.skills.owns(match.intent):
            with watch(Stage.SKILL):
                owned = self.skills.decide(text, match, area)
            return self._remember(check(owned, text), now, memory, area, room)
        if not self.handlers.supports(match.intent):
            return Decision("unhandled", "Sorry, I can't do that yet.", intent=match.intent,
                            slots=match.slots, reason=f"no handler for {match.intent}")
        # No area slot: the sentence did not mean "here" (e.g. "all the lights in the house").
        decision = self.handlers.handle(match.intent, match.slots,
                                        area if "area" in match.slots else None)
        candidates = ({"intent": match.intent, "slots": match.slots, "source": "templates",
                       "score": 1.0},)
        decision = replace(decision, candidates=decision.candidates or candidates,  # a question's own
                           reason=decision.reason or "a sentence template matched")
        return self._remember(check(decision, text), now, memory, area, room)

    def _drop_question(self, room: str) -> None:
        memory = self.memory.load(room)
        if memory.question:
            memory.question, memory.question_at = [], 0.0
            self.memory.save(memory, room)

    def _follow_up(self, text: str, area: str | None, memory: Memory, matched: bool) -> Resolved | None:
        """An answer to the last question, or a follow-up on the last turn ("turn it off")."""
        short = len(words(text)) <= 4
        if memory.question and (not matched or short):
            answer = self.follow_ups.answer(text, memory)
            if answer is not None:
                return answer
        found = self.space.retrieve(text)
        if matched and (found.entities or found.areas) and not (
                memory.last_entities and _ELLIPSIS.search(" ".join(words(text)))):
            return None  # a whole command naming its device ("supper time" after a climate step)
        return self.follow_ups.resolve(text, memory, area)

    def _resolved(self, resolved: Resolved, area: str | None) -> Decision:
        if not self.handlers.supports(resolved.intent):
            return Decision("unhandled", "Sorry, I can't do that yet.", intent=resolved.intent,
                            reason=f"no handler for {resolved.intent}")
        decision = self.handlers.handle(resolved.intent, dict(resolved.slots), area)
        undo = tuple(a for a in resolved.undo
                     if not self.home.entity(a.entity_id).sensitive) if decision.actions else ()
        return replace(decision, actions=(*undo, *decision.actions),
                       reply=("Okay, not that one. " if undo else "") + decision.reply,
                       candidates=({"intent": resolved.intent, "slots": dict(resolved.slots),
                                    "source": "context", "score": 1.0},),
                       reason=f"follow-up: {resolved.reason}"
                       + (f"; {decision.reason}" if decision.reason else ""))

    def _remember(self, decision: Decision, now: float, memory: Memory | None = None,
                  area: str | None = None, room: str = "default") -> Decision:
        targets = [a.entity_id for a in (*decision.actions, *decision.pending)]
        if memory is None:
            memory = self.memory.load(room)
        wall = self.memory.clock()
        memory.turn_area = area
        memory.pending = [a.as_dict() for a in decision.pending]
        memory.pending_at = wall if decision.pending else 0.0
        if decision.handled_by == "clarify":
            memory.question = [dict(c) for c in decision.candidates if c.get("intent")]
            if decision.intent in ("HearthLightColorAsk", "HassLightSet") and len(memory.question) <= 1:
                # "Which colour would you like?" keeps its target; the answer names the colour
                memory.question = [{"intent": "HassLightSet", "label": "", "needs": "color",
                                    "slots": {k: v for k, v in decision.slots.items() if k != "color"}}]
            memory.question_at = wall
        else:
            memory.question, memory.question_at = [], 0.0
        if targets:
            memory.last_intent, memory.last_slots = decision.intent, dict(decision.slots)
            memory.last_entities, memory.last_area, memory.last_at = targets, area, wall
            memory.alternatives = alternatives_for(decision, self.home, targets)
            memory.before = snapshot(self.home, targets)
        self.memory.save(memory, room)
        return decision

    def _answer_confirmation(self, yes: bool, now: float, memory: Memory | None = None,
                             room: str = "default") -> Decision:
        follow_up = self.conversations.get(room).take_follow_up(now)
        if follow_up is not None:
            return self._remember(follow_up(yes), now, room=room)
        memory = memory if memory is not None else self.memory.load(room)
        pending = memory.pending_actions()  # expired ones are already gone
        memory.pending, memory.pending_at = [], 0.0
        memory.question, memory.question_at = [], 0.0
        self.memory.save(memory, room)
        intent = "HearthConfirm" if yes else "HearthDeny"
        if not pending:
            if not yes:  # "no" / "never mind" with nothing waiting
                return Decision("local", "Okay.", intent="HassNevermind", reason="nothing pending")
            return Decision("unhandled", "There's nothing waiting for a yes or no.", intent=intent,
                            reason="no pending confirmation")
        if not yes:
            return Decision("local", "Okay, I won't.", intent=intent, reason="confirmation declined")
        return Decision("local", "Done.", intent=intent, actions=pending,
                        reason="confirmed by the user")
