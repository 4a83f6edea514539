"""The time and the date, spoken the way people say them ("It's 3:25 PM.",
"Today is Tuesday, March 4th."), in a 12- or 24-hour clock as configured."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from assistant.skills import Intent, Permissions, Skill, SkillContext, hookimpl

HERE = Path(__file__).parent


class TimeSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    clock: Literal["12h", "24h"] = "12h"
    """How times are said: "3:25 PM" or "15:25"."""


skill: Skill[TimeSettings] = Skill(
    "time_date",
    "Tells the time, the date and the day of the week.",
    sentences=[HERE / "sentences" / "en.yaml"],
    permissions=Permissions(),
    settings=TimeSettings,
)

now: Callable[[], float] = time.time
"""The clock (tests replace it)."""


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def say_time(when: dt.datetime, clock: str) -> str:
    if clock == "24h":
        return when.strftime("%H:%M")
    return when.strftime("%I:%M %p").lstrip("0")


@skill.intent("HassGetCurrentTime", examples=["what time is it"])
def current_time(intent: Intent, ctx: SkillContext[TimeSettings]) -> str:
    """The time now."""
    return f"It's {say_time(dt.datetime.fromtimestamp(now()), ctx.settings.clock)}."


@skill.intent("HassGetCurrentDate", examples=["what's the date", "what day is it"])
def current_date(intent: Intent, ctx: SkillContext[TimeSettings]) -> str:
    """Today's date (or just the year or the month, when that was asked)."""
    today = dt.datetime.fromtimestamp(now())
    text = intent.text.lower()
    if "year" in text:
        return f"It's {today.year}."
    if "month" in text and "day" not in text:
        return f"It's {today:%B}."
    return f"Today is {today:%A}, {today:%B} {ordinal(today.day)}, {today.year}."


@hookimpl
def register_skills(register: Any) -> None:
    register(skill)
