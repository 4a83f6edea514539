"""The loaded skills of one assistant, and the services they share.

Built once by the composition root (:class:`assistant.runtime.Runtime`): it
discovers the allowed skills, validates their settings and sentences, and then serves
the rest of Hearth — the templates (:meth:`sentences`), the router (:meth:`owns`,
:meth:`decide`, :meth:`interrupt`), the local LLM (:meth:`catalog`,
:meth:`decide_intent`), Whisper's prompt (:meth:`stt_words`), the voice loop
(:attr:`announcements`, :meth:`start_ringing`) and ``hearth skills`` (:meth:`describe`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ValidationError

from assistant.errors import ConfigError, SkillError
from assistant.events import EventSink, discard
from assistant.home.base import HomeBackend
from assistant.skills.announce import Announcement, Announcements
from assistant.skills.api import (
    HomeView,
    Intent,
    IntentInfo,
    Skill,
    SkillContext,
    TimerInfo,
)
from assistant.skills.info import RegistryInfo, template_examples, template_slots
from assistant.skills.loader import Found, Problem, allowed, discover
from assistant.skills.runner import SkillRunner
from assistant.skills.timers import TimerService
from assistant.skills.turns import TurnLog
from assistant.understand.result import Decision

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.understand.templates import TemplateMatch

log = logging.getLogger(__name__)

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ACK_RE = re.compile(
    r"^(?:(?:ok|okay|alright|all right|yes|yeah|thanks|thank you|got it|stop|stop it|enough|quiet|"
    r"silence|shut up|dismiss|i'm up|i am up|i heard (?:you|it)|(?:turn|switch) (?:it|that) off|"
    r"(?:stop|cancel|dismiss|silence) (?:the |that |my )?(?:alarm|timer|ringing|beeping|noise)s?|"
    r"(?:turn|switch) off (?:the |that |my )?(?:alarm|timer)s?)\s*)+$")
_ACK_INTENTS = ("HearthDeny", "HearthConfirm", "HassNevermind")
ACK_INTENT = "HearthTimerAck"


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w' ]+", " ", text.lower())).strip()


@dataclass
class LoadedSkill:
    skill: Skill[Any]
    source: str
    plugin: str
    settings: BaseModel
    sentences: list[dict[str, Any]]
    data_dir: Path


class SkillRegistry:
    """The allowed, loaded skills; the timer service; the announcement queue."""

    def __init__(
        self,
        settings: Settings,
        home: HomeBackend,
        *,
        emit: EventSink = discard,
        clock: Callable[[], float] = time.time,
        extra: Sequence[object] = (),
        discover_plugins: bool = True,
        language: str = "en",
    ) -> None:
        self.settings = settings
        self.config = settings.skills
        self.privacy = settings.privacy
        """The privacy policy as it is now (``hearth serve`` switches its mode live)."""
        self.home = home
        self.language = language
        self.clock = clock
        self.started_at = clock()
        self.view = HomeView(home)
        self.device_area = _device_area(home, settings.device_area)
        self.announcements = Announcements()
        self.runner = SkillRunner(home, timeout_s=self.config.timeout_s, emit=emit)
        self.skills: dict[str, LoadedSkill] = {}
        self.problems: list[Problem] = []
        self._owner: dict[str, str] = {}
        self._catalog: list[IntentInfo] | None = None
        self._core: set[str] | None = None
        root = settings.data_dir / "skills"
        self.timers = TimerService(root / "timers.sqlite", on_ring=self._ring,
                                   ring_every_s=self.config.ring_every_s,
                                   max_rings=self.config.max_rings, clock=clock)
        self.turns = TurnLog(root / "turns.sqlite", clock=clock)
        try:
            found, problems, seen = discover(self.config, extra, search=discover_plugins)
            self.problems.extend(problems)
            self._check_allowlist(found, seen)
            for f in found:
                if allowed([f.skill.name, f.plugin.name], self.config):
                    self._load(f)
            for problem in self.problems:
                log.warning("skill %s not loaded (%s): %s", problem.name, problem.source, problem.error)
            self._start_skills()
        except BaseException:
            self.close()
            raise

    # --- loading -------------------------------------------------------------------

    def _check_allowlist(self, found: list[Found], seen: set[str]) -> None:
        known = seen | {f.skill.name for f in found} | {f.plugin.name for f in found}
        unknown = [n for n in self.config.enabled if n != "*" and n not in known]
        if unknown:
            raise ConfigError(f"config: skills.enabled names {', '.join(map(repr, unknown))}, which "
                              f"is not installed (available: {', '.join(sorted(known)) or 'none'})")
        stray = [n for n in self.config.settings if n not in known]
        if stray:
            log.warning("config: skills.settings has tables for unknown skills: %s", ", ".join(stray))

    def _load(self, found: Found) -> None:
        skill, plugin = found.skill, found.plugin
        name = skill.name

        def refuse(why: str) -> None:
            self.problems.append(Problem(name, plugin.source, why))

        if name in self.skills:
            return refuse(f"a skill named {name!r} is already loaded from {self.skills[name].source}")
        clash = [i for i in skill.intents if i in self._owner]
        if clash:
            return refuse(f"intent {clash[0]} already belongs to skill {self._owner[clash[0]]!r}")
        if not skill.intents:
            return refuse("declares no intents")
        try:
            sentences = self._sentences_of(skill)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            return refuse(f"bad sentences: {exc}")
        raw = self.config.settings.get(name, {})
        try:
            config = skill.settings_model.model_validate(dict(raw))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise ConfigError(f"config: skills.settings.{name}{'.' + where if where else ''}: "
                              f"{err['msg']}") from None
        self.skills[name] = LoadedSkill(skill, plugin.source, plugin.name, config, sentences,
                                        self.settings.data_dir / "skills" / name)
        for intent in skill.intents:
            self._owner[intent] = name

    def _sentences_of(self, skill: Skill[Any]) -> list[dict[str, Any]]:
        from hassil import Intents

        taken_lists = set(self._core_names())
        for other in self.skills.values():
            for data in other.sentences:
                taken_lists |= set(data.get("lists", {})) | set(data.get("expansion_rules", {}))
        out = []
        for item in skill.sentences:
            if isinstance(item, Path):
                data = yaml.load(item.read_text(encoding="utf-8"), Loader=_Loader)
                where = item.name
            else:
                data, where = dict(item), "sentences"
            if not isinstance(data, dict) or not isinstance(data.get("intents"), dict):
                raise ValueError(f"{where}: expected hassil YAML with an 'intents' table")
            if data.get("language", self.language) != self.language:
                continue
            if data.get("skip_words"):
                raise ValueError(f"{where}: skip_words would change every sentence; not allowed in a skill")
            for intent in data["intents"]:
                if intent not in skill.intents:
                    raise ValueError(f"{where}: sentences for {intent}, which has no handler")
            for key in ("lists", "expansion_rules"):
                for list_name in data.get(key, {}) or {}:
                    if list_name in taken_lists:
                        raise ValueError(f"{where}: {key[:-1].replace('_', ' ')} {list_name!r} is "
                                         "already defined (by Hearth or another skill); rename it")
            Intents.from_dict({"language": self.language, "intents": data["intents"],
                               "lists": data.get("lists", {}),
                               "expansion_rules": data.get("expansion_rules", {})})
            out.append(data)
        return out

    def _core_names(self) -> set[str]:
        """Lists and rules Home Assistant's and Hearth's own sentences define (read once)."""
        if self._core is None:
            from assistant.understand.templates import SENTENCES_DIR, _base_intents_dict

            base = _base_intents_dict(self.language)
            names = set(base.get("lists", {})) | set(base.get("expansion_rules", {}))
            for path in sorted(SENTENCES_DIR.glob(f"{self.language}*.yaml")):
                core = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}
                names |= set(core.get("lists", {}) or {}) | set(core.get("expansion_rules", {}) or {})
            self._core = names
        return self._core

    def _start_skills(self) -> None:
        for name, loaded in list(self.skills.items()):
            for start in loaded.skill.starters:
                try:
                    start(self.context(name, self.device_area))
                except Exception as exc:  # that skill is off, the rest runs
                    self.problems.append(Problem(name, loaded.source,
                                                 f"on_start failed: {type(exc).__name__}: {exc}"))
                    self._drop(name)
                    break

    def _drop(self, name: str) -> None:
        self.skills.pop(name, None)
        self._owner = {i: s for i, s in self._owner.items() if s != name}
        self._catalog = None

    # --- what the rest of Hearth reads -------------------------------------------

    def sentences(self) -> list[dict[str, Any]]:
        """Every loaded skill's hassil sentences, for ``TemplateMatcher(extra_sentences=...)``."""
        return [data for loaded in self.skills.values() for data in loaded.sentences]

    def owns(self, intent: str) -> bool:
        return intent in self._owner

    def owner(self, intent: str) -> str | None:
        return self._owner.get(intent)

    def stt_words(self) -> list[str]:
        """Words the skills want Whisper to expect (for its initial prompt)."""
        return list(dict.fromkeys(w for s in self.skills.values() for w in s.skill.stt_words))

    def catalog(self) -> list[IntentInfo]:
        """(intent, examples, slots) of every skill intent: the local LLM's choices."""
        if self._catalog is None:
            from assistant.understand.templates import _base_intents_dict

            base_all = _base_intents_dict(self.language)
            base = base_all["intents"]
            infos = []
            for name, loaded in self.skills.items():
                own = {i: d for data in loaded.sentences for i, d in data["intents"].items()}
                rules = {**base_all.get("expansion_rules", {}),
                         **{k: v for data in loaded.sentences
                            for k, v in (data.get("expansion_rules") or {}).items()}}
                for decl in loaded.skill.intents.values():
                    blocks = [*(own.get(decl.name, {}).get("data", [])),
                              *base.get(decl.name, {}).get("data", [])]
                    infos.append(IntentInfo(decl.name, name, decl.description or loaded.skill.description,
                                            decl.examples or template_examples(blocks),
                                            template_slots(blocks, rules)))
            self._catalog = infos
        return list(self._catalog)

    # --- handling -------------------------------------------------------------------

    def context(self, name: str, area: str | None) -> SkillContext[Any]:
        loaded = self.skills[name]
        return SkillContext(
            skill=name, home=self.view, area=area, settings=loaded.settings, data_dir=loaded.data_dir,
            timers=self.timers.for_owner(name, area), assistant=RegistryInfo(self),
            log=logging.getLogger(f"skill.{name}"), permissions=loaded.skill.permissions,
            announce=lambda text, key: self.say(text, skill=name, key=key, area=area),
            cloud_check=lambda text: self._cloud_verdict(name, text),
        )

    def decide(self, text: str, match: TemplateMatch, area: str | None) -> Decision:
        """A template match whose intent a skill owns -> that skill's decision."""
        decision = self.decide_intent(match.intent, match.slots, text=text, area=area)
        assert decision is not None  # the router asks only for owned intents
        return replace(decision, candidates=({"intent": match.intent, "slots": dict(match.slots),
                                              "source": "templates", "score": 1.0,
                                              "skill": self._owner[match.intent]},))

    def decide_intent(self, intent: str, slots: Mapping[str, Any], *, text: str = "",
                      area: str | None = None) -> Decision | None:
        """Run the skill that owns ``intent`` (None if no skill does): for the router, and
        for a local LLM that picked one of :meth:`catalog`'s intents."""
        name = self._owner.get(intent)
        if name is None:
            return None
        loaded = self.skills[name]
        return self.runner.run(loaded.skill, Intent(intent, dict(slots), text),
                               self.context(name, area or self.device_area))

    def interrupt(self, text: str, match: TemplateMatch | None) -> Decision | None:
        """"Stop" / "okay" while a timer rings answers the ring, before anything else."""
        ringing = self.timers.ringing()
        if not ringing:
            return None
        intent = match.intent if match is not None else None
        named = str(match.slots.get("name", "")).lower() if match is not None else ""
        cancels = intent in ("HassCancelTimer", "HassCancelAllTimers") and (
            not named or any((t.name or "").lower() == named for t in ringing))
        if not (cancels or intent in _ACK_INTENTS or _ACK_RE.match(normalise(text))):
            return None
        stopped = self.timers.acknowledge()
        for t in stopped:
            self.announcements.discard(f"timer:{t.id}")
        labels = [f"the {t.name} {t.kind}" if t.name else f"the {t.kind}" for t in stopped
                  if t.state == "ringing"]
        reply = "Okay, I've stopped " + " and ".join(labels) + "." if labels else "Okay."
        return Decision("local", reply, intent=ACK_INTENT, reason="answered a ringing timer")

    # --- unprompted speech --------------------------------------------------------

    def say(self, text: str, *, skill: str, key: str | None = None, area: str | None = None) -> None:
        self.announcements.put(Announcement(text=text, skill=skill, key=key, area=area, at=self.clock()))

    def _ring(self, timer: TimerInfo, text: str) -> None:
        self.say(text, skill=timer.owner, key=f"timer:{timer.id}", area=timer.area)

    def start_ringing(self) -> None:
        """Start the timer ticker: call this where someone will hear the announcements
        (the voice loop, the daemon) — never in one-shot ``hearth ask``."""
        self.timers.start()

    # --- observing turns ------------------------------------------------------------

    def observe(self, sink: EventSink) -> EventSink:
        """Wrap the pipeline's event sink so "system status" knows how turns went."""
        return self.turns.observe(sink)

    @property
    def emit(self) -> EventSink:
        return self.runner.emit

    @emit.setter
    def emit(self, sink: EventSink) -> None:
        self.runner.emit = sink

    # --- reporting ----------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """What ``hearth skills --json`` prints."""
        by_skill: dict[str, list[IntentInfo]] = {}
        for info in self.catalog():
            by_skill.setdefault(info.skill, []).append(info)
        skills = []
        for name, loaded in self.skills.items():
            s = loaded.skill
            skills.append({
                "name": name, "description": s.description, "version": s.version,
                "source": loaded.source, "permissions": s.permissions.as_dict(),
                "leaves_device": s.permissions.leaves_device,
                "intents": [i.as_dict() for i in by_skill.get(name, [])],
                "stt_words": list(s.stt_words),
                "settings": loaded.settings.model_dump(mode="json"),
            })
        return {"skills": skills, "problems": [p.as_dict() for p in self.problems],
                "allowlist": list(self.config.enabled), "disabled": list(self.config.disabled)}

    def _cloud_verdict(self, skill: str, text: str) -> str:
        from assistant.privacy.policy import CloudRequest, evaluate

        return evaluate(CloudRequest(text=text, skill=skill), self.privacy).verdict

    def close(self) -> None:
        for name, loaded in list(getattr(self, "skills", {}).items()):
            for stop in loaded.skill.stoppers:
                try:
                    stop(self.context(name, self.device_area))
                except Exception:  # closing must finish
                    log.warning("skill %s: on_stop failed", name, exc_info=True)
        if hasattr(self, "timers"):
            self.timers.close()
        if hasattr(self, "turns"):
            self.turns.close()


def _device_area(home: HomeBackend, area: str) -> str | None:
    try:
        return home.area(area).id
    except Exception:  # the assistant reports a bad area itself
        return None


__all__ = ["ACK_INTENT", "LoadedSkill", "SkillError", "SkillRegistry"]
