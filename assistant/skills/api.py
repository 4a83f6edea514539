"""The skill API: what a skill declares, what its handlers receive, what they return.

A skill is data plus small functions::

    skill = Skill("coffee", "Orders coffee", sentences=[HERE / "sentences.yaml"],
                  permissions=Permissions(domains=("switch",)), settings=CoffeeSettings)

    @skill.intent("CoffeeOrder", examples=["make me a large latte"])
    def order(intent: Intent, ctx: SkillContext[CoffeeSettings]) -> Response:
        return Response("One large latte.", actions=(Action("switch.turn_on", "switch.coffee_maker"),))

Handlers never touch devices: they *return* actions, which the runner checks against
the skill's declared :class:`Permissions` and the service table before the pipeline
applies them (so ``--dry-run`` and the event log see everything a skill does).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from assistant.home.base import Area, Entity, EntityState, HomeBackend
from assistant.understand.result import Action, Decision

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class NoSettings(BaseModel):
    """The settings of a skill that has none (any key given for it is an error)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


S = TypeVar("S", bound=BaseModel)


@dataclass(frozen=True)
class Permissions:
    """What a skill may do. The runner enforces ``domains``; the privacy policy reads
    ``network`` and ``cloud`` (``hearth skills`` shows all three)."""

    domains: tuple[str, ...] = ()
    """Entity domains whose entities the skill may act on ("light", "switch"); empty = none."""
    network: bool = False
    """It talks to other machines itself (a web API, a LAN device)."""
    cloud: bool = False
    """It may ask the cloud endpoint, always subject to the privacy policy."""

    @property
    def leaves_device(self) -> bool:
        return self.network or self.cloud

    def as_dict(self) -> dict[str, Any]:
        return {"domains": list(self.domains), "network": self.network, "cloud": self.cloud}


@dataclass(frozen=True)
class Intent:
    """The matched intent: its name, its slots (hassil's values) and the words heard."""

    name: str
    slots: Mapping[str, Any]
    text: str = ""

    def get(self, slot: str, default: Any = None) -> Any:
        return self.slots.get(slot, default)

    def number(self, slot: str, default: float | None = None) -> float | None:
        value = self.slots.get(slot)
        if isinstance(value, bool) or value is None:
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            return default


@dataclass(frozen=True)
class Response:
    """What a handler returns (a plain ``str`` is short for ``Response(text)``)."""

    text: str
    """The reply, spoken or printed."""
    actions: tuple[Action, ...] = ()
    """Service calls to apply now (or after a spoken yes, with ``confirm``)."""
    confirm: bool = False
    """Ask first: ``text`` is the question and ``actions`` wait for a yes."""
    expects_reply: bool = False
    """The reply is a question: listen again without the wake word."""
    slots: Mapping[str, Any] | None = None
    """The skill's own reading of the slots (normalised values) for the turn's JSON and
    events; None keeps hassil's."""


HandlerResult = Response | str | Decision


Handler = Callable[[Intent, "SkillContext[S]"], HandlerResult]
"""``def handler(intent: Intent, ctx: SkillContext[MySettings]) -> Response | str``."""
F = TypeVar("F", bound=Callable[[Intent, Any], HandlerResult])


@dataclass(frozen=True)
class IntentDecl:
    name: str
    handler: Callable[[Intent, Any], HandlerResult]
    examples: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class IntentInfo:
    """One intent as the rest of Hearth sees it: the local LLM's choices, "what can you
    do", ``hearth skills``."""

    intent: str
    skill: str
    description: str
    examples: tuple[str, ...]
    slots: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"intent": self.intent, "skill": self.skill, "description": self.description,
                "examples": list(self.examples), "slots": list(self.slots)}


@dataclass(frozen=True)
class TimerInfo:
    """A timer or alarm as a skill sees it. Times are wall-clock epoch seconds."""

    id: int
    owner: str
    name: str | None
    kind: Literal["timer", "alarm"]
    duration_s: float
    due: float
    state: Literal["running", "ringing", "done"]
    message: str
    rings: int = 0
    area: str | None = None
    """The area of the device that set it (where it should ring)."""

    def remaining(self, now: float) -> float:
        return max(0.0, self.due - now)


class Timers(Protocol):
    """The timer service as one skill sees it: only its own timers. Timers persist (in
    SQLite under the data dir) and ring even if they were set by another process."""

    def start(self, seconds: float, *, name: str | None = None, message: str | None = None,
              kind: Literal["timer", "alarm"] = "timer") -> TimerInfo: ...

    def all(self) -> list[TimerInfo]: ...

    def cancel(self, timer_id: int) -> bool: ...

    def adjust(self, timer_id: int, delta_s: float) -> TimerInfo | None:
        """Add (or, negative, take) time from a running timer; None if it is gone."""
        ...

    def acknowledge(self, timer_id: int | None = None) -> list[TimerInfo]: ...

    def now(self) -> float: ...


