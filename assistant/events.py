"""The event vocabulary: every stage reports what happened as one of these.

Events are frozen and stamped with two clocks: ``t_audio_ms`` (position in the input
audio, when the event is tied to audio) and ``t_wall_ms`` (ms since the first audio
frame was read, or since the turn started for text turns). The same objects feed the
``--json`` output, logs, metrics and the dashboard through :func:`to_dict`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of all events. ``type`` is the stable name in JSON."""

    type: ClassVar[str] = "event"
    t_audio_ms: float | None = None
    t_wall_ms: float = 0.0


@dataclass(frozen=True, kw_only=True)
class WakeDetected(Event):
    type: ClassVar[str] = "wake"
    wake_word: str
    score: float


@dataclass(frozen=True, kw_only=True)
class SpeechStarted(Event):
    type: ClassVar[str] = "speech_start"


@dataclass(frozen=True, kw_only=True)
class SpeechEnded(Event):
    type: ClassVar[str] = "speech_end"
    reason: str  # "silence", "early_match", "max_length", "no_speech", "end_of_input"


@dataclass(frozen=True, kw_only=True)
class Transcript(Event):
    type: ClassVar[str] = "transcript"
    text: str
    stt_ms: float = 0.0
    partial: bool = False


@dataclass(frozen=True, kw_only=True)
class TranscriptPartial(Event):
    """The words so far, decoded while the person is still speaking; ``t_audio_ms`` is
    where the decoded audio ends."""

    type: ClassVar[str] = "transcript_partial"
    text: str
    stt_ms: float = 0.0


@dataclass(frozen=True, kw_only=True)
class IntentMatched(Event):
    type: ClassVar[str] = "intent"
    intent: str | None
    slots: dict[str, Any] = field(default_factory=dict)
    handled_by: str = "local"
    confidence: float = 1.0
    candidates: list[dict[str, Any]] = field(default_factory=list)
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class ActionApplied(Event):
    type: ClassVar[str] = "action"
    service: str
    entity_id: str
    data: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False


@dataclass(frozen=True, kw_only=True)
class Reply(Event):
    type: ClassVar[str] = "reply"
    text: str
    handled_by: str
    left_device: bool = False


@dataclass(frozen=True, kw_only=True)
class TtsStarted(Event):
    type: ClassVar[str] = "tts_start"
    text: str
    tts_ms: float = 0.0


@dataclass(frozen=True, kw_only=True)
class TtsStopped(Event):
    """The reply was cut short (barge-in: the wake word was said while it played)."""

    type: ClassVar[str] = "tts_stop"
    reason: str


@dataclass(frozen=True, kw_only=True)
class Escalated(Event):
    type: ClassVar[str] = "escalated"
    rule: str
    endpoint: str
    payload_bytes: int


@dataclass(frozen=True, kw_only=True)
class StageFailed(Event):
    type: ClassVar[str] = "error"
    stage: str
    code: str
    message: str


def to_dict(event: Event) -> dict[str, Any]:
    """The one serializer: ``type`` first, times rounded to 0.1 ms."""
    out: dict[str, Any] = {"type": event.type}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if f.name in ("t_audio_ms", "t_wall_ms") and value is not None:
            value = round(float(value), 1)
        out[f.name] = value
    return out


def to_json(event: Event) -> str:
    return json.dumps(to_dict(event), ensure_ascii=False, default=str)


EventSink = Callable[[Event], None]
"""Anything that receives events: a printer, a log, a metrics collector, a list."""


def discard(_event: Event) -> None:
    """An event sink that drops everything."""
