"""Turn records: the events of one turn folded into per-stage latencies.

A turn opens at its first stage (``stage_start``; or at a wake word, the first sign of
speech, or the ``ask`` record of a text turn) and closes at the reply — or, when the
source speaks, when its spoken reply's stage (``tts``) ends. Each closed turn is
published as a ``turn`` record: that is what the dashboard's latency chart and the
Prometheus histograms are made of, so they show the stage events' own durations.
"""

from __future__ import annotations

import collections
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.pipeline import timing_name
from assistant.server.hub import EventHub, Record
from assistant.stages import Stage

STAGES = ("wake", "vad", "stt", "understand", "act", "tts", "end_to_action", "end_to_reply")
"""Latency stages (ms). Each stage of the turn's own (``act``: Stage.HOME) is its
``stage_end`` duration; a skill and the cloud run inside ``understand`` and are not
counted twice. ``tts``: the time to the first audio of the reply (``tts_start``), what a
person waits for. ``end_to_action``: end of speech -> first action: from the arrival of
the audio holding the end of speech when the source knows it (``since_speech_end_ms`` on
the action, satellites), else audio time vs wall time."""

_NESTED = (Stage.SKILL, Stage.CLOUD, Stage.TTS)
"""Stages whose duration is not a record's stage: inside understanding, or measured to
the first audio instead."""
_OPENERS = ("wake", "speech_start")
_ENDS_THE_TURN = (Stage.WAKE, Stage.VAD, Stage.STT)
"""A failure here ends the turn (no reply follows, but perhaps a spoken "sorry")."""


@dataclass(frozen=True)
class TurnRecord:
    """One finished turn, as ``GET /api/turns`` and the ``turn`` record show it."""

    source: str
    area: str | None
    started_ts: float
    turn_id: str | None
    wake_word: str | None
    text: str | None
    intent: str | None
    handled_by: str | None
    reply: str | None
    actions: list[str]
    speech_end_reason: str | None
    errors: list[str]
    stages_ms: dict[str, float]

    def as_fields(self) -> dict[str, Any]:
        return {"type": "turn", **asdict(self)}


@dataclass
class _Open:
    """A turn being folded (mutable until it closes into a :class:`TurnRecord`)."""

    source: str
    area: str | None
    started_ts: float
    turn_id: str | None = None
    wake_word: str | None = None
    speech_end_audio_ms: float | None = None
    speech_end_reason: str | None = None
    first_action_wall_ms: float | None = None
    reply_wall_ms: float | None = None
    stages: dict[str, float] = field(default_factory=dict)
    running: set[str] = field(default_factory=set)
    """Its stages that have started and not ended."""
    text: str | None = None
    intent: str | None = None
    handled_by: str | None = None
    reply: str | None = None
    actions: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def failed(self, code: str) -> None:
        if code not in self.errors:  # a stage's error event and its end say it once
            self.errors.append(code)


