"""Tool calls the cloud proposes: checked against the entities it was told about and
:func:`assistant.home.services.validate` before anything happens."""

from __future__ import annotations

import json

from assistant.errors import CloudError, HearthError
from assistant.home.base import HomeBackend
from assistant.home.services import validate
from assistant.llm.cloud import ToolCall
from assistant.privacy.minimise import TOOL_NAME, CloudPayload
from assistant.understand.result import Action, Decision


def tool_decision(home: HomeBackend, calls: list[ToolCall], payload: CloudPayload, reply: str,
                  why: str) -> Decision:
    """The cloud's proposed actions, each checked against what it was told and against the
    service's rules; sensitive ones wait for a spoken yes, a bad one refuses them all."""
    actions: list[Action] = []
    pending: list[Action] = []
    for call in calls:
        try:
            action, sensitive = check_call(home, call, payload)
        except HearthError as exc:
            return Decision(
                "refused",
                f"The cloud suggested something I can't do: {exc}.",
                left_device=True,
                reason=f"{why}; tool call refused: {exc.code}",
            )
        (pending if sensitive else actions).append(action)
    if pending:
        names = ", ".join(f"{a.service} {home.entity(a.entity_id).name}" for a in pending)
        question = f"The cloud wants to {names} — shall I?"
        return Decision(
            "confirm",
            join_sentences(reply, question),
            actions=tuple(actions),
            pending=tuple(pending),
            left_device=True,
            expects_reply=True,
            reason=f"{why}; sensitive action waits for a yes",
        )
    done = reply or "Done."
    return Decision(
        "cloud",
        done,
        actions=tuple(actions),
        left_device=True,
        reason=f"{why}; {len(actions)} tool call(s) validated",
    )

def check_call(home: HomeBackend, call: ToolCall, payload: CloudPayload) -> tuple[Action, bool]:
    """One tool call -> the action it means and whether it is sensitive (or a CloudError)."""
    if call.name != TOOL_NAME:
        raise CloudError(f"it called an unknown tool {call.name!r}", code="tool_unknown")
    try:
        args = json.loads(call.arguments or "{}")
    except ValueError:
        raise CloudError("its tool call was not valid JSON", code="tool_invalid") from None
    if not isinstance(args, dict):
        raise CloudError("its tool call was not an object", code="tool_invalid")
    service, entity_id, data = (
        args.get("service"),
        args.get("entity_id"),
        args.get("data") or {},
    )
    if (
        not isinstance(service, str)
        or not isinstance(entity_id, str)
        or not isinstance(data, dict)
    ):
        raise CloudError("its tool call lacks a service or entity", code="tool_invalid")
    if entity_id not in payload.entities:
        raise CloudError(f"there is no device {entity_id!r} it may use", code="unknown_entity")
    entity = home.entity(entity_id)
    if "." not in service:
        service = f"{entity.domain}.{service}"
    clean = validate(entity, service, data, home.get_state(entity_id))
    return Action(service, entity_id, clean), entity.sensitive


def join_sentences(a: str, b: str) -> str:
    return f"{a} {b}" if a else b
