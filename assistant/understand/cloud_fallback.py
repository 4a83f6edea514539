"""The last stage of the route: the cloud, only as the privacy policy permits.

For an utterance nothing local understood, :class:`CloudFallback` asks the policy
(:mod:`assistant.privacy.policy`), redacts (:mod:`assistant.privacy.redact`), builds the
minimal payload (:mod:`assistant.privacy.minimise`) and sends it through the audited
client (:mod:`assistant.llm.cloud`). Outcomes:

* policy says no -> ``refused`` with the rule's local answer (or the previous decision
  unchanged under ``local_only``/no endpoint: nothing to add, nothing sent);
* mode ``ask`` -> ``confirm``: "That needs the cloud — shall I ask it?"; a following
  "yes" (through the router's conversation follow-up) sends exactly what was prepared;
* sent -> ``cloud`` with ``left_device=True``; each sentence joins the turn's events as
  it arrives (``reply_sentence``: the voice loop starts saying the first one), placeholders
  restored;
* cloud fails -> "I can't reach the cloud right now." (or the local LLM's best effort),
  the turn ends, nothing hangs.

Tool calls the cloud proposes are checked against the entities it was told about and
:func:`assistant.home.services.validate`; sensitive ones wait for a spoken yes.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from assistant.config import Settings
from assistant.errors import CloudError, HearthError
from assistant.events import ReplySentence, discard, in_turn
from assistant.home.base import HomeBackend
from assistant.llm.cloud import (
    AuditContext,
    AuditedCloud,
    CloudEndpoint,
    render_request,
    resolve_endpoint,
)
from assistant.privacy.audit import AuditLog
from assistant.privacy.minimise import CloudPayload, build_payload
from assistant.privacy.policy import CloudRequest, PolicyDecision, evaluate
from assistant.privacy.redact import Redaction, Redactor
from assistant.stages import Stage
from assistant.understand.cloud_tools import tool_decision
from assistant.understand.cloud_trace import PrivacyTrace
from assistant.understand.result import Decision
from assistant.understand.router import CONFIRM_WINDOW_S

__all__ = ["ASK_REPLY", "DECLINED_REPLY", "FAILED_REPLY", "INTERNAL_ERROR", "CloudFallback", "PrivacyTrace"]

log = logging.getLogger(__name__)

ASK_REPLY = "That needs the cloud — shall I ask it?"
FAILED_REPLY = "I can't reach the cloud right now."
DECLINED_REPLY = "Okay, I won't ask the cloud."
INTERNAL_ERROR = "internal_error"
"""The outcome (trace, audit row) when the cloud stage itself fails, not the cloud."""
QUESTION_FILE = "cloud_question.json"
"""Where a question waiting for its yes is kept, so a "yes" in the next process (one
``hearth ask`` per turn) still finds it. Read once and deleted at start-up."""


class _Conversation(Protocol):
    """The part of a room's conversation this stage uses: a yes/no question it asks, the
    utterance as it was said."""

    follow_up: Callable[[bool], Decision] | None
    follow_up_since: float
    utterance: str


@dataclass(frozen=True)
class _Prepared:
    """An utterance made ready to leave: what the policy said, the redaction, the payload."""

    text: str
    policy: PolicyDecision
    redaction: Redaction
    payload: CloudPayload


class CloudFallback:
    """A :class:`~assistant.understand.router.Fallback` that escalates to the cloud."""

    name = "cloud"
    stage = Stage.CLOUD
    """The router times this fallback as its own stage (policy check, redaction, request)."""

    def __init__(
        self,
        settings: Settings,
        home: HomeBackend,
        *,
        explain: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.privacy = settings.privacy
        self.home = home
        self.explain = explain
        p = settings.privacy
        self.redactor = Redactor(
            household=p.household,
            contacts=p.contacts,
            places=p.places,
            names_from_context=p.names_from_context,
        )
        self.endpoint: CloudEndpoint | None = resolve_endpoint(
            settings.cloud, os.environ if env is None else env
        )
        self.audit_path: Path = p.audit_db or settings.data_dir / "audit.sqlite"
        self.question_path: Path = settings.data_dir / QUESTION_FILE
        self._audit: AuditLog | None = None
        self._cloud: AuditedCloud | None = None
        self._conversation: _Conversation | None = None

    # ---------------------------------------------------------------- wiring -----------

    def attach(self, conversation: _Conversation) -> None:
        """Give the fallback the router's conversation, so mode ``ask`` can wait for a yes.

        A question asked by the previous process (still within the confirmation window)
        is taken over: its file is deleted now, so it is answered at most once, and only
        by the very next utterance (the router drops it on anything but yes/no).
        """
        self._conversation = conversation
        try:
            saved = json.loads(self.question_path.read_text(encoding="utf-8"))
            self.question_path.unlink()
            age = time.time() - float(saved["at"])
            text, area, skill = str(saved["text"]), saved.get("area"), saved.get("skill")
        except (OSError, ValueError, KeyError, TypeError):
            return
        if 0 <= age <= CONFIRM_WINDOW_S:
            self._wait_for_yes(text, area if isinstance(area, str) else None, None, age,
                               skill if isinstance(skill, str) else None, conversation)

    def close(self) -> None:
        if self._cloud is not None:
            self._cloud.close()
            self._cloud = None
        if self._audit is not None:
            self._audit.close()
            self._audit = None

    # ---------------------------------------------------------------- the stage --------

    def decide(self, text: str, area: str | None, previous: Decision,
               conversation: _Conversation | None = None) -> Decision | None:
        conv = conversation or self._conversation
        try:
            return self._decide(self._as_said(text, conv), area, previous, skill=None, conv=conv)
        except Exception as exc:  # a bug before the policy answered: no trace yet
            return self._broken(exc, previous, None)

    def _traced(self, trace: PrivacyTrace, previous: Decision,
                run: Callable[[], Decision]) -> Decision:
        """``run``'s decision, carrying ``trace`` (``Turn.privacy``). A bug on this path must
        not cost the turn its local answer: ``previous`` answers, the trace says why."""
        try:
            decision = run()
        except Exception as exc:
            decision = self._broken(exc, previous, trace)
        return replace(decision, privacy=trace)

    @staticmethod
    def _broken(exc: Exception, previous: Decision, trace: PrivacyTrace | None) -> Decision:
        log.exception("the cloud stage failed; answering locally")
        detail = f"{type(exc).__name__}: {exc}"[:300]
        sent = False
        if trace is not None:
            trace.outcome = trace.outcome or INTERNAL_ERROR
            trace.note = f"the cloud stage failed ({detail}); answered on the device"
            sent = trace.sent
        return replace(previous, left_device=previous.left_device or sent,
                       reason=_join(previous.reason, f"cloud failed: {INTERNAL_ERROR}: {detail}"))

    @staticmethod
    def _as_said(text: str, conv: _Conversation | None) -> str:
        """``text`` with the capitals it was said with: the router may hand fallbacks a
        normalised (lower-cased) copy, but names and redaction need the original."""
        said = conv.utterance.strip().replace("’", "'") if conv else ""
        n = len(text)
        if n and len(said) >= n and said[len(said) - n:].lower() == text.lower():
            return said[len(said) - n:]
        return text

    def escalate(self, text: str, *, skill: str, area: str | None = None) -> Decision:
        """A skill asks the cloud on the user's behalf: the same policy (rules by ``skill``),
        redaction, audit and failure handling as any other request."""
        nothing = Decision("unhandled", "Sorry, I can't answer that here.", confidence=0.0)
        return self._decide(text, area, nothing, skill=skill, conv=self._conversation)

    def _decide(self, text: str, area: str | None, previous: Decision, *,
                skill: str | None, conv: _Conversation | None) -> Decision:
        t0 = time.perf_counter()
        policy = evaluate(CloudRequest(text=text, intent=previous.intent, skill=skill),
                          self.privacy)
        trace = PrivacyTrace(text=text, policy=policy)
        return self._traced(trace, previous, lambda: self._route(
            trace, area, previous, skill=skill, conv=conv, t0=t0))

    def _route(self, trace: PrivacyTrace, area: str | None, previous: Decision, *,
               skill: str | None, conv: _Conversation | None, t0: float) -> Decision:
        """Where the policy's verdict leads: refused, not sent, explained, asked or sent."""
        text, policy = trace.text, trace.policy
        if policy.verdict == "deny":
            trace.prepare_ms = (time.perf_counter() - t0) * 1000
            trace.note = "nothing sent"
            if policy.reply is None:  # local_only: nothing to add to the local answer
                return replace(previous, reason=_join(previous.reason, f"cloud: {policy.reason}"))
            return Decision(
                "refused",
                policy.reply,
                confidence=previous.confidence,
                reason=f"privacy {policy.rule}: {policy.reason}",
            )
        prepared = self._prepare(text, area, policy)
        trace.redacted = prepared.redaction.text
        trace.placeholders = dict(prepared.redaction.placeholders)
        trace.payload = prepared.payload
        trace.prepare_ms = (time.perf_counter() - t0) * 1000
        if self.endpoint is None:
            trace.note = (
                "no cloud endpoint configured (cloud.url or HEARTH_CLOUD_URL); nothing sent"
            )
            return replace(previous, reason=_join(previous.reason, "cloud: no endpoint configured"))
        trace.endpoint, trace.model = self.endpoint.url, self.endpoint.model
        if self.explain:
            return self._explain(prepared, trace, previous)
        if policy.verdict == "ask":
            trace.note = "waiting for a spoken yes; nothing sent"
            self._wait_for_yes(text, area, previous, 0.0, skill, conv)
            if conv is self._conversation:  # the device's own: the next process may answer
                self._save_question(text, area, skill)
            return Decision("confirm", ASK_REPLY, expects_reply=True,
                            reason=f"privacy {policy.rule}: {policy.reason}")
        decision = self._send(prepared, trace, previous, consent="policy", t0=t0)
        return replace(decision, escalation=trace.escalation())

    def _prepare(self, text: str, area: str | None, policy: PolicyDecision) -> _Prepared:
        redaction = self.redactor.redact(text, policy.redact)
        payload = build_payload(redaction.text, policy, self.home, self.privacy, area=area)
        return _Prepared(text, policy, redaction, payload)

    def _explain(self, prepared: _Prepared, trace: PrivacyTrace, previous: Decision) -> Decision:
        assert self.endpoint is not None
        try:
            trace.endpoint, trace.body = render_request(self.endpoint, prepared.payload)
        except CloudError as exc:
            trace.note = f"cannot build the request: {exc}"
        verdict = prepared.policy.verdict
        size = f"{len(trace.body)} bytes" if trace.body is not None else "a request"
        trace.note = trace.note or (
            f"explain: nothing was sent; would send {size} to {trace.endpoint}"
            + (" after a spoken yes" if verdict == "ask" else "")
        )
        return Decision(
            "cloud" if verdict == "send" else "confirm",
            f"({trace.note}.)",
            confidence=previous.confidence,
            left_device=False,
            reason=f"privacy {prepared.policy.rule}: {prepared.policy.reason}",
        )

    def _wait_for_yes(self, text: str, area: str | None, previous: Decision | None,
                      age: float, skill: str | None, conv: _Conversation | None) -> None:
        if conv is None:
            return

        def answer(yes: bool) -> Decision:
            self.question_path.unlink(missing_ok=True)
            if not yes:
                return Decision("local", DECLINED_REPLY, intent="HearthDeny",
                                reason="the user declined sending to the cloud")
            nothing = previous or Decision("unhandled", FAILED_REPLY, confidence=0.0)
            try:
                return self._send_after_yes(text, area, nothing, skill, conv)
            except Exception as exc:  # as in decide(): the turn still gets an answer
                return self._broken(exc, nothing, None)

        conv.follow_up = answer
        conv.follow_up_since = time.monotonic() - age

    def _send_after_yes(self, text: str, area: str | None, previous: Decision,
                        skill: str | None, conv: _Conversation | None) -> Decision:
        """The user said yes: decide again under the policy as it is now (it may have changed
        since the question, e.g. another process runs local_only) and send if it still may."""
        t0 = time.perf_counter()
        policy = evaluate(CloudRequest(text=text, skill=skill), self.privacy)
        trace = PrivacyTrace(text=text, policy=policy)
        return self._traced(trace, previous, lambda: self._send_now(
            trace, area, previous, conv=conv, t0=t0))

    def _send_now(self, trace: PrivacyTrace, area: str | None, previous: Decision, *,
                  conv: _Conversation | None, t0: float) -> Decision:
        text, policy = trace.text, trace.policy
        if policy.verdict == "deny" or self.endpoint is None:
            trace.note = "the policy no longer allows it; nothing sent"
            return Decision("refused", policy.reply or "I can't send that to the cloud now.",
                            reason=f"after yes: privacy {policy.rule}: {policy.reason}")
        prepared = self._prepare(text, area, policy)
        trace.redacted, trace.payload = prepared.redaction.text, prepared.payload
        trace.placeholders = dict(prepared.redaction.placeholders)
        trace.endpoint, trace.model = self.endpoint.url, self.endpoint.model
        trace.prepare_ms = (time.perf_counter() - t0) * 1000
        decision = self._send(prepared, trace, previous, consent="spoken_yes", t0=t0)
        return replace(decision, escalation=trace.escalation())

    def _save_question(self, text: str, area: str | None, skill: str | None) -> None:
        try:
            self.question_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.question_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"text": text, "area": area, "skill": skill, "at": time.time()}, f)
        except OSError as exc:  # the question still works in this process
            log.warning("cannot keep the cloud question for the next process: %s", exc)

    def _client(self) -> AuditedCloud:
        if self._cloud is None:
            assert self.endpoint is not None
            if self._audit is None:
                self._audit = AuditLog(self.audit_path)
            self._cloud = AuditedCloud(self.endpoint, self._audit)
        return self._cloud

    def _send(
        self,
        prepared: _Prepared,
        trace: PrivacyTrace,
        previous: Decision | None,
        *,
        consent: str,
        t0: float,
    ) -> Decision:
        policy = prepared.policy
        sentences: list[str] = []
        try:
            stream = self._client().stream(
                prepared.payload, AuditContext(rule=policy.rule, mode=policy.mode, consent=consent)
            )
        except HearthError as exc:
            trace.outcome, trace.note = exc.code, str(exc)
            return self._failed(previous, exc)
        try:
            for sentence in stream:
                spoken = prepared.redaction.restore(sentence)
                if trace.first_sentence_ms is None:
                    trace.first_sentence_ms = (time.perf_counter() - t0) * 1000
                sentences.append(spoken)
                self._tell(spoken)
        except CloudError as exc:
            trace.note = str(exc)
            return self._failed(previous, exc, sent=stream.sent)
        except Exception as exc:  # ours, after the request left: the audit row says so
            stream.fail(INTERNAL_ERROR, f"{type(exc).__name__}: {exc}"[:300])
            raise
        finally:
            stream.close()
            trace.sent, trace.audit_id, trace.outcome = stream.sent, stream.audit_id, stream.outcome
            trace.ttft_ms, trace.latency_ms = stream.ttft_ms, stream.latency_ms
            trace.body = stream.body  # the exact bytes the audit row holds
        reply = " ".join(sentences)
        why = f"cloud via privacy {policy.rule} ({consent}); audit #{stream.audit_id}"
        if stream.tool_calls:
            return tool_decision(self.home, stream.tool_calls, prepared.payload, reply, why)
        return Decision("cloud", reply, left_device=True, reason=why)

    @staticmethod
    def _tell(sentence: str) -> None:
        """The sentence joins the turn's events (the voice loop says it at once); outside a
        turn (a caller of ``decide`` alone) no one is there to say it."""
        in_turn(lambda at, wall: ReplySentence(t_audio_ms=at, t_wall_ms=wall, text=sentence),
                otherwise=discard)

    @staticmethod
    def _failed(previous: Decision | None, exc: HearthError, *, sent: bool = False) -> Decision:
        log.warning("cloud failed: %s (%s)", exc, exc.code)
        reason = f"cloud failed: {exc.code}: {exc}"
        if previous is not None and previous.handled_by == "local_llm" and previous.reply:
            return replace(previous, reason=_join(previous.reason, reason), left_device=sent)
        return Decision("unhandled", FAILED_REPLY, confidence=0.0, left_device=sent, reason=reason)


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b
