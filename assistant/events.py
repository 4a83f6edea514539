"""The event vocabulary: every stage reports what happened as one of these.

Events are frozen and stamped with two clocks: ``t_audio_ms`` (position in the input
audio, when the event is tied to audio) and ``t_wall_ms`` (ms since the first audio
frame was read, or since the turn started for text turns). The same objects feed the
``--json`` output, logs, metrics and the dashboard through :func:`to_dict`.

Every stage a turn passes through also reports ``stage_start`` and ``stage_end``
(:class:`StageStarted`, :class:`StageEnded`) under the turn's id; a :class:`StageClock`
emits them, so the per-stage latencies of the turn records and ``/metrics`` are these
events' durations, not timers of their own.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from assistant.errors import HearthError
from assistant.stages import Stage


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
class ReplySentence(Event):
    """A sentence of a reply still arriving (the cloud streams), restored and ready to be
    said: the voice loop says it at once, before the turn's ``reply``."""

    type: ClassVar[str] = "reply_sentence"
    text: str


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
class TtsPaused(Event):
    """The reply went silent while a wake word heard over it is checked (barge-in); a
    ``tts_stop`` or ``tts_resume`` follows."""

    type: ClassVar[str] = "tts_pause"
    reason: str


@dataclass(frozen=True, kw_only=True)
class TtsResumed(Event):
    """The check found no wake word: the paused reply plays on from where it stopped."""

    type: ClassVar[str] = "tts_resume"
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


@dataclass(frozen=True, kw_only=True)
class StageEvent(Event):
    """A stage of turn ``turn_id`` began or ended; ``t_wall_ms`` is when."""

    stage: Stage
    turn_id: str


@dataclass(frozen=True, kw_only=True)
class StageStarted(StageEvent):
    type: ClassVar[str] = "stage_start"


@dataclass(frozen=True, kw_only=True)
class StageEnded(StageEvent):
    """``duration_ms``: from the stage's start to its end. ``error``: the code of what
    failed (the stage's error, ``no_speech``, ``internal_error``), None when ``ok``."""

    type: ClassVar[str] = "stage_end"
    duration_ms: float
    ok: bool = True
    error: str | None = None


def to_dict(event: Event) -> dict[str, Any]:
    """The one serializer: ``type`` first, times rounded to 0.1 ms, enums as their value."""
    out: dict[str, Any] = {"type": event.type}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if f.name in ("t_audio_ms", "t_wall_ms", "duration_ms") and value is not None:
            value = round(float(value), 1)
        elif isinstance(value, StrEnum):
            value = str(value)
        out[f.name] = value
    return out


def to_json(event: Event) -> str:
    return json.dumps(to_dict(event), ensure_ascii=False, default=str)


EventSink = Callable[[Event], None]
"""Anything that receives events: a printer, a log, a metrics collector, a list."""


def discard(_event: Event) -> None:
    """An event sink that drops everything."""


