"""Questions and remarks are not commands, whoever proposed an action for them.

"Have we left the porch door unlocked?" asks for the door's state: whatever a matcher or
the local LLM proposed for it (unlock it, lock it), the answer is the state of the devices
it named, and nothing is changed. "The guests left the lamp on" tells what happened: the
lamp is left as it is, and the reply says so. The words are read by :mod:`said` (the
question starts, the past-tense words of the vocabulary).
"""

from __future__ import annotations

from dataclasses import replace

from assistant.understand.candidates import CLASS_WORDS, CommandSpace, words
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
            ids = list(dict.fromkeys(self._named(text, area, exact=True) or acting
                                     or self._named(text, area)))
            if not ids or len(ids) > MAX_ANSWERED:
                return None
            answer = self.handlers.handle("HassGetState", {"name": ids[0] if len(ids) == 1 else ids},
                                          area)
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

    def _named(self, text: str, area: str | None, *, exact: bool = False) -> list[str]:
        """The devices a question names ("did we leave the kiln on?": the kiln); ``exact``:
        only those named by a whole name, which win over what a proposer guessed."""
        found = self.space.retrieve(text)
        classes = {c for w in words(text) for c in CLASS_WORDS.get(w, ())}
        where: list[str | None] = [*found.areas] or [area]
        of_class = [e.entity_id for e in self.space.home.entities()
                    if classes and e.device_class in classes and e.area in where]
        if of_class:  # "is the window in the cedar suite open": that room's window
            return of_class
        if found.entities:
            return [e.entity_id for e in found.entities if not exact or e not in found.partial]
        if exact:
            return []
        return [e.entity_id for t in self.space.targets(found, area) for e in t.entities]
