"""What a skill may ask about the assistant (:class:`assistant.skills.api.AssistantInfo`),
answered from the registry; and what the registry reads out of a skill's sentence
templates for the catalog (slot names, a few example sentences)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from assistant.settings.root import Settings
from assistant.skills.api import IntentInfo, TurnRecord
from assistant.skills.turns import TurnLog


class Registry(Protocol):
    """What :class:`RegistryInfo` reads of the skill registry (its own module imports this
    one: the registry builds the answers, so this side names only what it reads)."""

    settings: Settings
    started_at: float
    turns: TurnLog

    def catalog(self) -> list[IntentInfo]: ...


_SLOT_RE = re.compile(r"\{(\w+)(?::(\w+))?\}")


class RegistryInfo:
    """:class:`assistant.skills.api.AssistantInfo` over a registry."""

    def __init__(self, registry: Registry) -> None:
        self._r = registry
        self.started_at = registry.started_at

    def catalog(self) -> list[IntentInfo]:
        return self._r.catalog()

    def models(self) -> dict[str, str]:
        s = self._r.settings
        return {
            "speech-to-text": str(s.stt.model or "Whisper tiny.en (bundled)"),
            "local LLM": (str(s.llm.model or "SmolLM2-135M-Instruct (bundled)") if s.llm.enabled
                          else "off"),
            "text-to-speech": str(s.tts.voice or "Piper en_US joe medium (bundled)"),
            "wake word": s.wake.default,
            "home": s.home.backend,
        }

    def last_turns(self, n: int = 1) -> list[TurnRecord]:
        return self._r.turns.last(n)

    def cloud_sends(self) -> tuple[int, str | None]:
        from assistant.privacy.audit import AuditError, open_readonly

        s = self._r.settings
        path = s.privacy.audit_db or s.data_dir / "audit.sqlite"
        try:
            entries = open_readonly(path) or []
        except AuditError:
            return 0, None
        return len(entries), (entries[-1].t_sent if entries else None)


_RULE_RE = re.compile(r"<(\w+)>")


def template_slots(blocks: Iterable[Mapping[str, Any]], rules: Mapping[str, Any]) -> tuple[str, ...]:
    """Slot names a template can fill, following <rule> references."""
    names: list[str] = []

    def walk(text: str, local: Mapping[str, Any], seen: set[str]) -> None:
        names.extend(m.group(2) or m.group(1) for m in _SLOT_RE.finditer(text))
        for rule in _RULE_RE.findall(text):
            body = local.get(rule, rules.get(rule))
            if body is not None and rule not in seen:
                walk(str(body), local, seen | {rule})

    for block in blocks:
        local = block.get("expansion_rules", {}) or {}
        for sentence in block.get("sentences", []):
            walk(str(sentence), local, set())
        names.extend(block.get("slots", {}) or {})
    return tuple(dict.fromkeys(names))


def template_examples(blocks: Iterable[Mapping[str, Any]], n: int = 3) -> tuple[str, ...]:
    """A few readable sentences from templates: first alternatives, optionals dropped."""
    out: list[str] = []
    for block in blocks:
        for sentence in block.get("sentences", []):
            text = str(sentence)
            while "[" in text:
                text = re.sub(r"\[[^\[\]]*\]", "", text)
            while "(" in text:
                text = re.sub(r"\(([^()|]*)(?:\|[^()]*)?\)", r"\1", text)
            text = re.sub(r"<(\w+)>", r"\1", text)
            text = re.sub(r"\{(\w+)(?::\w+)?\}", r"<\1>", text)
            text = re.sub(r"\s+", " ", text).strip()
            if text and text not in out:
                out.append(text)
            if len(out) >= n:
                return tuple(out)
    return tuple(out)
