"""Plumbing between the asyncio side (sockets) and the voice-loop threads.

:class:`AudioFeed` turns PCM bytes arriving on the event loop into the iterable of
:class:`~assistant.audio.chunk.AudioChunk` a :class:`~assistant.loop.VoiceLoop` reads on
its own thread. :class:`Outbox` lets those threads send Wyoming events back to the
socket without touching it. :class:`StopGate` decides when a stream may end during
shutdown: right away when idle, after the current turn otherwise.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from assistant.audio.chunk import CHUNK_SAMPLES, SAMPLE_RATE, AudioChunk, Reframer, Samples
from assistant.audio.chunk import pcm16 as to_samples

log = logging.getLogger(__name__)

MAX_BACKLOG_S = 60.0
"""Audio queued beyond this (the machine cannot keep up) is dropped, oldest first."""
_POLL_S = 0.1


class StopGate:
    """Shared by every stream of the server: once stopping, a stream ends when its source
    is between turns, or at the deadline whatever it is doing."""

    def __init__(self) -> None:
        self._deadline: float | None = None
        self._lock = threading.Lock()

    def stop(self, timeout_s: float) -> None:
        with self._lock:
            if self._deadline is None:
                self._deadline = time.monotonic() + timeout_s

    @property
    def stopping(self) -> bool:
        return self._deadline is not None

    def should_end(self, in_turn: bool) -> bool:
        deadline = self._deadline
        if deadline is None:
            return False
        return not in_turn or time.monotonic() >= deadline

    @property
    def past_deadline(self) -> bool:
        deadline = self._deadline
        return deadline is not None and time.monotonic() >= deadline


class AudioFeed:
    """A queue of 80 ms chunks, re-framed from PCM of any packet size.

    Iterating blocks until a chunk arrives; it ends at :meth:`end`, or when
    ``should_end()`` says so (checked between chunks and while waiting).
    """

    def __init__(self, should_end: Callable[[], bool] = lambda: False) -> None:
        self._q: queue.Queue[Samples | None] = queue.Queue()
        self._frames = Reframer()
        self._pos = 0
        self._should_end = should_end
        self.dropped_chunks = 0
        self._ended = False
        self._received = 0
        self._arrivals: collections.deque[tuple[float, float]] = collections.deque(
            maxlen=int(MAX_BACKLOG_S * SAMPLE_RATE / CHUNK_SAMPLES))

    def arrival(self, t_audio_ms: float) -> float | None:
        """When (monotonic) the audio at ``t_audio_ms`` arrived from the socket: what a
        person's wait is measured from, even if the loop was behind."""
        for end_ms, when in list(self._arrivals):
            if end_ms >= t_audio_ms:
                return when
        return None

    def push(self, pcm16: bytes) -> None:
        """16 kHz mono s16le bytes (any length) from the socket."""
        if self._ended:
            return
        now = time.monotonic()
        for chunk in self._frames.push(to_samples(pcm16)):
            self._q.put(chunk.samples)
            self._received += CHUNK_SAMPLES
            self._arrivals.append((self._received * 1000.0 / SAMPLE_RATE, now))
        while self._q.qsize() * CHUNK_SAMPLES / SAMPLE_RATE > MAX_BACKLOG_S:
            try:
                self._q.get_nowait()
                self.dropped_chunks += 1
            except queue.Empty:
                break

    def end(self) -> None:
        """No more audio: the rest (zero-padded) is the last chunk."""
        if self._ended:
            return
        self._ended = True
        if (last := self._frames.flush()) is not None:
            self._q.put(last.samples)
        self._q.put(None)

    @property
    def backlog_s(self) -> float:
        return self._q.qsize() * CHUNK_SAMPLES / SAMPLE_RATE

    def __iter__(self) -> Iterator[AudioChunk]:
        while True:
            if self._should_end():
                return
            try:
                samples = self._q.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            if samples is None:
                return
            chunk = AudioChunk(samples, self._pos * 1000.0 / SAMPLE_RATE)
            self._pos += len(samples)
            yield chunk


class Outbox:
    """Events for one socket, sent in order by one writer task on the event loop.

    ``post`` may be called from any thread. ``None`` ends the writer.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.closed = False

    def post(self, item: Any) -> None:
        if self.closed:
            return
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)
        except RuntimeError:  # the loop is gone: the connection is over anyway
            self.closed = True

    def close(self) -> None:
        self.post(None)
        self.closed = True
