"""The English words understanding reads (``data/en/words.yaml``), as Python views.

Retrieval (:mod:`retrieval`), the command menu (:mod:`menu`) and the cues read these; the
words themselves are data.
"""

from __future__ import annotations

from assistant import address
from assistant.understand import vocabulary
from assistant.understand.lights import COLORS

VOCABULARY = vocabulary.load("en")
"""The words retrieval reads (data/en/words.yaml); module names below are views of it."""
_P = VOCABULARY.patterns
_WORD = _P["word"]
"""What a word is."""
DOMAIN_WORDS = VOCABULARY.domain_words
THING_WORDS = VOCABULARY.thing_words
WHOLE_HOME, HERE, HOME_WORDS = _P["whole_home"], _P["here"], _P["home_words"]
WHERE = _P["where"]
"""'down here', 'up there': where, not which way (not a cue for "down" or "up")."""
COLOURISH = _P["colourish"]
"""Words that ask for a colour without naming one ("a different colour")."""


def strip_address(text: str) -> str:
    """'Olly, turn on the light' -> 'turn on the light' (lower case): a wake name left in
    a transcript (:func:`assistant.address.strip_address`); the text itself if that is all."""
    return address.strip_address(text.strip().lower().replace("’", "'")) or text


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


DEVICE_NOUNS = VOCABULARY.device_nouns
PLAIN_WORDS = VOCABULARY.plain_words
"""Words that may stand before a device word without naming a device: "the", "smart",
"all", verbs, prepositions and words of state... Any other word there ("closet light",
"bedside lamp", "night light") names a device."""
OTHER_THINGS = VOCABULARY.other_things
"""Things with a brightness, a colour or an on/off that are not the home's devices ("dim the
screen", "turn the phone's brightness up"): a request about them is not for the home."""
CHANGE_VERBS = VOCABULARY.change_verbs


def said_verb(toks: list[str]) -> bool:
    """Does the request change something ("make it green", "change to blue")?"""
    return bool(CHANGE_VERBS & set(toks))


def plain(word: str, known: set[str]) -> bool:
    """A word that, before a device or place word, does not make it another device or place."""
    return (word in DEVICE_NOUNS or word in known or word in PLAIN_WORDS or word in DOMAIN_WORDS
            or word in THING_WORDS or word in COLORS or word.isdigit())


NOT_PLACES = VOCABULARY.not_places
"""Words after "in" that are not places ("in a bit", "in the evening", "in front of")."""
AWAY = _P["away"]
"""Places a request may name that are not rooms: unknown unless this home has such an area."""


CUES = VOCABULARY.cues
"""Words that say which way a request goes, per action (see assistant/understand/cues.py)."""
CUE_WORDS = frozenset().union(*CUES.values())


def distinctive(word: str) -> bool:
    """A word of a name that can name the device alone: not a kind ("light"), a function or
    state word ("the", "main"), a colour or a number."""
    return not (word in PLAIN_WORDS or word in DOMAIN_WORDS or word in DEVICE_NOUNS or word in COLORS
                or word in CUE_WORDS or word.isdigit() or len(word) < 3)
