"""The privacy policy: a pure function from a request and the settings to a decision.

No I/O, no clock, no globals: the same request under the same settings always gets
the same decision, so ``--explain`` shows exactly what a real turn would do and the
policy can be tested exhaustively. Order of evaluation:

1. audio never leaves (built in, whatever the settings say);
2. mode ``local_only`` -> deny;
3. the first rule whose skills, intents and topics all match -> its effect;
4. otherwise ``privacy.default``;
5. an ``allow`` under mode ``ask`` becomes ``ask`` (a spoken yes per query).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from assistant.privacy.settings import Effect, PolicyRule, PrivacyMode, PrivacySettings, RedactKind

Verdict = Literal["send", "ask", "deny"]


@dataclass(frozen=True)
class CloudRequest:
    """What wants to leave the device: text only, never audio."""

    text: str
    skill: str | None = None
    """The skill asking (None for the understanding fallback)."""
    intent: str | None = None
    """The intent understanding guessed, if any."""
    modality: Literal["text", "audio"] = "text"


@dataclass(frozen=True)
class PolicyDecision:
    """What the policy decided and why (``rule`` names what made the decision)."""

    verdict: Verdict
    rule: str
    """``rule:<name>``, ``default``, ``mode:local_only`` or ``builtin:audio_never_leaves``."""
    mode: PrivacyMode
    topics: tuple[str, ...] = ()
    share_entity_names: bool = False
    share_home_state: bool = False
    redact: tuple[RedactKind, ...] = ()
    reply: str | None = None
    """The local answer when the verdict is deny."""
    reason: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "verdict": self.verdict,
            "rule": self.rule,
            "mode": self.mode,
            "topics": list(self.topics),
            "share_entity_names": self.share_entity_names,
            "share_home_state": self.share_home_state,
            "redact": list(self.redact),
            "reason": self.reason,
        }


def _keyword_pattern(word: str) -> str:
    word = word.strip().lower()
    prefix = word.endswith("*")
    parts = [re.escape(p) for p in word.rstrip("*").split()]
    body = r"\s+".join(parts)
    return rf"\b{body}" + (r"\w*" if prefix else r"\b")


@lru_cache(maxsize=64)
def _compile_topic(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(_keyword_pattern(w) for w in words), re.IGNORECASE)


def detect_topics(text: str, topics: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Names of the topics whose keywords occur in ``text``, in the config's order."""
    return tuple(
        name for name, words in topics.items() if _compile_topic(tuple(words)).search(text)
    )


def _matches(rule: PolicyRule, request: CloudRequest, topics: tuple[str, ...]) -> bool:
    if (
        rule.skills
        and not ("*" in rule.skills and request.skill)
        and request.skill not in rule.skills
    ):
        return False
    if rule.intents and request.intent not in rule.intents:
        return False
    return not rule.topics or any(t in topics for t in rule.topics)


def _verdict(effect: Effect, mode: PrivacyMode) -> Verdict:
    if effect == "deny":
        return "deny"
    if effect == "ask" or mode == "ask":
        return "ask"
    return "send"


def evaluate(request: CloudRequest, settings: PrivacySettings) -> PolicyDecision:
    """Decide whether ``request`` may go to the cloud, and in what form."""
    mode = settings.mode
    topics = detect_topics(request.text, settings.topics)
    if request.modality != "text":
        return PolicyDecision(
            "deny",
            "builtin:audio_never_leaves",
            mode,
            topics,
            reply=settings.denied_reply,
            reason="audio never leaves the device",
        )
    if mode == "local_only":
        return PolicyDecision(
            "deny",
            "mode:local_only",
            mode,
            topics,
            reason="privacy mode local_only: nothing leaves the device",
        )
    for rule in settings.rules:
        if _matches(rule, request, topics):
            verdict = _verdict(rule.effect, mode)
            redact = tuple(dict.fromkeys((*settings.redact, *rule.redact)))
            why = f"rule {rule.name!r} ({rule.effect})"
            if verdict == "ask" and rule.effect == "allow":
                why += " under mode ask"
            return PolicyDecision(
                verdict,
                f"rule:{rule.name}",
                mode,
                topics,
                share_entity_names=rule.share_entity_names and verdict != "deny",
                share_home_state=rule.share_home_state and verdict != "deny",
                redact=redact,
                reply=(rule.reply or settings.denied_reply) if verdict == "deny" else None,
                reason=why,
            )
    verdict = _verdict(settings.default, mode)
    return PolicyDecision(
        verdict,
        "default",
        mode,
        topics,
        redact=tuple(settings.redact),
        reply=settings.denied_reply if verdict == "deny" else None,
        reason=f"no rule matched; default is {settings.default}",
    )
