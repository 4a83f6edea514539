"""The text half of a turn: understand -> act on the home -> reply. No vendor code here.

A :class:`Turn` flows through the stages: each takes the turn and returns a new one
(``dataclasses.replace``), and reports itself with ``stage_start``/``stage_end`` events.
The audio front half (wake word, end of speech, speech-to-text) lives in
:mod:`assistant.loop`, which fills a turn's transcript and hands it to :meth:`Pipeline.run`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from assistant.errors import HearthError, UnderstandError
from assistant.events import (
    ActionApplied,
    Escalated,
    EventSink,
    IntentMatched,
    Reply,
    StageClock,
    StageFailed,
)
from assistant.home.base import HomeBackend
from assistant.stages import Stage
from assistant.understand.cloud_trace import PrivacyTrace
from assistant.understand.result import Action, Decision
from assistant.understand.router import Understander

log = logging.getLogger(__name__)

UNDECIDED = Decision("unhandled", "", confidence=0.0, reason="not understood yet")
"""A turn's decision before the understand stage."""

TIMING_NAMES: Mapping[Stage, str] = {Stage.HOME: "act"}
"""A stage's name in ``timings_ms`` and the turn records, where it is not the stage's own."""


def new_turn_id() -> str:
    return uuid.uuid4().hex[:12]


def timing_name(stage: Stage) -> str:
    return TIMING_NAMES.get(stage, stage.value)


@dataclass(frozen=True)
class Turn:
    """One turn as a value: where it was said, what was said, what was decided (its
    candidates and pending confirmation inside ``decision``), what was done, what the
    privacy path did, and how long each stage took. ``as_json`` is the evaluation contract."""

    text: str
    area: str | None = None
    decision: Decision = UNDECIDED
    applied: tuple[Action, ...] = ()
    reply: str = ""
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    """Each stage's duration (its ``stage_end`` event's), by :func:`timing_name`."""
    errors: tuple[str, ...] = ()
    dry_run: bool = False
    room: str = "default"
    """Whose conversation it continued (a satellite, the device's own)."""
    id: str = field(default_factory=new_turn_id)
    """The ``turn_id`` of its stage events (the audio half's, when it began with audio)."""
    t_audio_ms: float | None = None
    """Where the speech ended in the input (None: a text turn)."""

    @property
    def privacy(self) -> PrivacyTrace | None:
        """What the privacy path did (None: it was not consulted): the decision carries it."""
        return self.decision.privacy

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

    def is_complete_command(self, text: str, *, area: str | None = None) -> bool:
        """Would understanding take ``text`` as a whole command, as it stands? (The audio
        half ends a turn early at a short pause on it; nothing is decided or remembered.)"""
        return self.understander.is_complete_command(text, area=self.resolve_area(area))

    def handle_text(
        self,
        text: str,
        *,
        area: str | None = None,
        dry_run: bool = False,
        t_audio_ms: float | None = None,
        wall_origin: float | None = None,
    ) -> Turn:
        """One turn from text (``hearth ask``, ``POST /api/ask``, a Wyoming transcript)."""
        turn = Turn(text=text, area=area, dry_run=dry_run, t_audio_ms=t_audio_ms)
        return self.run(turn, wall_origin=wall_origin)

    def run(self, turn: Turn, *, wall_origin: float | None = None,
            stages: StageClock | None = None) -> Turn:
        """The text half of ``turn``: understand -> act -> reply, each stage timed by its
        events. ``wall_origin``: the monotonic time the turn's ``t_wall_ms`` counts from;
        ``stages``: the audio half's clock, when the turn began with audio."""
        if stages is None:
            origin = self.clock() if wall_origin is None else wall_origin
            stages = StageClock(self.emit, turn.id, lambda: (self.clock() - origin) * 1000.0,
                                t_audio_ms=turn.t_audio_ms)
        turn = replace(turn, area=self.resolve_area(turn.area), room=self.room)
        turn = self.understand(turn, stages)
        turn = self.act(turn, stages)
        turn = self.answer(turn, stages)
        timings = {timing_name(s): ms for s, ms in stages.durations_ms.items()}
        return replace(turn, timings_ms={**turn.timings_ms, **timings})

    def understand(self, turn: Turn, stages: StageClock) -> Turn:
        """Stage.UNDERSTAND (with Stage.SKILL and Stage.CLOUD inside it, when used). A bug
        in understanding raises :class:`UnderstandError` (the voice loop reports it and
        listens on; ``hearth ask`` prints one line)."""
        with stages.span(Stage.UNDERSTAND):
            try:
                decision = self.understander.decide(turn.text, area=turn.area, room=turn.room,
                                                    watch=stages.span)
            except HearthError:
                raise
            except Exception as exc:  # a bug: the stage's error, as Whisper's is SttError
                log.exception("understanding %r failed", turn.text[:80])
                raise UnderstandError(f"understanding failed: {type(exc).__name__}: "
                                      f"{str(exc)[:200]}") from exc
        at, wall = turn.t_audio_ms, stages.wall()
        self.emit(IntentMatched(
            t_audio_ms=at, t_wall_ms=wall, intent=decision.intent, slots=decision.slots,
            handled_by=decision.handled_by, confidence=decision.confidence,
            candidates=list(decision.candidates), reason=decision.reason,
        ))
        if (sent := decision.escalation) is not None:
            self.emit(Escalated(t_audio_ms=at, t_wall_ms=wall, rule=sent.rule,
                                endpoint=sent.endpoint, payload_bytes=sent.payload_bytes))
        return replace(turn, decision=decision)

    def act(self, turn: Turn, stages: StageClock) -> Turn:
        """Stage.HOME: apply the decision's actions (a dry run only reports them). An
        action the home refuses costs that action, not the turn."""
        applied: list[Action] = []
        errors: list[str] = []
        at = turn.t_audio_ms
        with stages.span(Stage.HOME) as outcome:
            for action in turn.decision.actions:
                if turn.dry_run:
                    self.emit(ActionApplied(t_audio_ms=at, t_wall_ms=stages.wall(),
                                            service=action.service, entity_id=action.entity_id,
                                            data=action.data, dry_run=True))
                    continue
                try:
                    self.home.call_service(action.service, action.entity_id, action.data)
                except HearthError as exc:
                    errors.append(str(exc))
                    outcome.failed(exc.code)
                    self.emit(StageFailed(t_audio_ms=at, t_wall_ms=stages.wall(),
                                          stage=exc.stage, code=exc.code, message=str(exc)))
                    continue
                applied.append(action)
                self.emit(ActionApplied(t_audio_ms=at, t_wall_ms=stages.wall(),
                                        service=action.service, entity_id=action.entity_id,
                                        data=action.data))
        return replace(turn, applied=tuple(applied), errors=(*turn.errors, *errors))

    def answer(self, turn: Turn, stages: StageClock) -> Turn:
        """The reply: the decision's, saying what the home refused."""
        reply = turn.decision.reply
        if turn.errors:
            first = turn.errors[0]
            reply = f"Sorry, {first}." if not turn.applied else f"{reply} But {first}."
        self.emit(Reply(t_audio_ms=turn.t_audio_ms, t_wall_ms=stages.wall(), text=reply,
                        handled_by=turn.decision.handled_by, left_device=turn.decision.left_device))
        return replace(turn, reply=reply)
