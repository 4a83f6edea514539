"""Data minimisation: the cloud learns about the home only what the policy's rule allows.

The messages sent are a system prompt and the redacted user text — never audio, never
the raw text. Entity names (and the ``home_action`` tool that lets the cloud propose
actions) are added only when the rule sets ``share_entity_names``, restricted to the
entities ``privacy.cloud_entities`` names; their states only with ``share_home_state``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant.home.base import Area, Entity, HomeBackend
from assistant.home.services import SERVICES, services_for
from assistant.privacy.policy import PolicyDecision
from assistant.privacy.settings import PrivacySettings

TOOL_NAME = "home_action"

BASE_PROMPT = (
    "You are Hearth, a voice assistant in a family home. Answer in one to three short "
    "sentences that sound natural when spoken aloud: plain text, no lists, no markdown. "
    "Words in angle brackets such as <PERSON_1> or <TIME_1> stand for private details "
    "that were removed; keep them exactly as written."
)
NO_HOME_PROMPT = "You know nothing about this home's devices and cannot control them."

_DATA_HELP = {
    "brightness_pct": "brightness_pct (1-100)",
    "rgb_color": "rgb_color ([r, g, b], 0-255 each)",
    "temperature": "temperature (°C)",
    "position": "position (0-100)",
    "percentage": "percentage (0-100)",
    "volume_level": "volume_level (0.0-1.0)",
}


@dataclass(frozen=True)
class CloudPayload:
    """The chat messages and tools that would leave the device (the body is built from them)."""

    messages: tuple[dict[str, Any], ...]
    tools: tuple[dict[str, Any], ...] = ()
    entities: tuple[str, ...] = ()
    """Entity ids the cloud was told about (the only ones a tool call may name)."""

    @property
    def user_text(self) -> str:
        return str(self.messages[-1]["content"])

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"messages": [dict(m) for m in self.messages]}
        if self.tools:
            out["tools"] = [dict(t) for t in self.tools]
        return out


def cloud_entities(entities: Sequence[Entity], settings: PrivacySettings) -> list[Entity]:
    """The home's entities the policy lets the cloud know about (and act on)."""
    return [
        e
        for e in entities
        if any(fnmatch.fnmatchcase(e.entity_id, p) for p in settings.cloud_entities)
    ]


def _area_names(areas: Sequence[Area]) -> dict[str, str]:
    return {a.id: a.name for a in areas}


def _describe(entity: Entity, areas: dict[str, str], state: str | None) -> str:
    where = f", {areas.get(entity.area, entity.area)}" if entity.area else ""
    text = f"- {entity.entity_id} ({entity.name}{where})"
    if state is not None:
        text += f": {state}"
    return text


def _state_text(home: HomeBackend, entity: Entity) -> str:
    st = home.get_state(entity.entity_id)
    if not st.available:
        return "unavailable"
    extras = []
    for key in ("brightness_pct", "temperature", "current_position", "percentage", "volume_level"):
        if key in st.attributes:
            extras.append(f"{key} {st.attributes[key]}")
    unit = f" {entity.unit}" if entity.unit else ""
    return st.state + unit + (f" ({', '.join(extras)})" if extras else "")


def _tool(entities: Sequence[Entity]) -> dict[str, Any]:
    services = sorted({s for e in entities for s in services_for(e)})
    params = sorted(
        {name for e in entities for spec in SERVICES.get(e.domain, {}).values() for name in spec[0]}
    )
    data_help = ", ".join(_DATA_HELP.get(p, p) for p in params) or "nothing"
    return {
        "type": "function",
        "function": {
            "name": TOOL_NAME,
            "description": "Change one device in the home. Only the listed devices exist.",
            "parameters": {
                "type": "object",
                "properties": {
                    "service": {"type": "string", "enum": services},
                    "entity_id": {"type": "string", "enum": [e.entity_id for e in entities]},
                    "data": {"type": "object", "description": f"Optional settings: {data_help}."},
                },
                "required": ["service", "entity_id"],
            },
        },
    }


def build_payload(
    redacted_text: str,
    decision: PolicyDecision,
    home: HomeBackend,
    settings: PrivacySettings,
    *,
    area: str | None = None,
) -> CloudPayload:
    """The messages (and tools) for one request, as minimal as ``decision`` allows."""
    system = [BASE_PROMPT]
    tools: tuple[dict[str, Any], ...] = ()
    shared: tuple[str, ...] = ()
    entities = cloud_entities(home.entities(), settings) if decision.share_entity_names else []
    if entities:
        areas = _area_names(home.areas())
        lines = [
            _describe(e, areas, _state_text(home, e) if decision.share_home_state else None)
            for e in entities
        ]
        here = f" The person speaking is in the {areas.get(area, area)}." if area else ""
        system.append(
            "Devices in this home (entity id, name, area"
            + (", state" if decision.share_home_state else "")
            + "):\n"
            + "\n".join(lines)
            + f"\nTo change a device, call the {TOOL_NAME} tool.{here}"
        )
        tools = (_tool(entities),)
        shared = tuple(e.entity_id for e in entities)
    else:
        system.append(NO_HOME_PROMPT)
    messages = (
        {"role": "system", "content": "\n\n".join(system)},
        {"role": "user", "content": redacted_text},
    )
    return CloudPayload(messages, tools, shared)
