"""Help: "what can you do" lists one example per loaded skill (or every example of one
skill), read from the skills themselves; and short honest answers to Home
Assistant's HassRespond questions ("are you always listening?", "where does my data go?")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.skills import Intent, IntentInfo, Permissions, Skill, SkillContext, hookimpl

HERE = Path(__file__).parent

skill: Skill[Any] = Skill(
    "help",
    "Says what you can ask, with examples from every skill.",
    sentences=[HERE / "sentences" / "en.yaml"],
    permissions=Permissions(),
)


def _by_skill(catalog: list[IntentInfo]) -> dict[str, list[IntentInfo]]:
    out: dict[str, list[IntentInfo]] = {}
    for info in catalog:
        if info.skill != skill.name:
            out.setdefault(info.skill, []).append(info)
    return out


def _quote(examples: list[str]) -> str:
    quoted = [f"'{e}'" for e in examples]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _find(name: str, skills: dict[str, list[IntentInfo]]) -> str | None:
    key = name.lower().strip(" ?.").replace(" ", "_")
    for candidate in skills:
        if candidate == key or candidate.startswith(key.rstrip("s")) or key.startswith(candidate.rstrip("s")):
            return candidate
    return None


@skill.intent("HearthWhatCanYouDo", examples=["what can you do", "what can the timers skill do"])
def what_can_you_do(intent: Intent, ctx: SkillContext[Any]) -> str:
    """One example per skill, or all of one skill's."""
    skills = _by_skill(ctx.assistant.catalog())
    asked = intent.get("skill")
    if asked:
        name = _find(str(asked), skills)
        if name is None:
            return f"I don't have a {asked} skill. I have: {', '.join(s.replace('_', ' ') for s in skills)}."
        examples = [e for info in skills[name] for e in info.examples][:4]
        return f"The {name.replace('_', ' ')} skill. Try {_quote(examples)}."
    examples = [next((e for info in infos for e in info.examples), "") for infos in skills.values()]
    return "You can say things like " + _quote([e for e in examples if e]) + "."


@skill.intent("HassRespond", examples=["hello", "are you always listening", "where does my data go"])
def respond(intent: Intent, ctx: SkillContext[Any]) -> str:
    """Home Assistant's small talk, answered truthfully for this box."""
    text = intent.text.lower()
    if "listening" in text or "recording" in text:
        return ("I only listen for the wake word, on this device. Nothing is kept, and audio never "
                "leaves the device.")
    if "data" in text:
        return ("It stays here: speech is transcribed on this device, and your lists and timers are "
                "stored here. Text goes to a cloud model only when your privacy settings allow it, "
                "and every time is logged.")
    if "say" in text or "ask" in text:
        return what_can_you_do(Intent("HearthWhatCanYouDo", {}, intent.text), ctx)
    if "made" in text or "created" in text:
        return "I'm Hearth, an open-source voice assistant that runs in your home."
    return "Hello! How can I help?"


@hookimpl
def register_skills(register: Any) -> None:
    register(skill)
