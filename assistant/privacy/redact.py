"""Redaction: personal data in a request is replaced by placeholders before it leaves.

``Alice's card is 4111 1111 1111 1111`` -> ``<PERSON_1>'s card is <CARD_1>``. The
placeholders are restored in the reply where that makes sense (names, times, places,
addresses are spoken back as they were; numbers only as "the number ending in 1234",
so a card number is never read out to the room).

Detectors are regular expressions plus checks that make them precise: card numbers
must pass the Luhn check, IBANs the ISO 13616 mod-97 check, names come from the
household list in the config (plus honorifics, "my friend X"). Where detectors
overlap, the longest span wins. Kinds not asked for are detected but left in place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from assistant.privacy.patterns import (
    _ACCOUNT_CONTEXT,
    _ADDRESS_NAMED,
    _ADDRESS_NUMBERED,
    _CARD_CONTEXT,
    _COMMON_WORDS,
    _COORDS,
    _DATE_SHAPED,
    _DIGIT_RUN,
    _EMAIL,
    _EMAIL_SPOKEN,
    _HONORIFIC,
    _IBAN,
    _INSTITUTION,
    _NATIONAL_ID,
    _PHONE_CONTEXT,
    _PHONE_GROUPS,
    _POSTCODE,
    _POSTCODE_SPOKEN,
    _RELATION,
    _SORT_CODE,
    _TIME_PATTERNS,
    iban_ok,
    luhn_ok,
)
from assistant.privacy.settings import REDACT_KINDS, RedactKind

LABELS: dict[RedactKind, str] = {
    "person": "PERSON",
    "email": "EMAIL",
    "phone": "PHONE",
    "address": "ADDRESS",
    "card": "CARD",
    "iban": "IBAN",
    "account": "ACCOUNT",
    "time": "TIME",
    "place": "PLACE",
}
_KIND_OF_LABEL = {v: k for k, v in LABELS.items()}
_PRIORITY = {
    kind: i
    for i, kind in enumerate(
        ("email", "iban", "card", "phone", "account", "address", "time", "place", "person")
    )
}
_NUMBER_KINDS = frozenset({"card", "iban", "account"})
_UNKNOWN_WORDS: dict[RedactKind, str] = {
    "person": "someone",
    "email": "that address",
    "phone": "that number",
    "address": "that address",
    "card": "that card",
    "iban": "that account",
    "account": "that account",
    "time": "then",
    "place": "there",
}

@dataclass(frozen=True)
class Span:
    """One piece of personal data found in a text (``start``/``end`` index the text)."""

    start: int
    end: int
    kind: RedactKind
    text: str
    key: str = ""
    """What makes two spans the same thing (same placeholder): the person's config entry,
    or the normalised text."""


@dataclass(frozen=True)
class Redaction:
    """A redacted text and how to put the originals back."""

    original: str
    text: str
    spans: tuple[Span, ...]
    """What was replaced, in order."""
    placeholders: dict[str, tuple[RedactKind, str]] = field(default_factory=dict)
    """``<PERSON_1>`` -> (kind, the original text)."""

    def restore(self, reply: str) -> str:
        """Put the originals back into a reply, where that makes sense when spoken."""
        if not self.placeholders:
            return reply
        by_label = {ph.strip("<>").upper(): value for ph, value in self.placeholders.items()}

        def put_back(m: re.Match[str]) -> str:
            name, number = _placeholder_groups(m)
            label = f"{name.upper()}_{int(number)}"
            kind = _KIND_OF_LABEL[name.upper()]
            if label not in by_label:
                return _UNKNOWN_WORDS[kind]
            kind, original = by_label[label]
            if kind in _NUMBER_KINDS:
                digits = re.sub(r"\D", "", original)
                return f"the number ending in {' '.join(digits[-4:])}" if digits else "that number"
            return original

        return _PLACEHOLDER.sub(put_back, reply)


_LABEL_ALT = "|".join(LABELS.values())
_PLACEHOLDER = re.compile(
    rf"<\s*({_LABEL_ALT})[ _-]?(\d+)\s*>"
    rf"|\[\s*({_LABEL_ALT})[ _-]?(\d+)\s*\]"
    rf"|\b({_LABEL_ALT})_(\d+)\b",
    re.IGNORECASE,
)


def _placeholder_groups(m: re.Match[str]) -> tuple[str, str]:
    for i in (1, 3, 5):
        if m.group(i):
            return m.group(i), m.group(i + 1)
    raise AssertionError("unreachable")


def _value_group(m: re.Match[str]) -> int | str:
    """The named group ``v`` when a pattern has one (the part after a context word)."""
    return "v" if "v" in m.re.groupindex else 0


def _normalise(text: str) -> str:
    return re.sub(r"[\s().-]+", "", text).lower()


class Redactor:
    """Finds and replaces personal data. Build once per policy (regexes compile once)."""

    def __init__(
        self,
        *,
        household: Sequence[str] = (),
        contacts: Sequence[str] = (),
        places: Sequence[str] = (),
        names_from_context: bool = True,
    ) -> None:
        self._names_from_context = names_from_context
        self._people: list[tuple[re.Pattern[str], str]] = []
        for index, entry in enumerate((*household, *contacts)):
            forms = self._name_forms(entry)
            if not forms:
                continue
            alternation = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
            pattern = re.compile(rf"(?<![\w@.])(?:{alternation})(?![\w@])", re.IGNORECASE)
            self._people.append((pattern, f"person#{index}"))
        place_forms = sorted({p.strip() for p in places if p.strip()}, key=len, reverse=True)
        self._places = (
            re.compile(
                r"\b(?:" + "|".join(re.escape(p) for p in place_forms) + r")\b", re.IGNORECASE
            )
            if place_forms
            else None
        )

    @staticmethod
    def _name_forms(entry: str) -> set[str]:
        """``"Robert Smith | Bob"`` -> {"Robert Smith", "Robert", "Smith", "Bob"}."""
        forms: set[str] = set()
        for alias in entry.split("|"):
            alias = " ".join(alias.split())
            if not alias:
                continue
            forms.add(alias)
            forms.update(part for part in alias.split(" ") if len(part) >= 2)
        return forms

    # ------------------------------------------------------------ detection ---------

    def find(self, text: str, kinds: Iterable[RedactKind] = REDACT_KINDS) -> list[Span]:
        """Non-overlapping spans of the requested kinds, in text order."""
        wanted = set(kinds)
        candidates = [s for s in self._candidates(text) if s.kind in wanted]
        chosen: list[Span] = []
        for span in sorted(
            candidates, key=lambda s: (-(s.end - s.start), _PRIORITY[s.kind], s.start)
        ):
            if all(span.end <= c.start or span.start >= c.end for c in chosen):
                chosen.append(span)
        return sorted(chosen, key=lambda s: s.start)

    def _candidates(self, text: str) -> Iterable[Span]:
        yield from self._emails(text)
        yield from self._numbers(text)
        yield from self._addresses(text)
        yield from self._times(text)
        yield from self._place_spans(text)
        yield from self._person_spans(text)

    @staticmethod
    def _span(m: re.Match[str], kind: RedactKind, group: int | str = 0, key: str = "") -> Span:
        start, end = m.span(group)
        value = m.group(group)
        stripped = value.rstrip(" ,.")
        end -= len(value) - len(stripped)
        return Span(start, end, kind, stripped, key or _normalise(stripped))

    def _emails(self, text: str) -> Iterable[Span]:
        for m in _EMAIL.finditer(text):
            yield self._span(m, "email")
        for m in _EMAIL_SPOKEN.finditer(text):
            yield self._span(m, "email")

    def _numbers(self, text: str) -> Iterable[Span]:
        for m in _IBAN.finditer(text):
            raw = m.group(0)
            compact = re.sub(r"\s", "", raw)
            if sum(ch.isdigit() for ch in compact) < 8:
                continue
            end = len(raw)
            while end > 0 and not iban_ok(raw[:end]):
                cut = raw.rfind(" ", 0, end)
                if cut <= 4:
                    end = 0
                    break
                end = cut
            if end:
                yield Span(m.start(), m.start() + end, "iban", raw[:end], _normalise(raw[:end]))
            elif len(compact) >= 15:
                yield self._span(m, "account")
        for m in _SORT_CODE.finditer(text):
            if _ACCOUNT_CONTEXT.search(text[max(0, m.start() - 50) : m.start()]):
                yield self._span(m, "account")
        for m in _NATIONAL_ID.finditer(text):
            yield self._span(m, "account")
        for m in _DIGIT_RUN.finditer(text):
            span = self._classify_digits(text, m)
            if span is not None:
                yield span

    def _classify_digits(self, text: str, m: re.Match[str]) -> Span | None:
        raw = m.group(0).strip()
        start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
        if raw.endswith(")") and "(" not in raw:
            raw = raw[:-1]
        if raw.startswith("(") and ")" not in raw:
            raw, start = raw[1:], start + 1
        digits = re.sub(r"\D", "", raw)
        if _DATE_SHAPED.match(raw) or re.search(r"[ \t.-]{2,}", raw.replace(") ", ")")):
            return None
        before = text[max(0, start - 60) : start]
        kind: RedactKind | None = None
        n = len(digits)
        if (13 <= n <= 19 and luhn_ok(digits)) or (12 <= n <= 19 and _CARD_CONTEXT.search(before)):
            kind = "card"
        elif (
            7 <= n <= 15
            and (
                raw.startswith(("+", "00", "0", "("))
                or _PHONE_GROUPS.match(raw)
                or _PHONE_CONTEXT.search(before)
            )
            and not _ACCOUNT_CONTEXT.search(before)
        ):
            kind = "phone"
        elif n >= 6 and (_ACCOUNT_CONTEXT.search(before) or n >= 8):
            kind = "account"
        elif 7 <= n <= 15:
            kind = "phone"
        if kind is None:
            return None
        return Span(start, start + len(raw), kind, raw, digits)

    def _addresses(self, text: str) -> Iterable[Span]:
        for pattern in (_ADDRESS_NUMBERED, _ADDRESS_NAMED, _POSTCODE, _POSTCODE_SPOKEN):
            for m in pattern.finditer(text):
                yield self._span(m, "address", group=_value_group(m))

    def _times(self, text: str) -> Iterable[Span]:
        for pattern in _TIME_PATTERNS:
            for m in pattern.finditer(text):
                yield self._span(m, "time", group=_value_group(m))

    def _place_spans(self, text: str) -> Iterable[Span]:
        if self._places is not None:
            for m in self._places.finditer(text):
                yield self._span(m, "place")
        for m in _COORDS.finditer(text):
            yield self._span(m, "place")
        for m in _INSTITUTION.finditer(text):
            yield self._span(m, "place")

    def _person_spans(self, text: str) -> Iterable[Span]:
        for pattern, key in self._people:
            for m in pattern.finditer(text):
                word = m.group(0)
                if word.lower() in _COMMON_WORDS and not word[0].isupper():
                    continue
                yield Span(m.start(), m.end(), "person", word, key)
        if not self._names_from_context:
            return
        for m in _HONORIFIC.finditer(text):
            yield self._span(m, "person")
        for m in _RELATION.finditer(text):
            yield self._span(m, "person", group=1)

    # ------------------------------------------------------------ replacement -------

    def redact(self, text: str, kinds: Iterable[RedactKind] = REDACT_KINDS) -> Redaction:
        """Replace every span of ``kinds`` with a numbered placeholder (same thing, same number)."""
        spans = self.find(text, kinds)
        placeholders: dict[str, tuple[RedactKind, str]] = {}
        by_key: dict[tuple[RedactKind, str], str] = {}
        counts: dict[RedactKind, int] = {}
        out: list[str] = []
        pos = 0
        for span in spans:
            ident = (span.kind, span.key)
            placeholder = by_key.get(ident)
            if placeholder is None:
                counts[span.kind] = counts.get(span.kind, 0) + 1
                placeholder = f"<{LABELS[span.kind]}_{counts[span.kind]}>"
                by_key[ident] = placeholder
                placeholders[placeholder] = (span.kind, span.text)
            out.append(text[pos : span.start])
            out.append(placeholder)
            pos = span.end
        out.append(text[pos:])
        return Redaction(text, "".join(out), tuple(spans), placeholders)
