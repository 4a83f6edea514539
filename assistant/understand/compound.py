"""Several commands in one sentence: where to split, and how to tell back the parts.

"turn on the hallway light and open the garage" is two commands; "turn the kitchen and
hallway lights on" is one on two targets, and "black and white" is no join at all. A
sentence is split at a join word (data: ``compound.joins``) only where the words on each
side are a command of their own: a direction, a command verb or a value said, and
something to act on (a device, room or kind of device this home knows, or "it"); so a
value stays with the half that says it ("heating to twenty one and close the blinds").
Each part is then decided on its own, in order (so "... and make it blue" finds what the
first part acted on), and :func:`combine` says which parts were done, asked about or not
done. A bare name after "and" ("turn off the desk lamp and the floor lamp") is more of
the same request: it becomes its own part, "and the floor lamp", which the conversation memory resolves.
"""

from __future__ import annotations

import re
from dataclasses import replace

from assistant.understand.candidates import CommandSpace, words
from assistant.understand.registry import Registry
from assistant.understand.result import Decision, HandledBy
from assistant.understand.said import MAX_TOKENS, Said

_SAME = frozenset({"and", "as well as", "plus"})
"""Joins after which a bare name is more of the same request (not "then")."""


class Splitter:
    """Splits one home's sentences into the commands they hold."""

    def __init__(self, space: CommandSpace, registry: Registry) -> None:
        self.space = space
        self.registry = registry
        vocab = registry.vocab
        joins = sorted(vocab.joins, key=len, reverse=True)
        words = [(r"\b" if j[:1].isalnum() else "") + re.escape(j).replace(r"\ ", r"\s+")
                 for j in joins]
        self._join = re.compile(r"\s*(?:" + "|".join(words) + r")(?![\w'])\s*", re.IGNORECASE)
        self._domains = (None, *vocab.domain_directions)

    def split(self, text: str) -> list[str]:
        """The commands in ``text``, in order (one item when it holds one command)."""
        if len(text.split()) > MAX_TOKENS or not self._join.search(text):
            return [text]
        joins = [m for m in self._join.finditer(text) if m.start() > 0 and m.end() < len(text)]
        parts: list[str] = []
        start = 0
        for k, m in enumerate(joins):
            left = text[start:m.start()]
            right_end = joins[k + 1].start() if k + 1 < len(joins) else len(text)
            right = text[m.end():right_end]
            if self.stands_alone(left) and self.stands_alone(right):
                parts.append(left.strip(" ,;"))
                start = m.end()
            elif m.group(0).strip(" ,") in _SAME and self.stands_alone(left) \
                    and self._more_of_the_same(left, right):
                parts.append(left.strip(" ,;"))  # "turn off the desk lamp and the floor lamp"
                parts.append("and " + right.strip(" ,;"))  # the same request: a follow-up
                start = right_end
        parts.append(text[start:].strip(" ,;"))
        parts = [p for p in parts if p]
        return parts if 1 < len(parts) <= self.registry.vocab.max_parts else [text]

    def _more_of_the_same(self, left: str, right: str) -> bool:
        """``right`` only names more of what ``left`` acts on: devices after a device,
        rooms after a kind in a room ("the lights off in the kitchen and the bathroom")."""
        said = Said(right, self.registry.vocab)
        if any(said.hits(d) for d in self._domains) or set(said.tokens) & self.registry.vocab.command_verbs:
            return False
        there, here = self.space.retrieve(right), self.space.retrieve(left)
        if there.entities:
            if there.areas or not here.entities:
                return False
            named = {w for e in there.entities for n in e.names for w in words(n)}
        elif there.areas:
            if not (here.areas and here.domains) or here.entities:
                return False
            named = {w for a in there.areas for w in words(self.space.home.area(a).name)}
        else:
            return False
        rest = set(words(right)) - named - self.registry.vocab.filler
        return all(w.rstrip("s") in named for w in rest)

    def stands_alone(self, part: str) -> bool:
        """A command of its own: says what to do and to what."""
        vocab = self.registry.vocab
        said = Said(part, vocab)
        toks = set(said.tokens)
        hits = [h for d in self._domains for h in said.hits(d)]
        found = self.space.retrieve(part)
        named = bool(found.entities or found.areas or found.domains or found.things)
        if not hits and not toks & vocab.command_verbs:
            # "heating to twenty one": a value and what it is for are a command too
            return bool(said.values) and named
        if toks & vocab.pronouns:
            return True
        if named:
            return True
        spoken = {said.tokens[i] for h in hits for i in range(h.start, h.end)}
        return bool(toks - spoken - vocab.filler - vocab.command_verbs)  # "the sprinklers"


def combine(parts: list[str], decisions: list[Decision]) -> Decision:
    """One decision for several commands: every part's actions, the sensitive ones still
    waiting for their yes, and a reply that says what became of each part."""
    actions = tuple(a for d in decisions for a in d.actions)
    pending = tuple(a for d in decisions for a in d.pending)
    replies = []
    for part, d in zip(parts, decisions, strict=True):
        if d.handled_by in ("unhandled", "refused"):
            replies.append(f'"{part}": {d.reply}' if d.reply else f'I didn\'t do "{part}".')
        else:
            replies.append(d.reply)
    acting = [d for d in decisions if d.actions or d.pending]
    handled_by: HandledBy
    if pending:
        handled_by = "confirm"
    elif actions:
        handled_by = next(d.handled_by for d in decisions if d.actions)
    elif any(d.handled_by == "clarify" for d in decisions):
        handled_by = "clarify"
    else:
        handled_by = decisions[0].handled_by
    first = acting[0] if acting else decisions[0]
    summary = "; ".join(f"[{i + 1}] {p!r} -> {d.handled_by}" + (f" ({d.reason})" if d.reason else "")
                        for i, (p, d) in enumerate(zip(parts, decisions, strict=True)))
    return replace(first, handled_by=handled_by, reply=" ".join(r for r in replies if r),
                   actions=actions, pending=pending,
                   confidence=min(d.confidence for d in decisions),
                   candidates=tuple(c for d in decisions for c in d.candidates),
                   expects_reply=bool(pending) or any(d.expects_reply for d in decisions),
                   left_device=any(d.left_device for d in decisions),
                   reason=f"{len(parts)} commands in one: {summary}", parts=tuple(decisions),
                   privacy=next((d.privacy for d in reversed(decisions) if d.privacy), None))
