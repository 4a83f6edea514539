"""What the words of an utterance say, read with the registry's vocabulary: the
directions said (negation-aware: "don't turn it off", "not on, off"), whether it asks
rather than commands, and the values said ("eighteen degrees", "full brightness").

Nothing here knows a device; :mod:`assistant.understand.direction` holds actions
against it. Cost is linear in the input (phrases are indexed by their first word) and
capped at :data:`MAX_TOKENS` words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from assistant.understand import vocabulary
from assistant.understand.registry import Vocabulary

MAX_TOKENS = 400
GAP = 3
"""How many words ``*`` in a phrase stands for at most."""
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+(?:'[a-z]+)?|[%°,;.!?]")


def tokens(text: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(text.lower().replace("’", "'")))[:MAX_TOKENS]


@dataclass(frozen=True)
class Hit:
    """A direction said by the words ``start:end``."""

    direction: str
    start: int
    end: int
    negated: bool = False


@dataclass(frozen=True)
class Value:
    """A value said: a number with its unit (``percent``, ``degrees``, ``share`` — a share of
    a level's range, from "full" or "half" — or ``bare`` after "to"/"at")."""

    number: float
    unit: str
    change: int = 0
    """+1 / -1: a change by that much, not a level ("up two degrees", "by 10 percent")."""


Pattern = tuple[str, ...]


@dataclass(frozen=True)
class _Phrases:
    """Phrases by their first word, longest first (a phrase is a direction's words)."""

    by_first: dict[str, tuple[tuple[Pattern, str, bool], ...]]
    """first word -> (phrase, direction, is a condition word)"""


def _compile(table: dict[str, tuple[str, ...]], *,
             condition: bool = False) -> dict[str, list[tuple[Pattern, str, bool]]]:
    out: dict[str, list[tuple[Pattern, str, bool]]] = {}
    for direction, phrases in table.items():
        for phrase in phrases:
            pattern = tuple(phrase.lower().split()) if "*" in phrase else tokens(phrase)
            if pattern:
                out.setdefault(pattern[0], []).append((pattern, direction, condition))
    return out


@cache
def _phrases(vocab: Vocabulary, domain: str | None) -> _Phrases:
    merged = _compile(vocab.directions)
    if domain is not None:
        own = _compile(vocab.domain_directions.get(domain, {}))
        for first, pats in _compile(vocab.conditions.get(domain, {}), condition=True).items():
            own[first] = own.get(first, []) + pats
        for first, pats in own.items():
            merged[first] = pats + merged.get(first, [])  # the kind's own words win ties
    ranked = {first: tuple(sorted(pats, key=lambda p: -sum(t != "*" for t in p[0])))
              for first, pats in merged.items()}
    return _Phrases(ranked)


def _match(pattern: Pattern, toks: tuple[str, ...], i: int) -> int | None:
    """The end of ``pattern`` matched at ``toks[i]``, or None."""
    j = i
    for k, p in enumerate(pattern):
        if p == "*":
            rest = pattern[k + 1:]
            for gap in range(GAP + 1):
                end = _match(rest, toks, j + gap) if rest else j + gap
                if end is not None and end <= len(toks):
                    return end
            return None
        if j >= len(toks) or toks[j] != p:
            return None
        j += 1
    return j


def _starts(toks: tuple[str, ...], i: int, phrase: str) -> bool:
    words = phrase.split()
    return tuple(toks[i:i + len(words)]) == tuple(words)


def _ends(toks: tuple[str, ...], end: int, phrase: str) -> bool:
    words = phrase.split()
    return end - len(words) >= 0 and tuple(toks[end - len(words):end]) == tuple(words)


@cache
def _by_length(vocab: Vocabulary) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(((p, n) for n, ps in vocab.shares.items() for p in ps),
                        key=lambda pn: -len(pn[0].split())))


