"""What can be done to a target: the commands of each device kind, phrased for the model.

Each command is an (intent, slots) pair the intent handlers accept, phrased in plain
English ("turn off the lights in the Kitchen"), for the local LLM to rank.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assistant.home.base import Entity
from assistant.understand.lexicon import COLOURISH, CUES, words
from assistant.understand.retrieval import Retrieval


@dataclass(frozen=True)
class Command:
    """One thing the assistant could do: an intent and slots, phrased for the model."""

    phrase: str
    intent: str | None
    """None for the "not a command" choice."""
    slots: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    group: str = ""
    """Which target group it acts on (for spotting "which one?" ambiguities)."""
    action: str = ""
    """What it does regardless of the target ("turn_off"), for the same purpose."""

    def as_candidate(self, score: float) -> dict[str, Any]:
        return {"phrase": self.phrase, "intent": self.intent, "slots": dict(self.slots),
                "score": round(score, 3), "source": "local_llm"}


NOT_A_COMMAND = Command("none", None, group="", action="none")


@dataclass(frozen=True)
class Target:
    """Entities a request can act on, with the phrase that names them and the slots that
    make the intent handlers find exactly them."""

    key: str
    domain: str
    phrase: str
    slots: dict[str, Any] = field(hash=False, compare=False)
    entities: tuple[Entity, ...] = field(hash=False, compare=False)

    def has(self, feature: str) -> bool:
        return any(feature in e.features for e in self.entities)

    @property
    def label(self) -> str:
        """How to name it in a question: 'Kitchen Light', 'the Kitchen'."""
        return self.entities[0].name if len(self.entities) == 1 else self.phrase


def actions(found: Retrieval, t: Target, level: Callable[[Entity, str], int]) -> list[Command]:
    """The commands of ``t``'s kind, with the values ``found`` says."""
    s = t.slots
    p = t.phrase
    d = t.domain

    def cmd(phrase: str, intent: str, action: str, **extra: Any) -> Command:
        return Command(phrase, intent, {**s, **extra}, group=t.key, action=action)

    if d == "light":
        out = [cmd(f"turn on {p}", "HassTurnOn", "on"),
               cmd(f"turn off {p}", "HassTurnOff", "off"),
               cmd(f"toggle {p}", "HearthService", "toggle", service="light.toggle")]
        if t.has("dimmable"):
            out += [cmd(f"make {p} brighter", "HearthLightStep", "up", step="up"),
                    cmd(f"dim {p}", "HearthLightStep", "down", step="down")]
            if found.percent is not None:
                pct = max(1, found.percent)
                out.append(cmd(f"set {p} to {pct} percent", "HassLightSet", f"pct{pct}",
                               brightness=pct))
        if t.has("color"):
            if found.colour:
                out.append(cmd(f"make {p} {found.colour}", "HassLightSet",
                               f"colour:{found.colour}", color=found.colour))
            elif COLOURISH.search(found.text.lower()):
                out.append(cmd(f"change the colour of {p}", "HearthLightColorAsk", "colour"))
        return out
    if d in ("switch", "fan"):
        out = [cmd(f"turn on {p}", "HassTurnOn", "on"), cmd(f"turn off {p}", "HassTurnOff", "off")]
        if d == "switch":
            out.append(cmd(f"toggle {p}", "HearthService", "toggle", service="switch.toggle"))
        if d == "fan" and t.has("oscillate"):
            out += [cmd(f"make {p} oscillate", "HearthService", "oscillate", service="fan.oscillate",
                        data={"oscillating": True}),
                    cmd(f"stop {p} oscillating", "HearthService", "still", service="fan.oscillate",
                        data={"oscillating": False})]
        if d == "fan" and found.percent is not None:
            out.append(cmd(f"set {p} to {found.percent} percent", "HassFanSetSpeed",
                           f"pct{found.percent}", percentage=found.percent))
        elif d == "fan" and len(t.entities) == 1 and t.has("speed"):
            now = level(t.entities[0], "percentage")
            out += [cmd(f"speed up {p}", "HassFanSetSpeed", "up", percentage=min(100, now + 25)),
                    cmd(f"slow down {p}", "HassFanSetSpeed", "down", percentage=max(0, now - 25))]
        return out
    if d == "cover":
        out = [cmd(f"open {p}", "HassTurnOn", "open"), cmd(f"close {p}", "HassTurnOff", "close"),
               cmd(f"stop {p}", "HearthService", "halt", service="cover.stop_cover")]
        if found.percent is not None and t.has("position"):
            out.append(cmd(f"open {p} to {found.percent} percent", "HassSetPosition",
                           f"pos{found.percent}", position=found.percent))
        return out
    if d == "lock":
        return [cmd(f"lock {p}", "HassTurnOn", "lock"), cmd(f"unlock {p}", "HassTurnOff", "unlock")]
    if d == "vacuum":
        return [cmd(f"start {p}", "HassVacuumStart", "start"),
                cmd(f"send {p} back to its dock", "HassVacuumReturnToBase", "dock"),
                cmd(f"pause {p}", "HearthService", "pause", service="vacuum.pause"),
                cmd(f"stop {p}", "HearthService", "halt", service="vacuum.stop"),
                cmd(f"make {p} beep so it can be found", "HearthService", "locate",
                    service="vacuum.locate")]
    if d == "media_player":
        out = [cmd(f"play music on {p}", "HassMediaUnpause", "play"),
               cmd(f"pause {p}", "HassMediaPause", "pause"),
               cmd(f"skip to the next song on {p}", "HassMediaNext", "next"),
               cmd(f"go back to the previous song on {p}", "HassMediaPrevious", "previous"),
               cmd(f"turn up the volume of {p}", "HassSetVolumeRelative", "louder",
                   volume_step="up"),
               cmd(f"turn down the volume of {p}", "HassSetVolumeRelative", "quieter",
                   volume_step="down")]
        said = set(words(found.text))  # the rarer commands only when their words are said,
        if {"on", "off"} & said:  # so the ranker's choice among the rest stays short
            out += [cmd(f"turn on {p}", "HassTurnOn", "on"), cmd(f"turn off {p}", "HassTurnOff", "off")]
        if t.has("volume") and said & (CUES["mute"] | CUES["unmute"]):
            out += [cmd(f"mute {p}", "HassMediaPlayerMute", "mute"),
                    cmd(f"unmute {p}", "HassMediaPlayerUnmute", "unmute")]
        if found.percent is not None:
            out.append(cmd(f"set the volume of {p} to {found.percent} percent", "HassSetVolume",
                           f"vol{found.percent}", volume_level=found.percent))
        return out
    if d in ("scene", "script"):
        return [cmd(f"activate {p}", "HassTurnOn", "on")]
    if d == "alarm_control_panel":
        return [cmd(f"arm {p}", "HearthService", "arm", service="alarm_control_panel.alarm_arm_away"),
                cmd(f"disarm {p}", "HearthService", "disarm",
                    service="alarm_control_panel.alarm_disarm")]
    if d == "climate":
        said = set(words(found.text))
        out = []
        if said & (CUES["warmer"] | CUES["cooler"]) - {"warm"}:  # "temperature now" asks
            out = [cmd(f"make it warmer with {p}", "HearthClimateStep", "warmer", step="up"),
                   cmd(f"make it cooler with {p}", "HearthClimateStep", "cooler", step="down")]
        if found.degrees is not None:
            out.append(cmd(f"set {p} to {found.degrees:g} degrees", "HassClimateSetTemperature",
                           f"deg{found.degrees:g}", temperature=found.degrees))
        return out
    return []
