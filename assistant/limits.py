"""How much of each kind of input Hearth takes: one documented limit per kind, here.

Every input is bounded where it enters, so no request — hostile or unlucky — can make
a turn take minutes or hold a lock the other rooms wait for. ``docs/limits.md`` lists
them for users. This module imports nothing of Hearth (it is a leaf).
"""

from __future__ import annotations

import re

TEXT_CHARS = 2000
"""One utterance given as text: ``hearth ask TEXT``, a ``--batch`` line's text, the HTTP
API's ``/api/ask``, a Wyoming ``transcript`` or ``synthesize``. More is refused."""

HTTP_BODY_BYTES = 64 * 1024
"""One HTTP request body (``/api/ask``'s JSON is well under 10 KB). More gets a 413
before it is read."""

BATCH_LINE_BYTES = 64 * 1024
"""One line of ``hearth ask --batch`` (JSON included). A longer line is an error result."""

UNDERSTAND_WORDS = 80
UNDERSTAND_CHARS = 600
"""What understanding reads. The matchers' cost grows faster than the text (hassil's
wildcards), and the local LLM's with every token; a spoken command is a few dozen
words (SLURP's longest of 5,007 is 61 words, 365 characters). A longer text is answered
"too long" without reaching any matcher."""

WYOMING_OUTBOX_EVENTS = 5000
"""Events waiting to be sent to one Wyoming peer (a long spoken reply is a few hundred).
A peer that keeps asking (``ping``, ``describe``) but reads nothing is closed past it,
before its answers fill the server's memory."""

TURN_AUDIO_S = 30.0
"""Audio in one Wyoming ``transcribe`` request; the rest is dropped."""

AUDIO_CHUNK_BYTES = 256 * 1024
"""One Wyoming ``audio-chunk`` payload (a chunk is a few KB: 1 s of 48 kHz stereo
32-bit audio is 384 KB, so this allows any real chunk of up to half a second)."""

AUDIO_RATES = (8000, 192000)
AUDIO_WIDTHS = (1, 2, 4)
AUDIO_CHANNELS = (1, 8)
"""Wyoming audio formats taken: rates in Hz (inclusive range), sample widths in bytes,
channel counts (inclusive range)."""

MQTT_PAYLOAD_BYTES = 64 * 1024
"""One MQTT message (a discovery config or a state). Home Assistant's discovery
configs are a few KB; a bigger message is ignored and logged."""

CLOUD_REPLY_CHARS = 8000
"""What Hearth reads of a cloud LLM's reply; the rest is cut (and never spoken)."""

TURN_BUDGET_S = 10.0
"""Understanding time after which a turn's later stages (the local LLM, the cloud) are
skipped and it is answered "that took me too long". The cloud stage, once started, is
bounded by its own timeouts (``[cloud] total_timeout_s``)."""

_WORD = re.compile(r"\S+")


def too_long_for_text(text: str) -> str | None:
    """Why ``text`` is refused as an utterance (over :data:`TEXT_CHARS`), or None."""
    if len(text) > TEXT_CHARS:
        return f"the text is too long ({len(text)} characters; the limit is {TEXT_CHARS})"
    return None


def too_long_to_understand(text: str) -> str | None:
    """Why understanding will not read ``text`` (over its word or character cap), or None."""
    if len(text) > UNDERSTAND_CHARS:
        return f"{len(text)} characters (the limit is {UNDERSTAND_CHARS})"
    n = sum(1 for _ in _WORD.finditer(text))
    if n > UNDERSTAND_WORDS:
        return f"{n} words (the limit is {UNDERSTAND_WORDS})"
    return None