class TurnTracker:
    """Listens to the hub; keeps the last ``keep`` turn records."""

    def __init__(self, hub: EventHub, *, keep: int = 300) -> None:
        self.hub = hub
        self._lock = threading.Lock()
        self._open: dict[str, _Open] = {}
        self._speaks: dict[str, bool] = {}
        self._closed: dict[str, str | None] = {}
        """Each source's last closed turn id: its late stage events open nothing."""
        self._turns: collections.deque[Record] = collections.deque(maxlen=keep)
        self.completed = 0
        hub.add_listener(self.on_record)

    def source_speaks(self, source: str, speaks: bool) -> None:
        """Whether a spoken reply (Stage.TTS) follows this source's replies."""
        self._speaks[source] = speaks

    def in_turn(self, source: str) -> bool:
        with self._lock:
            return source in self._open

    def turns(self, limit: int | None = None) -> list[Record]:
        with self._lock:
            items = list(self._turns)
        return items[-limit:] if limit else items

    def on_record(self, rec: Record) -> None:
        if rec.type == "turn" or rec.source is None:
            return
        done = None
        with self._lock:
            turn = self._opened(self._open.get(rec.source), rec)
            if turn is None:
                return
            done = self._fold(turn, rec)
            if done is not None:
                del self._open[rec.source]
                self._closed[rec.source] = done.turn_id
        if done is not None:
            self._close(done)

    def _opened(self, turn: _Open | None, rec: Record) -> _Open | None:
        """The open turn ``rec`` belongs to: this one, or a new one it starts."""
        kind, turn_id = rec.type, rec.get("turn_id")
        if turn_id is not None and turn_id == self._closed.get(str(rec.source)):
            return None  # a reply's later sentence, said after its turn closed
        if turn is not None and turn_id is not None and turn.turn_id in (None, turn_id):
            turn.turn_id = turn_id  # a text turn opened by its "ask" learns its id
            return turn
        if kind == "stage_end":
            return None  # the end of a turn already closed
        starts = (kind == "stage_start" or (kind in _OPENERS and turn is None)
                  or (kind == "wake" and turn is not None and turn.wake_word is not None)
                  or (kind in ("ask", "intent") and turn is None))
        if not starts:
            return turn
        if turn is not None and turn.reply is None:
            turn.failed("abandoned")  # it is not closed: a new turn replaces it
        assert rec.source is not None
        turn = self._open[rec.source] = _Open(rec.source, rec.area, rec.ts, turn_id=turn_id)
        if kind == "ask":
            turn.text = rec.get("text")
        return turn

    def _fold(self, t: _Open, rec: Record) -> _Open | None:
        kind, wall = rec.type, rec.get("t_wall_ms")
        speaks = self._speaks.get(t.source, False)
        if kind == "stage_start":
            t.running.add(str(rec["stage"]))
        elif kind == "stage_end":
            stage, error = Stage(rec["stage"]), rec.get("error")
            t.running.discard(stage.value)
            if stage not in _NESTED:
                t.stages[timing_name(stage)] = float(rec["duration_ms"])
            if error:
                t.failed(str(error))
            if stage is Stage.TTS:  # not a streamed sentence said before the reply came
                return t if t.reply is not None or t.errors else None
            if error and stage in _ENDS_THE_TURN and not t.running:
                return None if error == "empty_transcript" and speaks else t  # "sorry" is said
        elif kind == "wake":
            t.wake_word = rec.get("wake_word")
        elif kind == "speech_end":
            t.speech_end_audio_ms = rec.get("t_audio_ms")
            t.speech_end_reason = rec.get("reason")
        elif kind == "transcript":
            t.text = rec.get("text")
        elif kind == "intent":
            t.intent = rec.get("intent")
            t.handled_by = rec.get("handled_by")
        elif kind == "action":
            t.actions.append(f"{rec.get('service')} {rec.get('entity_id')}")
            if t.first_action_wall_ms is None:
                t.first_action_wall_ms = wall
                if rec.get("since_speech_end_ms") is not None:
                    t.stages["end_to_action"] = float(rec["since_speech_end_ms"])
        elif kind == "reply":
            if rec.get("since_speech_end_ms") is not None:
                t.stages["end_to_reply"] = float(rec["since_speech_end_ms"])
            t.reply = rec.get("text")
            t.handled_by = rec.get("handled_by") or t.handled_by
            t.reply_wall_ms = wall
            return None if speaks else t
        elif kind == "tts_start":
            t.stages["tts"] = float(rec.get("tts_ms") or 0.0)
        elif kind == "error":
            t.failed(str(rec.get("code")))
        return None

    def _close(self, t: _Open) -> None:
        if t.speech_end_audio_ms is not None:  # unless measured from the audio's arrival
            if t.first_action_wall_ms is not None:
                t.stages.setdefault("end_to_action",
                                    t.first_action_wall_ms - t.speech_end_audio_ms)
            if t.reply_wall_ms is not None:
                t.stages.setdefault("end_to_reply", t.reply_wall_ms - t.speech_end_audio_ms)
        record = TurnRecord(
            source=t.source, area=t.area, started_ts=t.started_ts, turn_id=t.turn_id,
            wake_word=t.wake_word, text=t.text, intent=t.intent, handled_by=t.handled_by,
            reply=t.reply, actions=t.actions, speech_end_reason=t.speech_end_reason,
            errors=t.errors, stages_ms={k: round(v, 1) for k, v in t.stages.items()})
        with self._lock:
            self.completed += 1
        published = self.hub.publish(record.as_fields())
        with self._lock:
            self._turns.append(published)
