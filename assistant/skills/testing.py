"""Test a skill the way the assistant runs it: your sentences join the templates, the
router picks your intent, the runner calls your handler and checks its actions, the
pipeline applies them to a private demo home.

::

    from assistant.skills.testing import SkillTester
    from hearth_coffee import skill

    def test_latte(tmp_path):
        with SkillTester(skill, data_dir=tmp_path) as t:
            turn = t.ask("make me a large latte")
            assert turn.intent == "HearthBrew" and turn.slots["size"] == "large"
            assert turn.actions == [Action("switch.turn_on", "switch.coffee_maker")]

``ask_wav(path)`` runs a recording through the real speech-to-text first (the bundled
Whisper, biased with your skill's ``stt_words``). With ``clock=FakeClock()`` timers are
driven by :meth:`SkillTester.advance` instead of waiting.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from assistant.events import Event, StageFailed
from assistant.understand.result import Action


class FakeClock:
    """Wall-clock time that moves only when told (for timers in tests)."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class SkillTurn:
    """One turn's outcome, as a test wants to see it."""

    text: str
    reply: str
    intent: str | None
    slots: dict[str, Any]
    handled_by: str
    actions: list[Action]
    """What was applied (or, with ``dry_run``, what would have been)."""
    pending: list[Action]
    """What waits for a spoken yes."""
    errors: list[str] = field(default_factory=list)
    """StageFailed messages (a skill that failed, an action the home refused)."""
    events: list[Event] = field(default_factory=list)


class SkillTester:
    """A demo home + templates + router + your skills (and nothing else, unless
    ``builtin=True`` also loads every installed skill, the built-in ones among them)."""

    def __init__(self, *skills: object, data_dir: Path | str | None = None,
                 settings: Mapping[str, Mapping[str, Any]] | None = None, config: Path | None = None,
                 clock: FakeClock | None = None, builtin: bool = False, timeout_s: float = 5.0,
                 ring_every_s: float = 20.0, max_rings: int = 6) -> None:
        from assistant.config import load_settings
        from assistant.home import open_home
        from assistant.pipeline import Pipeline
        from assistant.skills.registry import SkillRegistry
        from assistant.understand.router import Understander

        self._tmp = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="hearth-skill-test-")
            data_dir = self._tmp.name
        names = [getattr(s, "name", None) or getattr(s, "__name__", "").rsplit(".", 1)[-1] for s in skills]
        skills_cfg: dict[str, Any] = {"enabled": ["*"] if builtin else names,
                                      "settings": dict(settings or {}), "timeout_s": timeout_s,
                                      "ring_every_s": ring_every_s, "max_rings": max_rings}
        self.settings = load_settings(config, data_dir=str(data_dir), skills=skills_cfg)
        self.clock = clock
        self.events: list[Event] = []
        self.home = open_home(self.settings)
        try:
            self.registry = SkillRegistry(self.settings, self.home, emit=self.events.append,
                                          clock=clock or time.time, extra=skills, discover_plugins=builtin)
            self.understander = Understander(self.home, skills=self.registry)
            self.pipeline = Pipeline(self.home, self.understander,
                                     device_area=self.home.area(self.settings.device_area).id,
                                     emit=self.registry.observe(self.events.append))
        except BaseException:
            self.close()
            raise
        if self.registry.problems:
            problems = "; ".join(f"{p.name}: {p.error}" for p in self.registry.problems)
            self.close()
            raise AssertionError(f"skills failed to load: {problems}")

    # --- driving ---------------------------------------------------------------------

    def ask(self, text: str, *, area: str | None = None, dry_run: bool = False) -> SkillTurn:
        """One turn from text, like ``hearth ask``."""
        start = len(self.events)
        result = self.pipeline.handle_text(text, area=area, dry_run=dry_run)
        events = self.events[start:]
        d = result.decision
        return SkillTurn(
            text=text, reply=result.reply, intent=d.intent, slots=dict(d.slots), handled_by=d.handled_by,
            actions=list(d.actions if dry_run else result.applied), pending=list(d.pending),
            errors=[e.message for e in events if isinstance(e, StageFailed)], events=events)

    def ask_wav(self, path: Path | str, *, area: str | None = None, dry_run: bool = False) -> SkillTurn:
        """One turn from a recording: the real Whisper first (loaded once per process)."""
        from assistant.audio.files import read_audio

        text = self.transcribe(read_audio(Path(path)))
        return self.ask(text, area=area, dry_run=dry_run)

    def transcribe(self, samples: Any) -> str:
        """Heard the way the voice loop hears: biased to the home's names; when that is no
        command, again with the skills' words (the n-best list read against the sentences
        in play, then the nearest sentence), kept only when that one is a command."""
        from assistant.stt.grammar import PhraseGraph

        first, retry = self.stt_prompts()
        stt = _stt(self.settings, first, retry)
        text = str(stt.transcribe(samples))
        if not text or not stt.can_retry or self.is_command(text):
            return text
        stt.accepts, stt.phrases = self.is_command, PhraseGraph(self.registry.sentences())
        second = str(stt.transcribe_retry(samples))
        return second if self.is_command(second) else text

    def is_command(self, text: str) -> bool:
        """Would the voice loop take these words as a whole command (a template matches)?"""
        return self.understander.is_complete_command(text, area=None)

    def stt_prompts(self) -> tuple[str, str | None]:
        """Whisper's prompts as the voice loop builds them: the home's names; for the
        retry, the skills' ``stt_words`` too."""
        from assistant.stt.whisper import bias_prompts

        return bias_prompts(self.home.spoken_names(), self.registry.stt_words())

    # --- unprompted speech and time ----------------------------------------------

    def announcements(self) -> list[str]:
        """What the assistant said unprompted since the last call (drains the queue)."""
        return [a.text for a in self.registry.announcements.drain()]

    def tick(self) -> None:
        """Let the timer service look at the clock once (what its thread does 4x a second)."""
        self.registry.timers.tick()

    def advance(self, seconds: float) -> list[str]:
        """Move the fake clock on, tick, and return what was announced."""
        if self.clock is None:
            raise RuntimeError("advance() needs SkillTester(clock=FakeClock())")
        self.clock.advance(seconds)
        self.tick()
        return self.announcements()

    def state(self, entity_id: str) -> str:
        return self.home.get_state(entity_id).state

    # --- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        registry = getattr(self, "registry", None)
        if registry is not None:
            registry.close()
        home = getattr(self, "home", None)
        if home is not None:
            home.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SkillTester:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


_STT_CACHE: dict[tuple[str, str, str | None], Any] = {}


def _stt(settings: Any, prompt: str, retry_prompt: str | None) -> Any:
    from assistant.stt.whisper import WhisperStt

    key = (str(settings.stt.model), prompt, retry_prompt)
    if key not in _STT_CACHE:
        _STT_CACHE[key] = WhisperStt(settings.stt, prompt=prompt, retry_prompt=retry_prompt)
    return _STT_CACHE[key]
