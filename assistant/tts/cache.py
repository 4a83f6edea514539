"""The audio of pieces said recently: a home's replies repeat ("Turned on the kitchen
light."), and a piece heard before is played at once instead of being made again."""

from __future__ import annotations

import threading
from collections import OrderedDict

from assistant.audio.chunk import Samples


class PieceCache:
    """Least recently used first out, at most ``size`` pieces (0 = keep nothing). One
    voice's cache: the key is the piece's text as given to the synthesizer."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pieces: OrderedDict[str, tuple[Samples, ...]] = OrderedDict()
        self._lock = threading.Lock()  # a server's satellites share one voice
        self.hits = 0
        self.misses = 0

    def get(self, text: str) -> tuple[Samples, ...] | None:
        with self._lock:
            audio = self._pieces.get(text)
            if audio is None:
                self.misses += 1
                return None
            self._pieces.move_to_end(text)
            self.hits += 1
            return audio

    def put(self, text: str, audio: tuple[Samples, ...]) -> None:
        if self.size <= 0:
            return
        for part in audio:
            part.setflags(write=False)  # shared by every later hit
        with self._lock:
            self._pieces[text] = audio
            self._pieces.move_to_end(text)
            while len(self._pieces) > self.size:
                self._pieces.popitem(last=False)
