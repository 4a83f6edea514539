"""What the privacy path did for one utterance: the policy's verdict, the redaction, the
payload and what came of it (``--explain``, ``--json``'s ``privacy``, the benchmarks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.privacy.minimise import CloudPayload
from assistant.privacy.policy import PolicyDecision


@dataclass(frozen=True)
class Escalation:
    """What left the device for one decision; the audit log row has the rest."""

    rule: str
    endpoint: str
    payload_bytes: int
    audit_id: int | None = None


@dataclass
class PrivacyTrace:
    """What the privacy path did for one utterance (``--explain``, ``--json``, benchmarks)."""

    text: str
    policy: PolicyDecision
    redacted: str | None = None
    placeholders: dict[str, tuple[str, str]] = field(default_factory=dict)
    payload: CloudPayload | None = None
    endpoint: str | None = None
    model: str | None = None
    body: bytes | None = None
    """The exact request body (explain: as the client built it; sent: as audited)."""
    sent: bool = False
    audit_id: int | None = None
    outcome: str | None = None
    note: str = ""
    prepare_ms: float = 0.0
    """Policy + redaction + payload building."""
    first_sentence_ms: float | None = None
    """From the start of this stage to the first sentence of the reply."""
    ttft_ms: float | None = None
    latency_ms: float | None = None

    def escalation(self) -> Escalation | None:
        """What left the device, for the decision's ``escalated`` event (None: nothing)."""
        if not self.sent:
            return None
        return Escalation(rule=self.policy.rule, endpoint=self.endpoint or "",
                          payload_bytes=len(self.body or b""), audit_id=self.audit_id)

    def as_json(self) -> dict[str, Any]:
        return {
            **self.policy.as_dict(),
            "redacted_text": self.redacted,
            "placeholders": {k: v[0] for k, v in self.placeholders.items()},
            "endpoint": self.endpoint,
            "model": self.model,
            "payload": self.payload.as_json() if self.payload else None,
            "body": self.body.decode("utf-8") if self.body is not None else None,
            "payload_bytes": len(self.body) if self.body is not None else None,
            "sent": self.sent,
            "audit_id": self.audit_id,
            "outcome": self.outcome,
            "note": self.note,
            "timings_ms": {
                k: round(v, 2)
                for k, v in (
                    ("prepare", self.prepare_ms),
                    ("first_sentence", self.first_sentence_ms),
                    ("ttft", self.ttft_ms),
                    ("cloud", self.latency_ms),
                )
                if v is not None
            },
        }
