"""Hearth's use of the Wyoming protocol: the events it sends and how it authenticates.

Wyoming is JSON-lines events with an optional binary payload. Hearth speaks the
standard events (``detection``, ``voice-started``, ``transcript``, ``handled``,
``audio-*``, ``error``, ``info`` ...) and adds three, which other Wyoming peers simply
ignore (unknown events are dropped by convention):

``auth``          client -> server, ``{"token"}``: the API token, for the services.
``hearth-event``  server -> satellite: every pipeline event, exactly as
                  ``hearth listen --json`` prints it.
``run-ended``     server -> satellite, ``{"turns", "stopping"}``: the run started by
                  ``run-pipeline`` is over (its audio is all processed).

A satellite authenticates with its first event: ``info`` carrying a ``satellite``
block (name, area) and a ``token`` beside it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event

from assistant.audio.chunk import SAMPLE_RATE, Samples
from assistant.limits import (
    AUDIO_CHANNELS,
    AUDIO_CHUNK_BYTES,
    AUDIO_RATES,
    AUDIO_WIDTHS,
    TEXT_CHARS,
)

AUTH = "auth"
HEARTH_EVENT = "hearth-event"
RUN_ENDED = "run-ended"


MAX_DATA_BYTES = 256 * 1024
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
"""Per event. Audio chunks are a few KB; a claim of more is refused before it is read,
so nobody can make the server buffer gigabytes (least of all before authenticating)."""


class BadEvent(Exception):
    """An event Hearth will not take: the connection gets an ``error`` and is closed."""


class TooLarge(BadEvent):
    pass


class _Fields(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class _AudioFormat(_Fields):
    rate: int = Field(ge=AUDIO_RATES[0], le=AUDIO_RATES[1])
    width: int
    channels: int = Field(ge=AUDIO_CHANNELS[0], le=AUDIO_CHANNELS[1])
    timestamp: int | float | None = None

    @field_validator("width")
    @classmethod
    def _width(cls, width: int) -> int:
        if width not in AUDIO_WIDTHS:
            raise ValueError(f"width must be one of {', '.join(map(str, AUDIO_WIDTHS))} bytes")
        return width


class _Text(_Fields):
    text: str = Field(max_length=TEXT_CHARS)


class _OptionalText(_Fields):
    text: str | None = Field(None, max_length=TEXT_CHARS)


class _Transcript(_Text):
    context: dict[str, Any] | None = None


class _Detect(_Fields):
    names: list[str] | None = Field(None, max_length=16)


class _RunPipeline(_Fields):
    start_stage: str | None = Field(None, max_length=32)
    end_stage: str | None = Field(None, max_length=32)


class _Token(_Fields):
    token: str = Field(max_length=4096)


_SHAPES: dict[str, type[_Fields]] = {
    "audio-start": _AudioFormat, "audio-chunk": _AudioFormat, "transcript": _Transcript,
    "synthesize": _Text, "detect": _Detect, "run-pipeline": _RunPipeline, AUTH: _Token,
    "ping": _OptionalText,
}
"""The fields Hearth reads of each event it acts on; other events pass as they are."""


def check(event: Event) -> Event:
    """``event`` if its fields have the types and sizes Hearth needs, else :class:`BadEvent`
    naming the event and the field (a KeyError deep in a handler is no answer)."""
    shape = _SHAPES.get(event.type)
    if shape is not None:
        try:
            shape.model_validate(event.data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "data"
            raise BadEvent(f"bad {event.type!r} event: {where}: {first['msg']}") from None
    if event.type == "audio-chunk":
        size = len(event.payload or b"")
        if size > AUDIO_CHUNK_BYTES:
            raise BadEvent(f"audio-chunk of {size} bytes (the limit is {AUDIO_CHUNK_BYTES})")
    return event


async def read_event(reader: asyncio.StreamReader) -> Event | None:
    """:func:`wyoming.event.async_read_event` with size limits and :func:`check`; None at
    the end of the stream."""
    try:
        line = await reader.readline()
    except (ValueError, asyncio.LimitOverrunError):  # a header line over the stream limit
        raise TooLarge("event header too long") from None
    if not line:
        return None
    try:
        header = json.loads(line)
        data_length = int(header.get("data_length") or 0)
        payload_length = int(header.get("payload_length") or 0)
        kind = str(header["type"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise TooLarge("not a Wyoming event") from None
    if not 0 <= data_length <= MAX_DATA_BYTES or not 0 <= payload_length <= MAX_PAYLOAD_BYTES:
        raise TooLarge(f"event {kind!r} too large ({data_length} + {payload_length} bytes)")
    data = header.get("data") or {}
    if data_length:
        try:
            extra = json.loads(await reader.readexactly(data_length))
        except ValueError:
            raise TooLarge("event data is not JSON") from None
        if isinstance(extra, dict) and isinstance(data, dict):
            data.update(extra)
    payload = await reader.readexactly(payload_length) if payload_length else None
    return check(Event(type=kind, data=data if isinstance(data, dict) else {}, payload=payload))


def audio_start(rate: int) -> Event:
    return AudioStart(rate=rate, width=2, channels=1).event()


def audio_chunk(samples: Samples, rate: int, timestamp: int | None = None) -> Event:
    return AudioChunk(rate=rate, width=2, channels=1, audio=samples.astype("<i2").tobytes(),
                      timestamp=timestamp).event()


def audio_stop() -> Event:
    return AudioStop().event()


def error(text: str, code: str) -> Event:
    return Error(text=text, code=code).event()


def run_ended(turns: int, *, stopping: bool = False) -> Event:
    return Event(RUN_ENDED, {"turns": turns, "stopping": stopping})


def hearth_event(data: dict[str, Any]) -> Event:
    return Event(HEARTH_EVENT, data)


def converter() -> AudioChunkConverter:
    """A resampler to 16 kHz; it keeps state between chunks, so one per stream."""
    return AudioChunkConverter(rate=SAMPLE_RATE)


def to_pcm16k(event: Event, conv: AudioChunkConverter) -> bytes:
    """An ``audio-chunk`` in any rate/width/channels -> 16 kHz mono s16le.

    Channels are averaged here (Wyoming's converter sums them, which clips)."""
    chunk = AudioChunk.from_event(event)
    if chunk.width != 2:
        chunk = AudioChunkConverter(width=2).convert(chunk)
    if chunk.channels != 1:
        frame = 2 * chunk.channels
        pcm = chunk.audio[: len(chunk.audio) - len(chunk.audio) % frame]
        mono = np.frombuffer(pcm, dtype="<i2").reshape(-1, chunk.channels).mean(axis=1)
        chunk = AudioChunk(rate=chunk.rate, width=2, channels=1,
                           audio=mono.astype("<i2").tobytes())
    if chunk.rate != SAMPLE_RATE:
        chunk = conv.convert(chunk)
    return chunk.audio


def pcm_to_samples(pcm: bytes) -> Samples:
    return np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(np.int16)


def standard_event(data: dict[str, Any]) -> Event | None:
    """The standard Wyoming event for a Hearth event, when there is one."""
    kind = data.get("type")
    t = data.get("t_audio_ms")
    stamp = int(t) if isinstance(t, int | float) else None
    if kind == "wake":
        return Event("detection", {"name": data.get("wake_word"), "timestamp": stamp})
    if kind == "speech_start":
        return Event("voice-started", {"timestamp": stamp})
    if kind == "speech_end":
        return Event("voice-stopped", {"timestamp": stamp})
    if kind == "transcript":
        return Event("transcript", {"text": data.get("text", "")})
    if kind == "reply":
        handled = data.get("handled_by") not in ("unhandled", "refused")
        return Event("handled" if handled else "not-handled", {"text": data.get("text", "")})
    if kind == "error":
        return error(str(data.get("message", "")), str(data.get("code", "error")))
    return None
