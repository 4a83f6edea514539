"""Does a transcript sound finished? Words a command cannot end on, for the end of turn.

A turn whose words so far end on one of these ("turn off the", "set the bedroom to")
waits for a longer silence: the person is looking for the next word. Closed-class
English words only (articles, prepositions, conjunctions, a few verbs that need an
object), so it is about grammar, not about any one device or sentence.
"""

from __future__ import annotations

import re

_ENDINGS = """
a an the my our your his her their its this that these those some all every both
to at in on into onto of for from with by about over under near than as
and or but nor so if because while
turn switch set make put start stop open close lock unlock dim raise lower change play
is are be please
"""
UNFINISHED_ENDINGS = frozenset(_ENDINGS.split())

_TRAILING = ("...", "\u2026", ",", "-", "\u2014", ":", ";")

_AUXILIARIES = """
can could may might would will shall should do does did is are am was were have has
"""
_ASKING = frozenset(_AUXILIARIES.split())
"""Auxiliary verbs a yes/no question starts with: "Can I have a latte" rises because it asks."""


def sounds_unfinished(text: str) -> bool:
    """True when the text stops mid-sentence (a trailing comma or ellipsis counts)."""
    text = text.strip()
    if not text:
        return False
    if text.endswith(_TRAILING):
        return True
    last = re.sub(r"[^\w']", "", text.split()[-1]).lower()
    return last in UNFINISHED_ENDINGS


def sounds_asked(text: str) -> bool:
    """True when the text is a yes/no question (Whisper's question mark, or an auxiliary
    verb first, after a "please"): its voice rises for that, not for more words to come."""
    words = _words(text)
    if words[:1] == ["please"]:
        words = words[1:]
    return text.strip().endswith("?") or (bool(words) and words[0] in _ASKING)


def same_words(a: str, b: str) -> bool:
    """Do two transcripts say the same words (case and punctuation aside)?"""
    return _words(a) == _words(b)


def _words(text: str) -> list[str]:
    return re.sub(r"[^\w%' ]", " ", text.lower()).split()