class StageClock:
    """The stage events of one turn: each stage's start, then its end with its duration.

    ``wall()`` gives the turn's ``t_wall_ms`` now. A stage may be timed around a block
    (:meth:`span`), opened and closed by hand (:meth:`start`, :meth:`end`), or recorded
    after the fact when its work ran elsewhere (:meth:`record`: Whisper decodes while the
    person speaks). :attr:`durations_ms` keeps what ended, for the turn's timings.
    """

    def __init__(self, emit: EventSink, turn_id: str, wall: Callable[[], float],
                 t_audio_ms: float | None = None) -> None:
        self.emit = emit
        self.turn_id = turn_id
        self.wall = wall
        self.t_audio_ms = t_audio_ms
        self.durations_ms: dict[Stage, float] = {}
        self._open: dict[Stage, float] = {}

    def is_open(self, stage: Stage) -> bool:
        return stage in self._open

    def start(self, stage: Stage, *, at_wall_ms: float | None = None) -> None:
        started = self.wall() if at_wall_ms is None else at_wall_ms
        self._open[stage] = started
        self.emit(StageStarted(t_audio_ms=self.t_audio_ms, t_wall_ms=started, stage=stage,
                               turn_id=self.turn_id))

    def end(self, stage: Stage, *, error: str | None = None,
            at_wall_ms: float | None = None) -> None:
        """End an open stage (a stage never started is started now: it failed at once)."""
        if stage not in self._open:
            self.start(stage, at_wall_ms=at_wall_ms)
        now = self.wall() if at_wall_ms is None else at_wall_ms
        duration = max(0.0, now - self._open.pop(stage))
        self.durations_ms[stage] = duration
        self.emit(StageEnded(t_audio_ms=self.t_audio_ms, t_wall_ms=now, stage=stage,
                             turn_id=self.turn_id, duration_ms=duration, ok=error is None,
                             error=error))

    def record(self, stage: Stage, duration_ms: float, *, error: str | None = None) -> None:
        """A stage whose work ended just now and took ``duration_ms``."""
        now = self.wall()
        self.start(stage, at_wall_ms=now - max(0.0, duration_ms))
        self.end(stage, error=error, at_wall_ms=now)

    def close(self, error: str, *, failed: str | None = None) -> None:
        """The turn ends early: stage ``failed`` (an error's ``stage``, which may be no
        stage: ``audio``) ends with ``error`` unless it has ended, then every stage still open."""
        if failed in tuple(Stage) and (Stage(failed) not in self.durations_ms
                                       or Stage(failed) in self._open):
            self.end(Stage(failed), error=error)
        for stage in list(self._open):
            self.end(stage, error=error)

    @contextmanager
    def span(self, stage: Stage) -> Iterator[StageOutcome]:
        """Time the block as ``stage``. The block may set the outcome's ``error`` (a part
        failed, the rest went on), or code deep inside it may, through :func:`stage_failed`;
        an exception ends the stage with its code, and goes on."""
        self.start(stage)
        outcome = StageOutcome()
        token = _OPEN_SPAN.set(_OpenSpan(self, stage, outcome, _OPEN_SPAN.get()))
        error: str | None = "internal_error"
        try:
            yield outcome
            error = outcome.error
        except HearthError as exc:
            error = exc.code
            raise
        finally:
            _OPEN_SPAN.reset(token)
            self.end(stage, error=error)


@dataclass
class StageOutcome:
    """How a timed stage ended: ``error`` is the code of its first failure, if any."""

    error: str | None = None

    def failed(self, code: str) -> None:
        self.error = self.error or code


@dataclass(frozen=True)
class _OpenSpan:
    clock: StageClock
    stage: Stage
    outcome: StageOutcome
    outer: _OpenSpan | None


_OPEN_SPAN: ContextVar[_OpenSpan | None] = ContextVar("hearth_open_span", default=None)
"""The innermost :meth:`StageClock.span` open on this thread (as a tracer's current span)."""


def in_turn(make: Callable[[float | None, float], Event], *, otherwise: EventSink) -> None:
    """Report an event from code deep inside a stage: ``make(t_audio_ms, t_wall_ms)`` joins
    the events of the turn whose span is open on this thread, stamped with its clocks;
    outside any turn it goes to ``otherwise``, unstamped."""
    span = _OPEN_SPAN.get()
    if span is None:
        otherwise(make(None, 0.0))
        return
    clock = span.clock
    clock.emit(make(clock.t_audio_ms, clock.wall()))


def stage_failed(stage: Stage, code: str, message: str, *, otherwise: EventSink) -> None:
    """Report a failure that its own stage answers instead of raising (a skill's runner
    turns it into a spoken error): the open span of ``stage`` ends with ``code``, and the
    ``error`` event joins that turn's events, stamped with its clocks. Called outside
    any turn's span, the event goes to ``otherwise`` unstamped."""
    span = _OPEN_SPAN.get()
    while span is not None and span.stage is not stage:
        span = span.outer
    if span is not None:
        span.outcome.failed(code)
    in_turn(lambda at, wall: StageFailed(t_audio_ms=at, t_wall_ms=wall, stage=stage, code=code,
                                         message=message), otherwise=otherwise)
