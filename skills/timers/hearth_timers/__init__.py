"""Timers, alarms and reminders: several at once, by name; "how long is left";
cancel, add or take time. When one goes off the assistant says so unprompted, and
keeps saying so until someone answers ("stop", "okay") or the ring limit is reached —
a ring nobody heard is still there, and timers survive a restart (the timer service
keeps them in SQLite).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assistant.skills import Intent, Permissions, Response, Skill, SkillContext, TimerInfo, hookimpl
from assistant.skills.timers import describe_duration
from hearth_timers.clock import parse_clock, say_time

HERE = Path(__file__).parent


class TimerSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_timers: int = Field(10, ge=1, le=100)
    """Timers and alarms running at once."""


skill: Skill[TimerSettings] = Skill(
    "timers",
    "Named timers, alarms and reminders that ring until you answer.",
    sentences=[HERE / "sentences" / "en.yaml"],
    permissions=Permissions(),
    settings=TimerSettings,
    stt_words=("timer", "alarm"),
)

Ctx = SkillContext[TimerSettings]


def _name(intent: Intent) -> str | None:
    name = intent.get("name")
    if not name:
        return None
    words = [w for w in str(name).lower().strip(" .,?!").split() if w not in ("the", "my", "a", "an")]
    return " ".join(words) or None


def _seconds(intent: Intent) -> float:
    return ((intent.number("hours") or 0) * 3600 + (intent.number("minutes") or 0) * 60
            + (intent.number("seconds") or 0))


def _label(t: TimerInfo) -> str:
    if t.kind == "alarm":
        return f"the {say_time(dt.datetime.fromtimestamp(t.due))} alarm"
    return f"the {t.name} timer" if t.name else f"the {describe_duration(t.duration_s)} timer"


def _pick(ctx: Ctx, intent: Intent, kind: str = "timer") -> tuple[list[TimerInfo], str | None]:
    """The timers a request is about: by name, else all of that kind."""
    name = _name(intent)
    timers = [t for t in ctx.timers.all() if t.kind == kind and t.state == "running"]
    if name:
        timers = [t for t in timers if (t.name or "") == name]
    return timers, name


@skill.intent("HassStartTimer", examples=["set a timer for 10 minutes", "set a pasta timer for 8 minutes",
                                          "remind me to check the oven in 20 minutes"])
def start(intent: Intent, ctx: Ctx) -> Response:
    """Start a timer (optionally named, or a reminder)."""
    seconds = _seconds(intent)
    if seconds <= 0:
        return Response("How long should the timer be?")
    if len([t for t in ctx.timers.all() if t.state == "running"]) >= ctx.settings.max_timers:
        return Response(f"You already have {ctx.settings.max_timers} timers. Cancel one first.")
    reminder = re.sub(r"^(please )?(remind me (to )?|to )", "",
                      str(intent.get("conversation_command") or "").strip(" .?!").lower())
    name = _name(intent)
    replaced = [t for t in ctx.timers.all() if name and t.name == name and t.kind == "timer"]
    for t in replaced:
        ctx.timers.cancel(t.id)
    duration = describe_duration(seconds)
    if reminder:
        ctx.timers.start(seconds, name=None, message=f"Reminder: {reminder}.")
        return Response(f"Okay, I'll remind you to {reminder} in {duration}.")
    ctx.timers.start(seconds, name=name)
    if replaced:
        return Response(f"I've restarted the {name} timer for {duration}.")
    return Response(f"Okay, {name} timer for {duration}." if name else f"Timer set for {duration}.")


@skill.intent("HassTimerStatus", examples=["how long is left", "how much time is left on the pasta timer",
                                           "what timers do I have"])
def status(intent: Intent, ctx: Ctx) -> str:
    """How long each timer has left (and which went off unanswered)."""
    now = ctx.timers.now()
    name = _name(intent)
    everything = ctx.timers.all()
    missed = [t for t in everything if t.state != "running"]
    running = [t for t in everything if t.state == "running" and (not name or t.name == name)]
    parts = []
    for t in missed:
        parts.append(f"{_label(t)[0].upper() + _label(t)[1:]} went off "
                     f"{describe_duration(max(1.0, now - t.due))} ago.")
        ctx.timers.acknowledge(t.id)
    if name and not running:
        parts.append(f"You don't have a {name} timer.")
    elif not running:
        parts.append("You have no timers running." if not missed else "Nothing else is running.")
    elif len(running) == 1:
        t = running[0]
        parts.append(_status_of(t, now)[0].upper() + _status_of(t, now)[1:] + ".")
    else:
        parts.append(f"You have {len(running)}: " + "; ".join(_status_of(t, now) for t in running) + ".")
    return " ".join(parts)


def _status_of(t: TimerInfo, now: float) -> str:
    if t.kind == "alarm":
        return f"{_label(t)} is set"
    return f"{_label(t)} has {describe_duration(t.remaining(now))} left"


@skill.intent("HassCancelTimer", examples=["cancel the pasta timer", "stop the timer"])
def cancel(intent: Intent, ctx: Ctx) -> Response:
    """Cancel one timer (by name, or the only one)."""
    timers, name = _pick(ctx, intent)
    if not timers:
        return Response(f"You don't have a {name} timer." if name else "You have no timers running.")
    if len(timers) > 1:
        names = " and ".join(t.name or describe_duration(t.duration_s) for t in timers)
        return Response(f"You have {len(timers)} timers, {names}. Which one should I cancel?")
    ctx.timers.cancel(timers[0].id)
    return Response(f"Cancelled {_label(timers[0])}.")


def _cancel_every(ctx: Ctx, kind: str) -> list[TimerInfo]:
    """Cancel every timer of one kind ("timer", "alarm"); the ones cancelled."""
    cancelled = [t for t in ctx.timers.all() if t.kind == kind]
    for t in cancelled:
        ctx.timers.cancel(t.id)
    return cancelled


@skill.intent("HassCancelAllTimers", examples=["cancel all timers"])
def cancel_all(intent: Intent, ctx: Ctx) -> Response:
    """Cancel every timer."""
    timers = _cancel_every(ctx, "timer")
    return Response(f"Cancelled {len(timers)} timer{'s' if len(timers) != 1 else ''}."
                    if timers else "You have no timers running.")


def _adjust(intent: Intent, ctx: Ctx, sign: float) -> Response:
    timers, _ = _pick(ctx, intent)
    if len(timers) != 1:
        return Response("Which timer?" if timers else "You have no timers running.")
    delta = sign * _seconds(intent)
    t = ctx.timers.adjust(timers[0].id, delta)
    if t is None:
        return Response("That timer has already gone off.")
    return Response(f"{_label(t)[0].upper() + _label(t)[1:]} now has "
                    f"{describe_duration(t.remaining(ctx.timers.now()))} left.")


@skill.intent("HassIncreaseTimer", examples=["add 5 minutes to the pasta timer"])
def increase(intent: Intent, ctx: Ctx) -> Response:
    """Add time to a timer."""
    return _adjust(intent, ctx, +1.0)


@skill.intent("HassDecreaseTimer", examples=["take 2 minutes off the timer"])
def decrease(intent: Intent, ctx: Ctx) -> Response:
    """Take time off a timer."""
    return _adjust(intent, ctx, -1.0)


@skill.intent("HearthSetAlarm", examples=["set an alarm for 7 am", "wake me up at 6:30 tomorrow"])
def set_alarm(intent: Intent, ctx: Ctx) -> Response:
    """Ring at a clock time (the next time it comes round)."""
    now = dt.datetime.fromtimestamp(ctx.timers.now())
    when = parse_clock(str(intent.get("alarm_time", "")), now)
    if when is None:
        return Response("Sorry, I didn't catch the time. Try 'set an alarm for 7 am'.")
    at = say_time(when)
    ctx.timers.start((when - now).total_seconds(), kind="alarm", message=f"It's {at}. This is your alarm.")
    day = "today" if when.date() == now.date() else "tomorrow"
    return Response(f"Alarm set for {at} {day}.")


@skill.intent("HearthCancelAlarm", examples=["cancel my alarm"])
def cancel_alarm(intent: Intent, ctx: Ctx) -> Response:
    """Cancel the alarms."""
    alarms = _cancel_every(ctx, "alarm")
    if not alarms:
        return Response("You have no alarms set.")
    return Response(f"Cancelled {_label(alarms[0])}." if len(alarms) == 1
                    else f"Cancelled {len(alarms)} alarms.")


@hookimpl
def register_skills(register: Any) -> None:
    register(skill)
