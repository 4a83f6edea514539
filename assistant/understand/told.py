"""Questions and remarks are not commands, whoever proposed an action for them.

"Have we left the porch door unlocked?" asks for the door's state: whatever a matcher or
the local LLM proposed for it (unlock it, lock it), the answer is the state of the devices
it named, and nothing is changed. "The guests left the lamp on" tells what happened: the
lamp is left as it is, and the reply says so. The words are read by :mod:`said` (the
question starts, the past-tense words of the vocabulary).
"""

from __future__ import annotations

from dataclasses import replace

from assistant.understand.candidates import CommandSpace
from assistant.understand.intents import IntentHandlers
from assistant.understand.result import Decision
from assistant.understand.said import Words

MAX_ANSWERED = 4
"""A question about more devices than this is too vague to answer by listing them."""


class Told:
    """Turns a proposed action for a question into an answer, and for a remark into nothing."""

    def __init__(self, handlers: IntentHandlers, space: CommandSpace, words: Words) -> None:
        self.handlers = handlers
        self.space = space
        self.words = words

    def instead(self, decision: Decision, text: str, area: str | None) -> Decision | None:
        """What to say instead of ``decision`` for ``text``, or None when it is a request."""
        said = self.words(text)
        acting = [a.entity_id for a in (*decision.actions, *decision.pending)]
        if said.question:
            if not acting and decision.handled_by != "unhandled":
                return None  # already an answer (or a question back)
            ids = acting or self._named(text, area)
            if not ids or len(set(ids)) > MAX_ANSWERED:
                return None
            answer = self.handlers.handle("HassGetState", {"name": list(dict.fromkeys(ids))}, area)
            if answer.handled_by == "unhandled":
                return None
            return replace(answer, reason="a question about the state of what it names; "
                           "nothing is changed for a question"
                           + (f" (proposed: {decision.reason})" if acting and decision.reason else ""))
        if acting and said.narrative:
            names = sorted({self.handlers.home.entity(i).name for i in acting})
            return Decision("local", f"Okay, I've left the {' and the '.join(names)} as "
                            f"{'it is' if len(names) == 1 else 'they are'}.",
                            confidence=decision.confidence,
                            reason="a remark about what happened, not a request; nothing is changed"
                            + (f" (proposed: {decision.reason})" if decision.reason else ""))
        return None

    def _named(self, text: str, area: str | None) -> list[str]:
        """The devices a question names ("did we leave the kiln on?": the kiln)."""
        found = self.space.retrieve(text)
        if found.entities:
            return [e.entity_id for e in found.entities]
        return [e.entity_id for t in self.space.targets(found, area) for e in t.entities]
