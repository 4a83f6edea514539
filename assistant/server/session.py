"""One connected satellite, on the server: its own voice loop on its own thread.

Each satellite has its own wake detector (when the wake word runs on the server), VAD
and endpointer, and the shared models behind locks (:mod:`assistant.server.brain`).
Audio arrives on the event loop and is queued (:class:`AudioFeed`); the loop thread
runs :class:`~assistant.loop.VoiceLoop` over it; every event goes to the hub (tagged
with the satellite's name and area) and back to the satellite, with the reply audio.

Two ways to run, chosen by the satellite's ``run-pipeline``:

* ``start_stage: wake`` — the server listens for the wake word in a continuous stream;
* ``start_stage: asr`` — the satellite heard the wake word itself and streams one
  command; the run ends with that turn (or its follow-up question's answer).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from assistant.audio.chunk import Samples
from assistant.errors import HearthError
from assistant.events import Event, Reply, to_dict
from assistant.loop import VoiceLoop
from assistant.server import wyoming_proto as wp
from assistant.server.context import ServerContext
from assistant.server.streams import AudioFeed, Outbox, StopGate
from assistant.wake.base import WakeDetector

log = logging.getLogger(__name__)

REPLY_CHUNK_SAMPLES = 2048


ANNOUNCE_WAIT_S = 10.0


class WyomingSink:
    """An :class:`~assistant.audio.sinks.AudioSink` that sends the reply to the satellite.

    It holds ``speaking`` from a reply's first sound to its end, so an announcement
    never lands in the middle of a reply (the satellite plays one stream at a time)."""

    def __init__(self, outbox: Outbox, speaking: threading.Lock) -> None:
        self.outbox = outbox
        self.speaking = speaking
        self._rate: int | None = None

    def play(self, samples: Samples, rate: int) -> None:
        if self._rate is None:
            self.speaking.acquire()
            self._rate = rate
            self.outbox.post(wp.audio_start(rate))
        for i in range(0, len(samples), REPLY_CHUNK_SAMPLES):
            self.outbox.post(wp.audio_chunk(samples[i : i + REPLY_CHUNK_SAMPLES], rate))

    def finish(self) -> None:
        if self._rate is not None:
            self.outbox.post(wp.audio_stop())
            self._rate = None
            self.speaking.release()


class SatelliteSession:
    def __init__(self, ctx: ServerContext, gate: StopGate, outbox: Outbox, *, name: str,
                 area: str, wake_word: str, peer: str) -> None:
        self.ctx = ctx
        self.gate = gate
        self.outbox = outbox
        self.name = name
        self.area = area
        self.wake_word = wake_word
        self.peer = peer
        self.wake_on: str | None = None
        self._wake: WakeDetector | None = None
        self._vad: Any = None
        self._feed: AudioFeed | None = None
        self._thread: threading.Thread | None = None
        self._command_over = False
        self._loop: VoiceLoop | None = None
        self.turns = 0
        self._speaking = threading.Lock()
        self._speech_end_arrived: float | None = None
        self.pipeline = ctx.brain.pipeline_for(area, self._emit, memory_key=f"satellite:{name}")
        ctx.tracker.source_speaks(name, True)

    # --- status --------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def backlog_s(self) -> float:
        return self._feed.backlog_s if self._feed is not None else 0.0

    # --- runs ------------------------------------------------------------------------

    def start_run(self, start_stage: str) -> None:
        """Begin a run: ``wake`` (server-side wake word) or ``asr`` (one command)."""
        if self.running:
            raise HearthError("a run is already in progress on this satellite", code="busy")
        if start_stage not in ("wake", "asr"):
            raise HearthError(f"hearth runs pipelines from 'wake' or 'asr', not {start_stage!r}",
                              code="bad_request")
        self.wake_on = "server" if start_stage == "wake" else "satellite"
        if self._vad is None:  # loaded on first use, on the event loop's executor
            self._vad = self.ctx.brain.new_vad()
        wake: WakeDetector | None = None
        if start_stage == "wake":
            if self._wake is None:
                self._wake = self.ctx.brain.new_wake([self.wake_word])
            wake = self._wake
            wake.reset()
        self._command_over = False
        self._feed = AudioFeed(self._should_end)
        self._loop = self.ctx.brain.new_loop(
            self.pipeline, vad=self._vad, wake=wake, speaks=True,
            sink=WyomingSink(self.outbox, self._speaking), emit=self._emit, area=self.area)
        self._thread = threading.Thread(target=self._run, args=(self._loop, self._feed, wake),
                                        name=f"satellite-{self.name}", daemon=True)
        self._thread.start()

    def audio(self, pcm16: bytes) -> None:
        if self._feed is not None:
            self._feed.push(pcm16)

    def audio_stop(self) -> None:
        if self._feed is not None:
            self._feed.end()

    def _should_end(self) -> bool:
        if self.wake_on == "satellite" and self._command_over:
            return True
        return self.gate.should_end(self.ctx.tracker.in_turn(self.name))

    def _run(self, loop: VoiceLoop, feed: AudioFeed, wake: WakeDetector | None) -> None:
        try:
            results = loop.run(feed, wake_required=wake is not None)
            self.turns += len(results)
            self.outbox.post(wp.run_ended(len(results), stopping=self.gate.stopping))
        except Exception as exc:  # a bug in one room must not take the server down
            log.exception("satellite run failed", extra={"fields": {"satellite": self.name}})
            self.outbox.post(wp.error(f"the server failed: {exc}", "server_error"))
            self.outbox.post(wp.run_ended(0, stopping=self.gate.stopping))
        finally:
            feed.end()
            if feed.dropped_chunks:
                log.warning("dropped audio: the server could not keep up",
                            extra={"fields": {"satellite": self.name,
                                              "dropped_s": feed.dropped_chunks * 0.08}})

    def drain(self, timeout: float | None = None) -> bool:
        """Shutdown: wait for the run to end (the gate ends it after the current turn)."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def close(self, timeout: float | None = None) -> bool:
        """End the current run (after its turn, if the gate says so); True when it ended."""
        if self._feed is not None:
            self._feed.end()
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def announce(self, text: str, parts: list[Samples], rate: int) -> bool:
        """Say an announcement here, between turns (not over someone giving a command),
        and after any reply being spoken."""
        deadline = time.monotonic() + ANNOUNCE_WAIT_S
        while self.ctx.tracker.in_turn(self.name) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not self._speaking.acquire(timeout=max(0.1, deadline - time.monotonic())):
            log.warning("announcement skipped: the satellite kept talking",
                        extra={"fields": {"satellite": self.name}})
            return False
        try:
            self.outbox.post(wp.hearth_event({"type": "announcement", "text": text}))
            self.outbox.post(wp.audio_start(rate))
            for samples in parts:
                for i in range(0, len(samples), REPLY_CHUNK_SAMPLES):
                    self.outbox.post(wp.audio_chunk(samples[i : i + REPLY_CHUNK_SAMPLES], rate))
            self.outbox.post(wp.audio_stop())
        finally:
            self._speaking.release()
        return True

    # --- events ------------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        data = to_dict(event)
        self.ctx.hub.publish({"source": self.name, "area": self.area, **self._waited(data)})
        self.outbox.post(wp.hearth_event(data))
        mapped = wp.standard_event(data)
        if mapped is not None:
            self.outbox.post(mapped)
        if self.wake_on == "satellite" and self._turn_ends(event):
            self._command_over = True

    def _waited(self, data: dict[str, Any]) -> dict[str, Any]:
        """Add ``since_speech_end_ms`` to actions and replies: measured from when the audio
        holding the end of speech *arrived*, so it stays right when the loop ran behind."""
        kind = data.get("type")
        if kind == "speech_end" and self._feed is not None:
            self._speech_end_arrived = self._feed.arrival(float(data.get("t_audio_ms") or 0.0))
        elif kind in ("action", "reply") and self._speech_end_arrived is not None:
            extra = round((time.monotonic() - self._speech_end_arrived) * 1000.0, 1)
            if kind == "reply":
                self._speech_end_arrived = None
            return {**data, "since_speech_end_ms": extra}
        return data

    def _turn_ends(self, event: Event) -> bool:
        """In a one-command run: is this the end of the turn (and no question pending)?"""
        kind = event.type
        if kind == "speech_end" and getattr(event, "reason", "") == "no_speech":
            return True
        if kind == "transcript" and not getattr(event, "text", ""):
            return True
        if isinstance(event, Reply):
            return event.handled_by not in ("confirm", "clarify")
        return False

