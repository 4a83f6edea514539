"""Home control: the core home intents, as a skill.

The handlers are Hearth's own (:class:`assistant.understand.intents.IntentHandlers`:
on/off, brightness, colour, temperature, covers, locks, vacuum, media, state
questions); this skill declares them, the domains they may touch and a few examples,
so they run through the same runner as every other skill (timeout, domain checks,
"what can you do"). Sensitive devices (locks, the garage door) still ask first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.home.base import HomeBackend
from assistant.skills import Action, Decision, Intent, Permissions, Response, Skill, SkillContext, hookimpl
from assistant.understand.intents import IntentHandlers

HERE = Path(__file__).parent
DOMAINS = ("light", "switch", "fan", "climate", "cover", "lock", "vacuum", "media_player", "scene",
           "script", "alarm_control_panel")
OTHER_SKILLS = {"HearthBrew": "coffee", "HassGetCurrentTime": "time_date", "HassGetCurrentDate": "time_date"}
"""Core intents that other built-in skills serve (better replies, more sentences)."""

EXAMPLES: dict[str, tuple[str, ...]] = {
    "HassTurnOn": ("turn on the kitchen light", "open the blinds"),
    "HassTurnOff": ("turn off the lights in the bedroom", "switch off the tv"),
    "HassLightSet": ("set the bedroom light to 40 percent", "make the ceiling light blue"),
    "HearthLightStep": ("make the kitchen light brighter", "dim the lights"),
    "HassClimateSetTemperature": ("set the temperature to 21 degrees",),
    "HassClimateGetTemperature": ("what's the temperature",),
    "HassGetState": ("is the front door locked", "which lights are on"),
    "HassSetPosition": ("set the blinds to 50 percent",),
    "HassVacuumStart": ("start the vacuum",),
    "HassMediaPause": ("pause the music",),
    "HassSetVolume": ("set the volume to 30 percent",),
    "HassFanSetSpeed": ("set the bedroom fan to 50 percent",),
    "HearthAllOff": ("good night", "turn everything off"),
}

skill: Skill[Any] = Skill(
    "home_control",
    "Turns devices on and off, sets lights, temperature, blinds, fan, vacuum and music.",
    sentences=[HERE / "sentences" / "en.yaml"],
    permissions=Permissions(domains=DOMAINS),
)


def handle(intent: Intent, ctx: SkillContext[Any]) -> Decision:
    """Hearth's core handler for the intent (HA's targeting rules)."""
    handlers = IntentHandlers(ctx.home.backend())
    # A sentence without an area slot means the whole home ("all the lights").
    return handlers.handle(intent.name, dict(intent.slots), ctx.area if "area" in intent.slots else None)


def _core_intents() -> list[str]:
    probe: HomeBackend = None  # type: ignore[assignment]  # listing needs no home
    return [i for i in IntentHandlers(probe).intents if i not in OTHER_SKILLS]


_ORDER = list(EXAMPLES)
for _name in sorted(_core_intents(), key=lambda i: (_ORDER.index(i) if i in _ORDER else len(_ORDER), i)):
    skill.handle(_name, handle, examples=EXAMPLES.get(_name, ()))

OFF = {"light": "light.turn_off", "switch": "switch.turn_off", "fan": "fan.turn_off",
       "media_player": "media_player.media_pause"}
ACTIVE = {"on", "playing"}


@skill.intent("HearthAllOff", examples=EXAMPLES["HearthAllOff"])
def all_off(intent: Intent, ctx: SkillContext[Any]) -> Response:
    """Turn off every light, switch and fan and pause the music."""
    actions = tuple(Action(OFF[e.domain], e.entity_id) for e in ctx.home.entities()
                    if e.domain in OFF and ctx.home.get_state(e.entity_id).state in ACTIVE)
    night = "night" in intent.text.lower()
    if not actions:
        return Response("Good night. Everything is already off." if night else "Everything is already off.")
    what = f"{len(actions)} thing{'s' if len(actions) != 1 else ''}"
    return Response(("Good night. " if night else "") + f"I turned off {what}.", actions=actions)


@hookimpl
def register_skills(register: Any) -> None:
    register(skill)
