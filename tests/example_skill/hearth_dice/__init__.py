"""Dice and coins: the smallest useful third-party Hearth skill."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assistant.skills import Intent, Permissions, Skill, SkillContext, hookimpl


class DiceSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sides: int = Field(6, ge=2, le=100)
    """Sides of the die when none are named."""


skill: Skill[DiceSettings] = Skill(
    "dice", "Rolls dice and flips coins.",
    sentences=[Path(__file__).parent / "sentences" / "en.yaml"],
    permissions=Permissions(), settings=DiceSettings, version="0.2.0",
)


@skill.intent("DiceRoll", examples=["roll a dice", "roll a 20 sided die"])
def roll(intent: Intent, ctx: SkillContext[DiceSettings]) -> str:
    sides = int(intent.number("sides") or ctx.settings.sides)
    return f"You rolled a {random.randint(1, sides)} on a {sides}-sided die."


@skill.intent("DiceFlip", examples=["flip a coin"])
def flip(intent: Intent, ctx: SkillContext[DiceSettings]) -> str:
    return random.choice(["Heads.", "Tails."])


@hookimpl
def register_skills(register: Any) -> None:
    register(skill)
