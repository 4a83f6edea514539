"""One helper takes the assistant's name off what was said, for Whisper's transcripts
(``strip_wake_phrase``) and for typed text (understanding's ``strip_address``)."""

from __future__ import annotations

import pytest

from assistant.address import strip_address
from assistant.stt.whisper import strip_wake_phrase
from assistant.understand.lexicon import strip_address as strip_for_understanding


@pytest.mark.parametrize(("said", "meant"), [
    ("Hey Jarvis, turn on the kitchen light.", "turn on the kitchen light."),
    ("OK Alexa. Open the blinds.", "Open the blinds."),
    ("A Jarvis, what time is it?", "what time is it?"),          # Whisper's "hey"
    ("Olly, computer, dim the lamp", "dim the lamp"),            # one name after another
    ("Turn off the TV, Siri.", "Turn off the TV."),              # a personal name closes it too
    ("Turned on the kitchen light. Hey Jarvis, turn it off.", "turn it off."),  # its reply heard back
    ("Hey Jarvis.", ""),
])
def test_the_name_comes_off_before_after_and_inside(said: str, meant: str) -> None:
    assert strip_address(said) == meant


@pytest.mark.parametrize("said", [
    "turn on the computer",                 # a name that is also a thing stays at the end
    "computer's fan off",                   # ... and as a word of its own
    "a computer is on in the office",       # "a" is Whisper's "hey" only before a person's name
    "tell jarvis stories",
])
def test_a_name_that_is_part_of_the_request_stays(said: str) -> None:
    assert strip_address(said) == said


def test_whisper_and_understanding_use_the_same_rule() -> None:
    assert strip_wake_phrase("hey jarvis, turn on the light.") == "Turn on the light."
    assert strip_wake_phrase("vis, turn on the kitchen light.") == "Turn on the kitchen light."
    assert strip_wake_phrase("Hey Jarvis.") == ""
    assert strip_for_understanding("Hey Jarvis, Turn On the Light") == "turn on the light"
    assert strip_for_understanding("olly") == "olly"  # nothing else said: the text itself
