"""Turn records: the events of one turn folded into per-stage latencies.

A turn opens at a wake word (or at the first sign of speech when the wake word ran on
a satellite, or at the ``ask`` record of a text turn) and closes at the reply — or at the
spoken reply's start when the source speaks. Each closed turn is published as a
``turn`` record: that is what the dashboard's latency chart and the Prometheus
histograms are made of.
"""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass, field
from typing import Any

from assistant.server.hub import EventHub, Record

STAGES = ("stt", "understand", "act", "tts", "end_to_action", "end_to_reply")
"""Latency stages (ms). ``end_to_action``: end of speech -> first action, what a person
waits: from the arrival of the audio holding the end of speech when the source knows it
(``since_speech_end_ms`` on the action, satellites), else audio time vs wall time."""

_OPENERS = ("wake", "speech_start")
_CLOSERS_WITHOUT_REPLY = ("error",)


@dataclass
class _Open:
    source: str
    area: str | None
    started_ts: float
    text_turn: bool = False
    """Opened by the intent: the wall clock started with understanding."""
    wake_word: str | None = None
    speech_end_audio_ms: float | None = None
    speech_end_reason: str | None = None
    transcript_wall_ms: float | None = None
    intent_wall_ms: float | None = None
    first_action_wall_ms: float | None = None
    reply_wall_ms: float | None = None
    stages: dict[str, float] = field(default_factory=dict)
    text: str | None = None
    intent: str | None = None
    handled_by: str | None = None
    reply: str | None = None
    actions: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class TurnTracker:
    """Listens to the hub; keeps the last ``keep`` turn records."""

    def __init__(self, hub: EventHub, *, keep: int = 300) -> None:
        self.hub = hub
        self._lock = threading.Lock()
        self._open: dict[str, _Open] = {}
        self._speaks: dict[str, bool] = {}
        self._turns: collections.deque[Record] = collections.deque(maxlen=keep)
        self.completed = 0
        hub.add_listener(self.on_record)

    def source_speaks(self, source: str, speaks: bool) -> None:
        """Whether a spoken reply (``tts_start``) follows this source's replies."""
        self._speaks[source] = speaks

    def in_turn(self, source: str) -> bool:
        with self._lock:
            return source in self._open

    def turns(self, limit: int | None = None) -> list[Record]:
        with self._lock:
            items = list(self._turns)
        return items[-limit:] if limit else items

    def on_record(self, rec: Record) -> None:
        kind = rec.get("type")
        source = rec.get("source")
        if kind == "turn" or not isinstance(source, str):
            return
        done = None
        with self._lock:
            turn = self._open.get(source)
            if kind in _OPENERS and (turn is None or kind == "wake"):
                if turn is not None and turn.reply is None and kind == "wake":
                    turn.errors.append("abandoned")
                turn = self._open[source] = _Open(source, rec.get("area"), rec["ts"])
                if kind == "wake":
                    turn.wake_word = rec.get("wake_word")
            elif kind in ("ask", "intent") and turn is None:  # a text turn: no audio stages
                turn = self._open[source] = _Open(source, rec.get("area"), rec["ts"],
                                                  text_turn=True)
                turn.text = rec.get("text")
            if turn is None:
                return
            done = self._fold(turn, kind, rec)
            if done is not None:
                del self._open[source]
        if done is not None:
            self._close(done)

    def _fold(self, t: _Open, kind: Any, rec: Record) -> _Open | None:
        wall = rec.get("t_wall_ms")
        if kind == "speech_end":
            t.speech_end_audio_ms = rec.get("t_audio_ms")
            t.speech_end_reason = rec.get("reason")
            if rec.get("reason") == "no_speech":
                t.errors.append("no_speech")
                return t
        elif kind == "transcript":
            t.text = rec.get("text")
            t.transcript_wall_ms = wall
            t.stages["stt"] = float(rec.get("stt_ms") or 0.0)
            if not t.text:
                t.errors.append("empty_transcript")
                return t if not self._speaks.get(t.source, False) else None
        elif kind == "intent":
            t.intent = rec.get("intent")
            t.handled_by = rec.get("handled_by")
            t.intent_wall_ms = wall
            if t.transcript_wall_ms is not None and wall is not None:
                t.stages["understand"] = max(0.0, wall - t.transcript_wall_ms)
            elif t.text_turn and wall is not None:
                t.stages["understand"] = wall
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
            if t.intent_wall_ms is not None and wall is not None:
                t.stages["act"] = max(0.0, wall - t.intent_wall_ms)
            return None if self._speaks.get(t.source, False) else t
        elif kind == "tts_start":
            t.stages["tts"] = float(rec.get("tts_ms") or 0.0)
            return t
        elif kind in _CLOSERS_WITHOUT_REPLY:
            t.errors.append(str(rec.get("code")))
        return None

    def _close(self, t: _Open) -> None:
        if t.speech_end_audio_ms is not None:  # unless measured from the audio's arrival
            if t.first_action_wall_ms is not None:
                t.stages.setdefault("end_to_action",
                                    t.first_action_wall_ms - t.speech_end_audio_ms)
            if t.reply_wall_ms is not None:
                t.stages.setdefault("end_to_reply", t.reply_wall_ms - t.speech_end_audio_ms)
        record: Record = {
            "type": "turn", "source": t.source, "area": t.area, "started_ts": t.started_ts,
            "wake_word": t.wake_word, "text": t.text, "intent": t.intent,
            "handled_by": t.handled_by, "reply": t.reply, "actions": t.actions,
            "speech_end_reason": t.speech_end_reason, "errors": t.errors,
            "stages_ms": {k: round(v, 1) for k, v in t.stages.items()},
        }
        with self._lock:
            self.completed += 1
        published = self.hub.publish(record)
        with self._lock:
            self._turns.append(published)
