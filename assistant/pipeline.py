"""Stage order for one turn: understand -> act -> reply. No vendor code here.

The audio front half (wake word, end of speech, speech-to-text) lives in
:mod:`assistant.loop`, which hands each transcript to :meth:`Pipeline.handle_text`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assistant.errors import HearthError
from assistant.events import (
    ActionApplied,
    Escalated,
    Event,
    EventSink,
    IntentMatched,
    Reply,
    StageFailed,
)
from assistant.home.base import HomeBackend
from assistant.understand.result import Action, Decision
from assistant.understand.router import Understander

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Turn:
    """One turn as a value: where it was said, what was said, what was decided (its
    candidates and pending confirmation inside ``decision``), what was done, what the
    privacy path did, and how long each part took. ``as_json`` is the evaluation contract."""

    text: str
    area: str | None
    decision: Decision
    applied: tuple[Action, ...]
    reply: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    dry_run: bool = False
    room: str = "default"
    """Whose conversation it continued (a satellite, the device's own)."""
    privacy: Any = None
    """What the privacy path did (a ``PrivacyTrace``); None: it was not consulted."""

    def as_json(self) -> dict[str, Any]:
        d = self.decision
        return {
            "text": self.text,
            "area": self.area,
            "handled_by": d.handled_by,
            "intent": d.intent,
            "slots": d.slots,
            "actions": [a.as_dict() for a in (d.actions if self.dry_run else self.applied)],
            "pending": [a.as_dict() for a in d.pending],
            "reply": self.reply,
            "left_device": d.left_device,
            "confidence": d.confidence,
            "candidates": list(d.candidates),
            "reason": d.reason,
            "dry_run": self.dry_run,
            "errors": list(self.errors),
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }


TurnResult = Turn
"""The name callers knew it by."""


class Pipeline:
    """Understand, act and reply for one home; emits events for every step."""

    def __init__(
        self,
        home: HomeBackend,
        understander: Understander,
        *,
        device_area: str | None,
        emit: EventSink,
        clock: Callable[[], float] = time.monotonic,
        room: str = "default",
    ) -> None:
        self.home = home
        self.understander = understander
        self.device_area = device_area
        self.room = room
        """Whose conversation the turns continue ("default": the device's own)."""
        self.emit = emit
        self.clock = clock

    def resolve_area(self, area: str | None) -> str | None:
        """An area by name or id ("Living Room", "living_room") -> its id."""
        return self.home.area(area).id if area else self.device_area

    def handle_text(
        self,
        text: str,
        *,
        area: str | None = None,
        dry_run: bool = False,
        t_audio_ms: float | None = None,
        wall_origin: float | None = None,
    ) -> TurnResult:
        origin = self.clock() if wall_origin is None else wall_origin

        def wall() -> float:
            return (self.clock() - origin) * 1000.0

        def send(event: Event) -> None:
            self.emit(event)

        area_id = self.resolve_area(area)
        t0 = self.clock()
        decision = self.understander.decide(text, area=area_id, room=self.room)
        privacy = self.understander.conversations.get(self.room).privacy
        t1 = self.clock()
        send(IntentMatched(
            t_audio_ms=t_audio_ms, t_wall_ms=wall(), intent=decision.intent, slots=decision.slots,
            handled_by=decision.handled_by, confidence=decision.confidence,
            candidates=list(decision.candidates), reason=decision.reason,
        ))
        if decision.escalation is not None:
            sent = decision.escalation
            send(Escalated(t_audio_ms=t_audio_ms, t_wall_ms=wall(), rule=sent.rule,
                           endpoint=sent.endpoint, payload_bytes=sent.payload_bytes))
        applied: list[Action] = []
        errors: list[str] = []
        for action in decision.actions:
            if dry_run:
                send(ActionApplied(t_audio_ms=t_audio_ms, t_wall_ms=wall(), service=action.service,
                                   entity_id=action.entity_id, data=action.data, dry_run=True))
                continue
            try:
                self.home.call_service(action.service, action.entity_id, action.data)
            except HearthError as exc:
                errors.append(str(exc))
                send(StageFailed(t_audio_ms=t_audio_ms, t_wall_ms=wall(), stage=exc.stage,
                                 code=exc.code, message=str(exc)))
                continue
            applied.append(action)
            send(ActionApplied(t_audio_ms=t_audio_ms, t_wall_ms=wall(), service=action.service,
                               entity_id=action.entity_id, data=action.data))
        t2 = self.clock()
        reply = decision.reply
        if errors:
            reply = f"Sorry, {errors[0]}." if not applied else f"{reply} But {errors[0]}."
        send(Reply(t_audio_ms=t_audio_ms, t_wall_ms=wall(), text=reply,
                   handled_by=decision.handled_by, left_device=decision.left_device))
        return Turn(
            text=text, area=area_id, decision=decision, applied=tuple(applied), reply=reply,
            timings_ms={"understand": (t1 - t0) * 1000, "act": (t2 - t1) * 1000},
            errors=tuple(errors), dry_run=dry_run, room=self.room, privacy=privacy,
        )