class Said:
    """The words of one utterance, read for directions and values."""

    def __init__(self, text: str, vocab: Vocabulary,
                 opposites: dict[str, frozenset[str]] | None = None) -> None:
        self.text = text
        self.vocab = vocab
        self.opposites = opposites or {}
        """A complaint says the opposite ("too dim" wants it brighter) when there is one."""
        self.tokens = tokens(text)
        self._hits: dict[str | None, tuple[Hit, ...]] = {}
        self.values = self._values()

    # --- directions ---------------------------------------------------------------

    def hits(self, domain: str | None = None) -> tuple[Hit, ...]:
        """The directions said, read with the shared words and those of ``domain``."""
        if domain not in self._hits:
            self._hits[domain] = self._find(domain)
        return self._hits[domain]

    def affirmed(self, domain: str | None = None) -> set[str]:
        return {h.direction for h in self.hits(domain) if not h.negated}

    def negated(self, domain: str | None = None) -> set[str]:
        return {h.direction for h in self.hits(domain) if h.negated}

    def _find(self, domain: str | None) -> tuple[Hit, ...]:
        toks = self.tokens
        table = _phrases(self.vocab, domain).by_first
        used = [False] * len(toks)
        found: list[Hit] = []
        for i, tok in enumerate(toks):
            if used[i]:
                continue
            for pattern, direction, condition in table.get(tok, ()):
                end = _match(pattern, toks, i)
                if end is None or any(used[i:end]) or not self._particle_ok(pattern, i, end):
                    continue
                used[i:end] = [True] * (end - i)
                flipped = self.opposites.get(direction, frozenset())
                if not condition and i and toks[i - 1] in self.vocab.complaints and len(flipped) == 1:
                    found.append(Hit(next(iter(flipped)), i, end))  # "too dim": brighter
                else:
                    found.append(Hit(direction, i, end, self._is_negated(i, condition)))
                break
        return tuple(found)

    def _particle_ok(self, pattern: Pattern, i: int, end: int) -> bool:
        """A bare "on"/"up"/"down" is a direction, not a preposition or a place."""
        if len(pattern) != 1 or pattern[0] not in self.vocab.particles:
            return True
        rules = self.vocab.particles[pattern[0]]
        toks = self.tokens
        if any(_starts(toks, end, p) for p in rules.get("not_before", ())):
            return False
        return not (i and toks[i - 1] in rules.get("not_after", ()))

    def _is_negated(self, start: int, condition: bool = False) -> bool:
        toks = self.tokens
        if not condition and start and toks[start - 1] in self.vocab.complaints:
            return True
        for end in range(start, max(0, start - self.vocab.negation_window) - 1, -1):
            if any(_ends(toks, end, n) for n in self.vocab.negators):
                return True
            if end and toks[end - 1] in self.vocab.negation_breaks:
                return False
        return False

    def restated(self) -> str | None:
        """The request without a last clause that only says its opposite is not wanted
        ("turn on the lamp not off", "open the blind, don't close it"), or None."""
        hits = self.hits()
        if len(hits) < 2 or not hits[-1].negated:
            return None
        last, toks, vocab = hits[-1], self.tokens, self.vocab
        asked = {h.direction for h in hits[:-1] if not h.negated}
        tail = vocab.pronouns | vocab.filler
        if not asked & self.opposites.get(last.direction, frozenset()) \
                or any(t not in tail for t in toks[last.end:]):
            return None
        start = next((k for k in range(last.start - 1, max(-1, last.start - vocab.negation_window - 1), -1)
                      if any(_starts(toks, k, n) for n in vocab.negators)), None)
        if start is None:
            return None
        while start and toks[start - 1] in vocab.negation_breaks:
            start -= 1  # ", not off" / "and not off"
        offsets = [m.start() for m in _TOKEN.finditer(self.text.lower().replace("’", "'"))]
        kept = self.text[:offsets[start]].rstrip(" ,;") if start < len(offsets) else ""
        return kept or None

    def corrected(self) -> str | None:
        """The request a correction in the same breath leaves ("don't turn on the lamp, turn
        it off": turn off the lamp; "the lamp off, wait, no, on": the lamp on), or None.
        Only when the later direction is the earlier one's opposite and nothing but "it",
        "them" or filler follows it, so the device is the one the first clause named."""
        hits, toks, vocab = self.hits(), self.tokens, self.vocab
        tail = vocab.pronouns | vocab.filler
        for k, first in enumerate(hits):
            later = [h for h in hits[k + 1:] if not h.negated
                     and h.direction in self.opposites.get(first.direction, frozenset())]
            if not later or any(t not in tail for t in toks[later[-1].end:]):
                continue
            last = later[-1]
            between = toks[first.end:last.start]
            breaks = [i for i, t in enumerate(between) if t in vocab.clause_breaks]
            if not breaks:
                continue
            if not first.negated and not set(between) & vocab.corrections:
                continue  # two directions, not a correction ("on ... and off")
            clause_end = first.end + breaks[0]
            start = max((i + 1 for i in range(first.start) if toks[i] in vocab.clause_breaks), default=0)
            head: list[str] = []
            for begin in (start, 0):  # "the pendant, not on, off": the device is a clause back
                head = [t for i, t in enumerate(toks[begin:first.end - 1], begin)
                        if not any(_ends(toks, i + 1, n) or _starts(toks, i, n) for n in vocab.negators)]
                if set(head) - tail - vocab.clause_breaks:
                    break
            words = [*head, toks[last.end - 1], *toks[first.end:clause_end]]
            kept = " ".join(t for t in words if t not in vocab.clause_breaks)
            return kept or None
        return None

    @property
    def question(self) -> bool:
        """Asked about ("is the front door locked?"), not a request ("is it possible to...")."""
        text = " ".join(t for t in self.tokens if t.isalnum() or "'" in t)
        if not any(text == s or text.startswith(s + " ") for s in self.vocab.question_starts):
            return False
        return not any(f" {r} " in f" {text} " for r in self.vocab.question_requests)

    def says(self, phrases: tuple[str, ...]) -> bool:
        """Is one of ``phrases`` said, word for word?"""
        toks = self.tokens
        return any(_starts(toks, i, phrase) for phrase in phrases for i in range(len(toks)))

    @property
    def narrative(self) -> bool:
        """Told, not asked for ("the guests left the lamp on", "my son turned the fan off"):
        a word of the past after its subject and before any direction said, and no clause
        that starts as a request ("..., can you turn it off"). A clause that starts with the
        word ("left reading light on") is not told: that is a name or a terse request."""
        lexicon = vocabulary.load(self.vocab.language)
        toks = self.tokens
        first_hit = min((h.start for h in self.hits()), default=len(toks))
        if not any(t in lexicon.past and i and toks[i - 1] not in self.vocab.clause_breaks
                   for i, t in enumerate(toks[:first_hit])):
            return False
        starts = {h.start for h in self.hits()}
        clause = True
        for i, tok in enumerate(toks):
            if tok in self.vocab.clause_breaks:
                clause = True
            elif clause and tok not in self.vocab.lead_ins:
                if i in starts or tok in lexicon.change_verbs:
                    return False  # "..., can you turn it off": a request after all
                clause = False
        return True

    # --- values -------------------------------------------------------------------

    def _number(self, i: int) -> tuple[float, int] | None:
        """A number said at ``tokens[i]`` ("18", "eighteen", "twenty one", "21.5",
        "eighteen and a half", "a hundred") and where it ends."""
        toks, vocab = self.tokens, self.vocab
        value: float | None = None
        end = i
        for phrase, n in sorted(vocab.numbers.items(), key=lambda kv: -len(kv[0].split())):
            if _starts(toks, i, phrase):
                value, end = float(n), i + len(phrase.split())
                break
        if value is None and i < len(toks) and re.fullmatch(r"\d+(?:\.\d+)?", toks[i]):
            value, end = float(toks[i]), i + 1
        if value is None:
            return None
        if 20 <= value < 100 and value % 10 == 0 and end < len(toks):  # "twenty one"
            unit = vocab.numbers.get(toks[end])
            if unit is not None and 0 < unit < 10:
                value, end = value + unit, end + 1
        if end < len(toks) and toks[end] == "hundred" and value < 100:  # "twenty seven hundred"
            value, end = value * 100, end + 1
        if end < len(toks) and toks[end] == "thousand" and value < 100:  # "four thousand"
            value, end = value * 1000, end + 1
            rest = self._number(end) if end < len(toks) and toks[end] != "and" else None
            if rest is not None and rest[0] < 1000:  # "two thousand seven hundred"
                value, end = value + rest[0], rest[1]
        for half in vocab.and_a_half:
            if _starts(toks, end, half):
                value, end = value + 0.5, end + len(half.split())
        if end + 1 < len(toks) and toks[end] in vocab.point:
            digit = vocab.numbers.get(toks[end + 1])
            if digit is not None and digit < 10:
                value, end = value + digit / 10, end + 2
        return value, end

    def _values(self) -> tuple[Value, ...]:
        toks, vocab = self.tokens, self.vocab
        out: list[Value] = []
        i = 0
        while i < len(toks):
            share = self._share(i)
            if share is not None:
                out.append(Value(float(share[0]), "share"))
                i = share[1]
                continue
            number = self._number(i)
            if number is None:
                i += 1
                continue
            value, end = number
            said_unit = next(((u, p) for u, phrases in vocab.units.items()
                              for p in phrases if _starts(toks, end, p)), None)
            if said_unit is not None:
                unit, phrase = said_unit
                out.append(Value(value, unit, self._change(i, end + len(phrase.split()))))
            elif i and toks[i - 1] in vocab.value_after:
                out.append(Value(value, "bare"))
            i = end
        return tuple(out)

    def _change(self, start: int, end: int) -> int:
        """Is the value at ``tokens[start:end]`` a change ("up two degrees", "two degrees
        warmer", "by 10 percent" with "lower" said)? +1 / -1, or 0 for a level."""
        toks, rel = self.tokens, self.vocab.relative
        before = toks[start - 1] if start else ""
        after = toks[end] if end < len(toks) else ""
        for word in (before, after):
            if word in rel.get("up", ()):
                return 1
            if word in rel.get("down", ()):
                return -1
        if before in rel.get("by", ()):
            said = set(toks)
            up, down = bool(said & set(rel.get("up", ()))), bool(said & set(rel.get("down", ())))
            return 0 if up == down else (1 if up else -1)
        return 0

    def _share(self, i: int) -> tuple[int, int] | None:
        """A share said at ``tokens[i]``: the longest phrase of any share first ("a quarter
        of the way" before "a quarter", which "of" would rule out)."""
        toks = self.tokens
        for phrase, share in _by_length(self.vocab):
            if _starts(toks, i, phrase):
                end = i + len(phrase.split())
                if end < len(toks) and toks[end] in self.vocab.share_not_before:
                    return None
                return share, end
        return None

    def value(self, units: tuple[str, ...]) -> Value | None:
        """The last value said in one of ``units`` ("from 20 to 50 percent" -> 50)."""
        chosen = [v for v in self.values if v.unit in units]
        return chosen[-1] if chosen else None


@dataclass(frozen=True)
class Words:
    """Cached readings of utterances (a turn reads the same words more than once)."""

    vocab: Vocabulary
    opposites: dict[str, frozenset[str]] = field(default_factory=dict, hash=False, compare=False)
    _cache: dict[str, Said] = field(default_factory=dict, hash=False, compare=False)

    def __call__(self, text: str) -> Said:
        said = self._cache.get(text)
        if said is None:
            if len(self._cache) > 64:
                self._cache.clear()
            said = self._cache[text] = Said(text, self.vocab, self.opposites)
        return said
