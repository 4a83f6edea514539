"""``hearth satellite``: any Linux box with a microphone (or a WAV, for tests) becomes
Hearth's ears in one room, talking Wyoming to ``hearth serve``.

The satellite introduces itself with its name, area and token, then streams 16 kHz
audio. The wake word runs on the server (default: the satellite stays tiny) or on the
satellite (``--wake-on satellite``: only commands leave the room). It prints the
pipeline's events as they come back, and plays or saves the spoken reply.

It also measures, on its own clock, what a person in the room waits: from the moment
the audio holding the end of speech was sent to the moment the action arrived.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

import numpy as np
from wyoming.event import Event, async_read_event, async_write_event

from assistant.audio.chunk import SAMPLE_RATE, AudioChunk, Samples
from assistant.audio.sinks import AudioSink, NullSink
from assistant.errors import HearthError

log = logging.getLogger(__name__)

HELLO_TIMEOUT_S = 15.0
RUN_END_TIMEOUT_S = 60.0
SENT_MEMORY = 2000  # chunks (160 s) of send times kept for latency measurement


class SatelliteError(HearthError):
    code = "satellite_failed"
    stage = "satellite"


@dataclass
class Turn:
    """One turn as the satellite saw it."""

    wake_word: str | None = None
    speech_end_ms: float | None = None
    """End of speech, in the run's audio time."""
    transcript: str | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)
    reply: str | None = None
    handled_by: str | None = None
    end_to_action_ms: float | None = None
    """Send time of the audio at the end of speech -> receipt of the first action."""
    end_to_reply_ms: float | None = None
    reply_audio_s: float = 0.0


@dataclass
class Summary:
    name: str
    turns: list[Turn] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    audio_sent_s: float = 0.0
    wakes: int = 0
    announcements: list[str] = field(default_factory=list)
    """What the server said unprompted (a timer ringing...)."""

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "audio_sent_s": round(self.audio_sent_s, 2), "wakes": self.wakes,
                "errors": self.errors, "turns": [t.__dict__ for t in self.turns],
                "announcements": self.announcements}


