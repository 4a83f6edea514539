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

# ---------------------------------------------------------------- numbers -----------

_DIGIT_RUN = re.compile(r"(?<![\w+.,/:-])(?:\+|00)?\(?\d[\d \t().-]*\d\)?(?![\w/:]|[.,]\d)")
_DATE_SHAPED = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$|^\d{1,2}[.-]\d{1,2}[.-]\d{2,4}$")
_PHONE_GROUPS = re.compile(r"^\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}$")
_PHONE_CONTEXT = re.compile(
    r"\b(?:call|calls|calling|phone|phones|ring|text|texts|dial|number|mobile|cell|tel|fax|"
    r"landline|whatsapp|reach|contact)\b[^.?!]{0,40}$",
    re.IGNORECASE,
)
_ACCOUNT_CONTEXT = re.compile(
    r"\b(?:account|acct|a/c|sort\s+code|routing|iban|bic|swift|member(?:ship)?|policy|customer|"
    r"reference|ref|invoice|order|pin|passport|licen[cs]e|national\s+insurance|ssn|social\s+security|"
    r"tax|payroll|employee|id)\b[^.?!]{0,30}$",
    re.IGNORECASE,
)
_CARD_CONTEXT = re.compile(
    r"\b(?:card|visa|mastercard|amex|debit|credit)\b[^.?!]{0,30}$", re.IGNORECASE
)
_SORT_CODE = re.compile(r"(?<![\w-])\d{2}-\d{2}-\d{2}(?![\w-])")
_NATIONAL_ID = re.compile(  # a UK National Insurance number, a US social security number
    r"\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b"
    r"|(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])",
    re.IGNORECASE,
)
_IBAN = re.compile(
    r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b", re.IGNORECASE
)


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum every payment card number satisfies."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_ok(candidate: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters -> 10..35, mod 97 == 1."""
    s = re.sub(r"\s", "", candidate).upper()
    if not 15 <= len(s) <= 34 or not s[:2].isalpha() or not s[2:4].isdigit() or not s.isalnum():
        return False
    rearranged = s[4:] + s[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


# ---------------------------------------------------------------- addresses ---------

_STREET_SUFFIX = (
    r"street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|court|ct|place|pl|close|"
    r"terrace|crescent|cres|gardens|grove|square|sq|highway|hwy|parkway|pkwy|row|mews|hill|walk|"
    r"circle|cir|trail|rise|alley|parade|gate|green|view"
)
_STOP = (
    r"the|a|an|my|your|our|his|her|their|its|on|in|at|to|for|of|from|by|with|and|or|but|is|are|"
    r"was|be|it|this|that|these|those|up|down|over|under|into|onto|per|more|less|every|each|"
    r"minutes?|hours?|seconds?|days?|weeks?|months?|years?|times?|percent|degrees|lights?|miles?|"
    r"km|metres?|meters?|feet|foot|blocks?|doors?|steps?|kids?|people|cars?|items?|things?|all|"
    r"about|around|just|only|half|other|same|next|last|first|way|go|going"
)
_NAME_WORD = rf"(?!(?:{_STOP})\b)[A-Za-z][A-Za-z'.-]*"
_UNIT = r"(?:flat|apt|apartment|unit|suite)\s*#?\s*\w+"
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}"
_US_STATE_ZIP = r"[A-Z]{2}\s+\d{5}(?:-\d{4})?"
_CITY = r"[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?"
_ADDRESS_NUMBERED = re.compile(
    rf"(?:(?i:{_UNIT}),?\s+)?\b\d{{1,5}}[A-Za-z]?,?\s+(?:{_NAME_WORD}\s+){{1,3}}"
    rf"(?i:{_STREET_SUFFIX})\b\.?(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b)?"
    rf"(?:,?\s*(?i:{_UNIT}))?(?:,\s*{_CITY})?(?:,?\s*(?:{_UK_POSTCODE}|{_US_STATE_ZIP}))?"
)
_ADDRESS_NAMED = re.compile(
    r"\b(?:on|at|to|in|off|near|from|along)\s+"
    r"(?P<v>(?:[A-Z][a-z]+\s+){1,3}(?:Street|Road|Avenue|Lane|Drive|Boulevard|Close|Terrace|Crescent|"
    r"Gardens|Grove|Square|Way|Court|Place|Mews|Row|Parade))\b"
)
_POSTCODE = re.compile(rf"\b(?:{_UK_POSTCODE}|{_US_STATE_ZIP})\b")
_POSTCODE_SPOKEN = re.compile(
    r"\b(?:zip|postcode|post code|postal code|zip code)\s+(?:is\s+)?"
    r"(?P<v>\d{5}(?:-\d{4})?|[A-Za-z]{1,2}\d[A-Za-z\d]?\s*\d[A-Za-z]{2})\b",
    re.IGNORECASE,
)

