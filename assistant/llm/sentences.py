"""Whole sentences out of a stream of text deltas, so a speaker can start on the first."""

from __future__ import annotations

import re

_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "sr",
        "jr",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "approx",
        "no",
        "fig",
        "mt",
        "ft",
        "lt",
        "col",
        "gen",
        "sgt",
    ]
)
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*\s+|\n+")
_ENDS_SENTENCE = re.compile(r"(?:[!?…]|(?<=[^\W\d_])\.)[\"'”’)\]]*$")
"""A sentence end at the very end of the buffer: ! ? … or a period after a letter (so
"3." of "3.5" waits for the next token)."""


def _abbreviation(candidate: str) -> bool:
    """Does ``candidate`` end in "Dr." or "e.g." or an initial, rather than a sentence?"""
    words = candidate.rstrip(".!?…\"'”’)]").rsplit(None, 1)
    last = words[-1].lower() if words else ""
    return last in _ABBREVIATIONS or len(last) == 1


class SentenceSplitter:
    """Cuts streamed text into sentences as soon as each one is complete."""

    def __init__(self, max_chars: int = 240) -> None:
        self._buffer = ""
        self._max_chars = max_chars

    def feed(self, text: str) -> list[str]:
        self._buffer += text
        out: list[str] = []
        start = 0
        for m in _BOUNDARY.finditer(self._buffer):
            candidate = self._buffer[start : m.end()].strip()
            if m.group(0)[0] == "." and _abbreviation(candidate):
                continue
            if candidate:
                out.append(candidate)
            start = m.end()
        self._buffer = self._buffer[start:]
        tail = self._buffer.strip()
        if tail and _ENDS_SENTENCE.search(tail) and not (tail.endswith(".") and _abbreviation(tail)):
            out.append(tail)  # complete now: don't wait for the next token to show a space
            self._buffer = ""
        if len(self._buffer) > self._max_chars:
            cut = max(
                self._buffer.rfind(", ", 0, self._max_chars),
                self._buffer.rfind(" ", 0, self._max_chars),
            )
            if cut > 0:
                out.append(self._buffer[: cut + 1].strip())
                self._buffer = self._buffer[cut + 1 :]
        return out

    def flush(self) -> str | None:
        rest, self._buffer = self._buffer.strip(), ""
        return rest or None
