"""System status: how long the assistant has been up, which models it runs, how many
skills it has, and — the question a private assistant must answer — how the last
request was handled and whether anything left the device (from the turn log and the
privacy audit log)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from assistant.skills import Intent, Permissions, Skill, SkillContext, hookimpl
from assistant.skills.timers import describe_duration

HERE = Path(__file__).parent

skill: Skill[Any] = Skill(
    "system_status",
    "Reports uptime, models, and how the last request was handled.",
    sentences=[HERE / "sentences" / "en.yaml"],
    permissions=Permissions(),
)

ROUTES = {
    "local": "on this device, by the sentence templates",
    "local_llm": "on this device, by the local language model",
    "cloud": "by the cloud model",
    "clarify": "on this device, with a question back to you",
    "confirm": "on this device, waiting for your yes",
    "refused": "on this device: it was refused",
    "unhandled": "on this device, but not understood",
}


@skill.intent("HearthSystemStatus", examples=["system status", "how long have you been running"])
def status(intent: Intent, ctx: SkillContext[Any]) -> str:
    """Uptime, models, skills and cloud use."""
    info = ctx.assistant
    up = describe_duration(max(1.0, ctx.timers.now() - info.started_at))
    models = info.models()
    skills = {i.skill for i in info.catalog()}
    sent, last = info.cloud_sends()
    cloud = ("Nothing has been sent to the cloud." if not sent else
             f"{sent} request{'s have' if sent != 1 else ' has'} been sent to the cloud, the last at {last}.")
    return (f"All good. I've been up for {up}, with {len(skills)} skills. "
            f"Speech: {models['speech-to-text']}. Local model: {models['local LLM']}. "
            f"Voice: {models['text-to-speech']}. {cloud}")


@skill.intent("HearthLastRequest", examples=["how was that handled", "did anything leave the device"])
def last_request(intent: Intent, ctx: SkillContext[Any]) -> str:
    """How the request before this one was handled, and whether it left the device."""
    turns = ctx.assistant.last_turns(1)
    if not turns:
        return "I haven't handled a request yet."
    t = turns[0]
    ago = describe_duration(max(1.0, ctx.timers.now() - t.at))
    what = f" ({t.intent})" if t.intent else ""
    route = ROUTES.get(t.handled_by, t.handled_by)
    left = ("Its text was sent off the device; 'hearth audit' shows exactly what." if t.left_device
            else "Nothing left the device.")
    when = dt.datetime.fromtimestamp(t.at).strftime("%H:%M")
    return f"Your last request{what}, {ago} ago at {when}, was handled {route}. {left}"


@hookimpl
def register_skills(register: Any) -> None:
    register(skill)
