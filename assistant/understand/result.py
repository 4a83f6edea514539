"""What understanding decides: the intent, the actions, the reply, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from assistant.understand.cloud_trace import Escalation, PrivacyTrace

HandledBy = Literal["local", "local_llm", "cloud", "clarify", "confirm", "refused", "unhandled"]


@dataclass(frozen=True)
class Action:
    """One service call, in Home Assistant's naming."""

    service: str
    entity_id: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"service": self.service, "entity_id": self.entity_id, "data": dict(self.data)}


@dataclass(frozen=True)
class Decision:
    """The outcome of understanding one utterance.

    ``actions`` are to be applied now; ``pending`` wait for a spoken yes.
    """

    handled_by: HandledBy
    reply: str
    intent: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    actions: tuple[Action, ...] = ()
    pending: tuple[Action, ...] = ()
    confidence: float = 1.0
    candidates: tuple[dict[str, Any], ...] = ()
    reason: str = ""
    left_device: bool = False
    expects_reply: bool = False
    """The assistant asked a question: listen for the answer without the wake word."""
    escalation: Escalation | None = None
    """Set when text was sent to the cloud for this decision (the ``escalated`` event)."""
    parts: tuple[Decision, ...] = ()
    """Several commands in one sentence: the decision for each, in order."""
    privacy: PrivacyTrace | None = None
    """What the privacy path did for this decision (None: it was not consulted); the
    pipeline's ``Turn.privacy``."""
