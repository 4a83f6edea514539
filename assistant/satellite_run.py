"""Running a :class:`~assistant.satellite.Satellite`: once over a file or stdin, or for
ever over a microphone, reconnecting whenever the server goes away."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator

from assistant.audio.chunk import AudioChunk
from assistant.errors import HearthError
from assistant.satellite import Satellite, SatelliteError, Summary

log = logging.getLogger(__name__)


def threaded_source(chunks: Iterator[AudioChunk], loop: asyncio.AbstractEventLoop,
                    ) -> asyncio.Queue[AudioChunk | None]:
    """Run a blocking chunk source (a microphone, a paced file) on a thread."""
    q: asyncio.Queue[AudioChunk | None] = asyncio.Queue()

    def pump() -> None:
        try:
            for chunk in chunks:
                loop.call_soon_threadsafe(q.put_nowait, chunk)
        except HearthError as exc:
            log.error("audio source failed: %s", exc)
        finally:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(q.put_nowait, None)

    threading.Thread(target=pump, name="satellite-audio", daemon=True).start()
    return q


async def run_satellite(sat: Satellite, chunks: Iterator[AudioChunk]) -> Summary:
    """Stream ``chunks`` (a file, stdin) once."""
    await sat.connect()
    try:
        return await sat.run(threaded_source(chunks, asyncio.get_running_loop()))
    finally:
        await sat.close()


async def run_satellite_forever(make: Callable[[], Satellite], chunks: Iterator[AudioChunk], *,
                                retry_s: float = 5.0,
                                say: Callable[[str], None] = lambda _m: None) -> Summary:
    """A microphone satellite: stay connected, and reconnect whenever the server goes away
    (a restart, a network blip). A refusal (wrong token) is final."""
    source = threaded_source(chunks, asyncio.get_running_loop())
    summary: Summary | None = None
    while True:
        sat = make()
        try:
            await sat.connect()
        except SatelliteError as exc:
            if exc.code in ("refused", "bad_input"):
                raise
            say(f"{exc}; retrying in {retry_s:.0f} s")
            if _drain_ended(source):
                return summary or sat.summary
            await asyncio.sleep(retry_s)
            continue
        say("connected")
        try:
            summary = await sat.run(source)
        finally:
            await sat.close()
        if sat.source_ended:
            return summary
        say(f"the server went away; reconnecting in {retry_s:.0f} s")
        await asyncio.sleep(retry_s)
        if _drain_ended(source):
            return summary


def _drain_ended(source: asyncio.Queue[AudioChunk | None]) -> bool:
    """Drop audio queued while disconnected; True if the source has ended."""
    while not source.empty():
        if source.get_nowait() is None:
            return True
    return False
