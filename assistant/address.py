"""Taking the assistant's name off what was said: "Hey Jarvis, turn on the light" ->
"turn on the light". One helper for Whisper's transcripts and typed text alike; the
names are data (``address.yaml``). A leaf module: it imports nothing of Hearth but its
data files.
"""

from __future__ import annotations

import re
from functools import cache

import yaml

from assistant.resources import data_path


def _alternatives(words: list[str]) -> str:
    return "|".join(map(re.escape, sorted(words, key=len, reverse=True)))


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    data = yaml.safe_load(data_path("address.yaml").read_text(encoding="utf-8"))
    personal, every = _alternatives(data["personal"]), _alternatives(data["personal"] + data["generic"])
    greet, misheard = _alternatives(data["greetings"]), _alternatives(data["misheard_greetings"])
    ends = r"(?=[\s,.!?]|$)[\s,.!?]*"  # the name ends there: "computer's fan" keeps its name
    lead = rf"^(?:\s*(?:(?:(?:{greet})[\s,]+)?(?:{every})|(?:{misheard})[\s,]+(?:{personal})){ends})+"
    inside = rf"\b(?:{greet})[\s,]+(?:{every}){ends}"
    trail = rf"[,\s]+(?:{personal})([.!?]*)\s*$"
    return (re.compile(lead, re.IGNORECASE), re.compile(inside, re.IGNORECASE),
            re.compile(trail, re.IGNORECASE))


def strip_address(text: str) -> str:
    """``text`` without the name it was addressed by, before ("Olly, ...", "Hey Jarvis.
    ...") or after ("..., Alexa."); a whole greeting + name inside the text starts the
    request. The case is kept; "" when nothing but the name was said."""
    lead, inside, trail = _patterns()
    found = list(inside.finditer(text))
    if found and found[-1].end() < len(text.rstrip()):
        text = text[found[-1].end():]
    return trail.sub(r"\1", lead.sub("", text.strip())).strip()