# ---------------------------------------------------------------- e-mail ------------

_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_EMAIL_SPOKEN = re.compile(
    r"\b(?!(?:look|looking|is|it|me|us|them|him|her|that|this|arrive|arrived|be|stay|meet|"
    r"work|home|least|all|once|night|noon|school)\s)"
    r"[a-z0-9._-]+(?:\s+(?:dot|underscore)\s+[a-z0-9_-]+)*\s+at\s+[a-z0-9-]+"
    r"(?:\s+dot\s+[a-z]{2,})+\b",
    re.IGNORECASE,
)

# ---------------------------------------------------------------- times -------------

_NUM_WORD = r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
_MONTH = (
    r"january|february|march|april|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
)
_MONTH_ANY = rf"(?:{_MONTH}|may)"
_WEEKDAY = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_ORD = r"(?:st|nd|rd|th)"
_YEAR = r"(?:,?\s+\d{4})?"
_TIME_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\b\.?)?",
        r"\b\d{1,2}(?:\.\d{2})?\s*[ap]\.?m\b\.?",
        rf"\b(?:\d{{1,2}}|{_NUM_WORD})\s+o'?clock\b",
        rf"\b(?:half|quarter|(?:\d{{1,2}}|twenty|ten|five)\s+minutes)\s+(?:past|to)\s+(?:\d{{1,2}}|{_NUM_WORD})\b"
        r"(?:\s*[ap]\.?m\b\.?)?",
        rf"\b\d{{1,2}}{_ORD}?\s+(?:of\s+)?{_MONTH_ANY}\b{_YEAR}",
        rf"\b{_MONTH_ANY}\s+\d{{1,2}}{_ORD}?\b{_YEAR}",
        rf"\bthe\s+\d{{1,2}}{_ORD}\s+of\s+{_MONTH_ANY}\b{_YEAR}",
        r"\b\d{1,2}/\d{1,2}/\d{2,4}\b",
        r"\b\d{4}-\d{2}-\d{2}\b",
        rf"\b(?:(?:next|this|last|every)\s+)?(?:{_WEEKDAY})s?\b(?:\s+the\s+\d{{1,2}}{_ORD}\b)?",
        rf"(?<=\bon\s)the\s+\d{{1,2}}{_ORD}\b",
        r"\bat\s+(?P<v>noon|midnight|\d{1,2})\b(?![\d%.:]|\s*(?:%|percent|degrees|°|per\b|times\b))",
    )
]

# ---------------------------------------------------------------- places ------------

_COORDS = re.compile(r"-?\d{1,2}\.\d{3,}\s*°?\s*[NS]?\s*,\s*-?\d{1,3}\.\d{3,}\s*°?\s*[EW]?")
_INSTITUTION = re.compile(
    r"\b(?:St\.?\s+)?(?:[A-Z][a-zA-Z'-]+\s+){1,3}(?:School|Academy|College|University|Hospital|Clinic|"
    r"Surgery|Office|Station|Church|Mosque|Synagogue|Temple|Gym|Library|Park|Centre|Center|Mall|"
    r"Airport|Nursery|Kindergarten|Prison|Court|Hotel|Pharmacy)\b"
)

# ---------------------------------------------------------------- people ------------

_HONORIFIC = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Doctor|Sir|Dame|Aunt|Auntie|Uncle|Nurse|Coach|"
    r"Father|Sister|Rabbi|Imam|Pastor|Judge|Officer|Captain)\.?\s+[A-Z][a-zA-Z'-]+(?:\s+[A-Z][a-zA-Z'-]+)?"
)
_RELATION = re.compile(
    r"(?<=\bmy\s)(?:(?:best|old|new|little|big|younger|older)\s+)?(?:friend|son|daughter|wife|husband|"
    r"partner|boyfriend|girlfriend|boss|colleague|coworker|neighbour|neighbor|mum|mom|dad|brother|"
    r"sister|cousin|teacher|nanny|babysitter|cleaner|landlord|landlady|grandson|granddaughter|"
    r"niece|nephew|aunt|uncle|fiance|fiancee)\s+([A-Z][a-zA-Z'-]+(?:\s+[A-Z][a-zA-Z'-]+)?)"
)
_COMMON_WORDS = frozenset((  # names that are also everyday words: matched only when capitalised
    "will", "bill", "may", "rose", "grace", "hope", "mark", "pat", "sue", "art", "jack",
    "june", "april", "dawn", "faith", "joy", "ray", "rob", "sandy", "summer", "amber", "ruby",
    "frank", "earl", "chase", "hunter", "page", "drew", "grant", "miles", "guy", "sky",
    "autumn", "max", "rich", "penny", "holly", "ivy", "lily", "iris", "daisy", "honey",
    "storm", "river", "sage", "august", "sunny",
))


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
