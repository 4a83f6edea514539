"""The detectors' patterns: numbers (with the Luhn and mod-97 checks), addresses, e-mail,
times, places and people, as regular expressions compiled once. Redaction
(:mod:`assistant.privacy.redact`) decides what to do with what they find."""

from __future__ import annotations

import re

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