def parse_server(url: str) -> tuple[str, int, bool]:
    """``tcp://HOST:PORT`` or ``tls://HOST:PORT`` -> (host, port, tls)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("tcp", "tls") or not parsed.hostname or not parsed.port:
        raise SatelliteError(
            f"--server must look like tcp://HOST:PORT or tls://HOST:PORT, not {url!r}",
                             code="bad_input")
    return parsed.hostname, parsed.port, parsed.scheme == "tls"


class Satellite:
    """One connection to the server; :meth:`run` streams a source until it ends."""

    def __init__(self, server: str, *, name: str, area: str, token: str,
                 wake_on: Literal["server", "satellite"] = "server", wake_word: str = "hey_jarvis",
                 ca_file: Path | None = None, sink: AudioSink | None = None,
                 on_event: Callable[[dict[str, Any]], None] | None = None,
                 local_wake: Any = None) -> None:
        self.host, self.port, self.tls = parse_server(server)
        self.name, self.area, self.token = name, area, token
        self.wake_on = wake_on
        self.wake_word = wake_word
        self.ca_file = ca_file
        self.sink = sink or NullSink()
        self.on_event = on_event or (lambda _e: None)
        self.local_wake = local_wake
        self.summary = Summary(name)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._sent: collections.OrderedDict[int, float] = collections.OrderedDict()
        self._run_offset_ms = 0.0
        self._run_ended = asyncio.Event()
        self._voice_stopped = asyncio.Event()
        self._turn: Turn | None = None
        self._reply_parts: list[Samples] = []
        self._reply_rate = 22050
        self._announcing = False
        self.source_ended = False
        """The audio source ran out (as opposed to the server going away)."""

    # --- connection --------------------------------------------------------------------

    async def connect(self) -> None:
        ssl_ctx: ssl.SSLContext | None = None
        if self.tls:
            ssl_ctx = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, ssl=ssl_ctx), HELLO_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise SatelliteError(f"cannot reach the server at {self.host}:{self.port}: "
                                 f"{getattr(exc, 'strerror', None) or exc or 'timed out'}",
                                 code="unreachable") from None
        await self._send(Event("info", {
            "satellite": {"name": self.name, "area": self.area, "attribution": {
                "name": "Hearth", "url": ""}, "installed": True, "description": "hearth satellite",
                "version": None, "has_vad": False,
                "active_wake_words": [self.wake_word] if self.wake_on == "satellite" else []},
            "token": self.token}))
        reply = await asyncio.wait_for(self._read(), HELLO_TIMEOUT_S)
        if reply is None:
            raise SatelliteError("the server closed the connection", code="refused")
        if reply.type == "error":
            raise SatelliteError(f"the server refused satellite {self.name!r}: "
                                 f"{reply.data.get('text', '')}", code="refused")
        if reply.type != "run-satellite":
            raise SatelliteError(f"unexpected answer from the server: {reply.type}",
                                 code="protocol")

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()

    async def _send(self, event: Event) -> None:
        assert self._writer is not None
        await async_write_event(event, self._writer)

    async def _read(self) -> Event | None:
        assert self._reader is not None
        return await async_read_event(self._reader)

    # --- streaming ---------------------------------------------------------------------

    async def run(self, source: asyncio.Queue[AudioChunk | None]) -> Summary:
        reader = asyncio.create_task(self._read_events())
        try:
            if self.wake_on == "server":
                await self._stream_all(source)
            else:
                await self._stream_commands(source)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        return self.summary

    async def _start_run(self, stage: str) -> None:
        self._run_ended.clear()
        self._voice_stopped.clear()
        await self._send(Event("run-pipeline", {
            "start_stage": stage, "end_stage": "tts", "restart_on_end": False,
            **({"wake_word_names": [self.wake_word]} if stage == "wake" else {})}))
        await self._send(Event("audio-start", {"rate": SAMPLE_RATE, "width": 2, "channels": 1}))

    async def _send_chunk(self, chunk: AudioChunk, run_ms: float) -> None:
        now = time.monotonic()
        self._sent[round(run_ms + chunk.duration_ms)] = now
        while len(self._sent) > SENT_MEMORY:
            self._sent.popitem(last=False)
        await self._send(Event("audio-chunk", {"rate": SAMPLE_RATE, "width": 2, "channels": 1,
                                               "timestamp": int(run_ms)},
                               payload=chunk.samples.astype("<i2").tobytes()))
        self.summary.audio_sent_s += chunk.duration_ms / 1000.0

    async def _end_run(self) -> None:
        await self._send(Event("audio-stop", {}))
        try:
            await asyncio.wait_for(self._run_ended.wait(), RUN_END_TIMEOUT_S)
        except TimeoutError:
            self.summary.errors.append("no run-ended from the server")

    async def _stream_all(self, source: asyncio.Queue[AudioChunk | None]) -> None:
        """Server-side wake word: one continuous run."""
        await self._start_run("wake")
        pos = 0.0
        while (chunk := await source.get()) is not None:
            if self._run_ended.is_set():  # the server ended the run (shutting down)
                return
            await self._send_chunk(chunk, pos)
            pos += chunk.duration_ms
        self.source_ended = True
        await self._end_run()

    async def _stream_commands(self, source: asyncio.Queue[AudioChunk | None]) -> None:
        """Satellite-side wake word: only the commands leave the room."""
        if self.local_wake is None:
            from assistant.config import load_settings
            from assistant.wake.factory import build_wake_detector

            self.local_wake = build_wake_detector(load_settings(), [self.wake_word])
        wake = self.local_wake
        preroll: collections.deque[AudioChunk] = collections.deque(maxlen=2)
        in_run = False
        pos = 0.0
        while (chunk := await source.get()) is not None:
            if not in_run:
                hit = await asyncio.to_thread(wake.process, chunk)
                if hit is None:
                    preroll.append(chunk)
                    continue
                self.summary.wakes += 1
                self._turn = Turn(wake_word=hit.name)
                self.on_event({"type": "wake", "t_audio_ms": hit.t_audio_ms, "t_wall_ms": 0.0,
                               "wake_word": hit.name, "score": round(hit.score, 4),
                               "on": "satellite"})
                await self._start_run("asr")
                in_run, pos = True, 0.0
                for early in list(preroll)[-1:]:
                    await self._send_chunk(early, pos)
                    pos += early.duration_ms
                preroll.clear()
            await self._send_chunk(chunk, pos)
            pos += chunk.duration_ms
            if self._voice_stopped.is_set() or self._run_ended.is_set():
                await self._end_run()
                in_run = False
                wake.reset()
        self.source_ended = True
        if in_run:
            await self._end_run()

    # --- what comes back ---------------------------------------------------------------

    async def _read_events(self) -> None:
        while True:
            event = await self._read()
            if event is None:
                self._run_ended.set()
                return
            now = time.monotonic()
            kind = event.type
            if kind == "hearth-event":
                self._on_hearth_event(event.data, now)
            elif kind == "voice-stopped":
                self._voice_stopped.set()
            elif kind == "audio-start":
                self._reply_parts, self._reply_rate = [], int(event.data.get("rate", 22050))
            elif kind == "audio-chunk" and event.payload:
                self._reply_parts.append(np.frombuffer(event.payload, dtype="<i2").astype(np.int16))
            elif kind == "audio-stop":
                await self._play_reply()
            elif kind == "run-ended":
                self._run_ended.set()
            elif kind == "error":
                self.summary.errors.append(f"{event.data.get('code')}: {event.data.get('text')}")

    def _latency(self, t_audio_ms: float | None, now: float) -> float | None:
        """ms from sending the chunk that held ``t_audio_ms`` to ``now``."""
        if t_audio_ms is None:
            return None
        for end_ms, sent in self._sent.items():
            if end_ms >= t_audio_ms:
                return round((now - sent) * 1000.0, 1)
        return None

    def _on_hearth_event(self, data: dict[str, Any], now: float) -> None:
        kind = data.get("type")
        turn = self._turn
        if kind == "announcement":
            self.summary.announcements.append(str(data.get("text")))
            self._announcing = True
            self.on_event(data)
            return
        if kind == "wake":
            self.summary.wakes += 1
            turn = self._turn = Turn(wake_word=data.get("wake_word"))
        elif turn is None and kind in ("speech_start", "speech_end", "transcript", "intent"):
            turn = self._turn = Turn()
        if turn is not None:
            if kind == "speech_end":
                turn.speech_end_ms = data.get("t_audio_ms")
                if data.get("reason") == "no_speech":
                    turn.handled_by = "no_speech"
                    self._close_turn(turn)
            elif kind == "transcript":
                turn.transcript = data.get("text")
                if not turn.transcript:
                    turn.handled_by = "not_heard"
                    self._close_turn(turn)
            elif kind == "action":
                turn.actions.append({k: data.get(k) for k in ("service", "entity_id", "data")})
                if turn.end_to_action_ms is None:
                    turn.end_to_action_ms = self._latency(turn.speech_end_ms, now)
            elif kind == "reply":
                turn.reply = data.get("text")
                turn.handled_by = data.get("handled_by")
                turn.end_to_reply_ms = self._latency(turn.speech_end_ms, now)
                self._close_turn(turn)
            elif kind == "error":
                self.summary.errors.append(f"{data.get('stage')}: {data.get('message')}")
        self.on_event(data)

    def _close_turn(self, turn: Turn) -> None:
        self.summary.turns.append(turn)
        self._turn = None

    async def _play_reply(self) -> None:
        if not self._reply_parts:
            return
        audio = np.concatenate(self._reply_parts)
        self._reply_parts = []
        if self._announcing:
            self._announcing = False
        elif self.summary.turns:
            self.summary.turns[-1].reply_audio_s = round(len(audio) / self._reply_rate, 2)
        await asyncio.to_thread(self.sink.play, audio, self._reply_rate)
        await asyncio.to_thread(self.sink.finish)