class HomeView:
    """The home, read-only: skills see every entity and state, and change nothing
    directly (they return actions)."""

    def __init__(self, home: HomeBackend) -> None:
        self._home = home

    def areas(self) -> list[Area]:
        return self._home.areas()

    def entities(self) -> list[Entity]:
        return self._home.entities()

    def entity(self, entity_id: str) -> Entity:
        return self._home.entity(entity_id)

    def area(self, area: str) -> Area:
        return self._home.area(area)

    def get_state(self, entity_id: str) -> EntityState:
        return self._home.get_state(entity_id)

    def backend(self) -> HomeBackend:
        """The backend itself, for code that reads with the core's own helpers (the
        home-control skill's intent handlers). Calling services on it bypasses the
        runner's checks; return actions instead."""
        return self._home


@dataclass(frozen=True)
class TurnRecord:
    """How one past request was handled (no words are kept, only the outcome)."""

    at: float
    intent: str | None
    handled_by: str
    left_device: bool


class AssistantInfo(Protocol):
    """What the assistant can tell a skill about itself (for "what can you do" and
    "system status")."""

    started_at: float

    def catalog(self) -> list[IntentInfo]: ...

    def models(self) -> dict[str, str]: ...

    def last_turns(self, n: int = 1) -> list[TurnRecord]: ...

    def cloud_sends(self) -> tuple[int, str | None]:
        """How many requests the audit log shows sent to the cloud, and when the last was."""
        ...


@dataclass(frozen=True)
class SkillContext(Generic[S]):
    """Everything a handler may use, built for each call."""

    skill: str
    home: HomeView
    area: str | None
    """The area of the device that heard the request (a satellite's room, or the box's)."""
    settings: S
    """This skill's settings, validated against its schema at start."""
    data_dir: Path
    """A folder of its own for state (<data_dir>/skills/<name>); created on first use."""
    timers: Timers
    assistant: AssistantInfo
    log: logging.Logger
    permissions: Permissions
    announce: Callable[[str, str | None], None] = field(repr=False, default=lambda text, key: None)
    cloud_check: Callable[[str], str] = field(repr=False, default=lambda text: "deny")

    def say(self, text: str, *, key: str | None = None) -> None:
        """Speak unprompted, now or as soon as a speaker is free (a timer ringing, a
        reminder). ``key`` replaces an announcement with the same key still waiting."""
        self.announce(text, key)

    def may_use_cloud(self, text: str) -> str:
        """The privacy policy's verdict ("send", "ask", "deny") for sending ``text`` to
        the cloud on this skill's behalf; always "deny" without the ``cloud`` permission."""
        if not self.permissions.cloud:
            return "deny"
        return self.cloud_check(text)

    def path(self, name: str) -> Path:
        """A file in the skill's data folder (the folder is created)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir / name


class Skill(Generic[S]):
    """A skill: a name, its sentences, its handlers, what it may do, its settings."""

    def __init__(
        self,
        name: str,
        description: str,
        *,
        sentences: Sequence[Path | Mapping[str, Any]] = (),
        permissions: Permissions = Permissions(),
        settings: type[S] | None = None,
        stt_words: Sequence[str] = (),
        version: str = "0.1.0",
    ) -> None:
        if not NAME_RE.match(name):
            raise ValueError(f"skill name {name!r} must be lower_case letters, digits and _ "
                             "(starting with a letter, at most 40)")
        self.name = name
        self.description = description
        self.sentences = tuple(sentences)
        """hassil YAML files (or their parsed dicts): they join the template path."""
        self.permissions = permissions
        self.settings_model: type[BaseModel] = settings or NoSettings
        self.stt_words = tuple(stt_words)
        """Words the speech-to-text should expect (drink names, a list's items)."""
        self.version = version
        self.intents: dict[str, IntentDecl] = {}
        self.starters: list[Callable[[SkillContext[S]], None]] = []
        self.stoppers: list[Callable[[SkillContext[S]], None]] = []

    def intent(self, name: str, *, examples: Sequence[str] = (), description: str = "",
               ) -> Callable[[F], F]:
        """Decorate the handler of intent ``name`` (a Home Assistant intent or your own)."""

        def decorate(fn: F) -> F:
            if name in self.intents:
                raise ValueError(f"skill {self.name!r} declares intent {name!r} twice")
            self.intents[name] = IntentDecl(name, fn, tuple(examples),
                                            description or (fn.__doc__ or "").strip().split("\n")[0])
            return fn

        return decorate

    def handle(self, name: str, handler: Handler[S], *,
               examples: Sequence[str] = (), description: str = "") -> None:
        """Register a handler without a decorator (several intents, one function)."""
        self.intent(name, examples=examples, description=description)(handler)

    def on_start(self, fn: Callable[[SkillContext[S]], None]) -> Callable[[SkillContext[S]], None]:
        """Run once when the assistant starts (open a database, start a watcher)."""
        self.starters.append(fn)
        return fn

    def on_stop(self, fn: Callable[[SkillContext[S]], None]) -> Callable[[SkillContext[S]], None]:
        """Run once when the assistant closes."""
        self.stoppers.append(fn)
        return fn

    def __repr__(self) -> str:
        return f"Skill({self.name!r}, intents={sorted(self.intents)})"
