"""Run one skill handler, safely.

Each call runs on its own worker thread and the turn waits at most ``timeout_s``: a
handler that raises, hangs or returns something that is not a reply becomes a short
spoken error ("Sorry, the timers skill failed."), a ``StageFailed`` event and a skill
stage that ends with the failure's code, and the assistant carries on. A skill whose
earlier call is still stuck is not called again until that call ends (it would only
pile up threads). Every action a skill returns is
checked before anything happens: the entity must exist, be in a domain the skill
declared, and the call must pass the service table (:func:`assistant.home.services.validate`);
one bad action refuses them all. Actions on sensitive entities always wait for a
spoken yes, whatever the skill asked.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from assistant.errors import HearthError
from assistant.events import EventSink, stage_failed
from assistant.home.base import HomeBackend
from assistant.home.services import validate
from assistant.skills.api import Intent, Response, Skill, SkillContext
from assistant.stages import Stage
from assistant.understand.result import Action, Decision

log = logging.getLogger(__name__)


class SkillFailure(Exception):
    """Why a skill's call could not be used; ``code`` goes into the StageFailed event."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def spoken_name(skill: str) -> str:
    return skill.replace("_", " ")


@dataclass
class _Call:
    done: threading.Event
    result: Any = None
    error: BaseException | None = None
    late: bool = False
    """The turn gave up waiting: the skill counts as stuck until this call ends."""


class SkillRunner:
    def __init__(self, home: HomeBackend, *, timeout_s: float, emit: EventSink,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.home = home
        self.timeout_s = timeout_s
        self.emit = emit
        """Where StageFailed events go outside a turn (inside one: the turn's own events)."""
        self.clock = clock
        self._stuck: dict[str, int] = {}
        self._lock = threading.Lock()

    def run(self, skill: Skill[Any], intent: Intent, ctx: SkillContext[Any]) -> Decision:
        """The skill's decision for ``intent``, or a spoken error; never raises."""
        t0 = self.clock()
        try:
            raw = self._call(skill, intent, ctx)
            if isinstance(raw, str):
                raw = Response(raw)
            decision = self._to_decision(skill, intent, raw)
        except SkillFailure as exc:
            return self._failed(skill, intent, exc.code, str(exc))
        ms = (self.clock() - t0) * 1000.0
        slots = dict(intent.slots)
        given = raw.slots if isinstance(raw, (Response, Decision)) else None
        if isinstance(given, Mapping) and given:
            slots = dict(given)
        return replace(decision, intent=intent.name, slots=slots,
                       reason=decision.reason or f"skill {skill.name} ({ms:.0f} ms)")

    # --- calling ----------------------------------------------------------------

    def _call(self, skill: Skill[Any], intent: Intent, ctx: SkillContext[Any]) -> Any:
        decl = skill.intents.get(intent.name)
        if decl is None:
            raise SkillFailure("skill_no_handler", f"{skill.name} has no handler for {intent.name}")
        with self._lock:
            if self._stuck.get(skill.name, 0) > 0:
                raise SkillFailure("skill_busy", f"{skill.name} is still stuck in an earlier call")
        call = _Call(threading.Event())

        def work() -> None:
            try:
                call.result = decl.handler(intent, ctx)
            except BaseException as exc:  # reported, never propagated
                call.error = exc
            finally:
                call.done.set()
                with self._lock:
                    if call.late:
                        self._stuck[skill.name] -= 1

        worker = threading.Thread(target=work, name=f"skill-{skill.name}", daemon=True)
        worker.start()
        if not call.done.wait(self.timeout_s):
            with self._lock:
                if not call.done.is_set():
                    call.late = True
                    self._stuck[skill.name] = self._stuck.get(skill.name, 0) + 1
            if not call.done.is_set():
                raise SkillFailure("skill_timeout",
                                   f"{skill.name} did not answer within {self.timeout_s:g} s")
        if call.error is not None:
            exc = call.error
            log.warning("skill %s raised on %s", skill.name, intent.name,
                        exc_info=(type(exc), exc, exc.__traceback__))
            first = str(exc).splitlines()[0][:200] if str(exc) else ""
            raise SkillFailure("skill_raised", f"{skill.name} raised {type(exc).__name__}"
                               + (f": {first}" if first else ""))
        return call.result

    # --- checking what came back -------------------------------------------------

    def _to_decision(self, skill: Skill[Any], intent: Intent, raw: Any) -> Decision:
        if isinstance(raw, str):
            raw = Response(raw)
        if isinstance(raw, Decision):
            if not isinstance(raw.reply, str):
                raise SkillFailure("skill_bad_result", f"{skill.name} returned a decision without a reply")
            actions = self._check_actions(skill, raw.actions)
            pending = self._check_actions(skill, raw.pending)
            decision = replace(raw, actions=actions, pending=pending)
            if decision.left_device and not skill.permissions.leaves_device:
                raise SkillFailure("skill_forbidden", f"{skill.name} sent data off the device "
                                   "without the network or cloud permission")
            return self._guard_sensitive(skill, decision)
        if not isinstance(raw, Response):
            raise SkillFailure("skill_bad_result",
                               f"{skill.name} returned {type(raw).__name__}, not a Response or str")
        if not isinstance(raw.text, str) or not isinstance(raw.confirm, bool) or (
                raw.slots is not None and not isinstance(raw.slots, Mapping)):
            raise SkillFailure("skill_bad_result", f"{skill.name} returned a malformed Response")
        actions = self._check_actions(skill, raw.actions)
        if not raw.text.strip() and not actions:
            raise SkillFailure("skill_bad_result", f"{skill.name} returned an empty reply")
        if raw.confirm and actions:
            decision = Decision("confirm", raw.text, pending=actions, expects_reply=True)
        else:
            decision = Decision("local", raw.text or "Done.", actions=actions,
                                expects_reply=bool(raw.expects_reply))
        return self._guard_sensitive(skill, decision)

    def _check_actions(self, skill: Skill[Any], actions: Any) -> tuple[Action, ...]:
        if not isinstance(actions, (tuple, list)):
            raise SkillFailure("skill_bad_result", f"{skill.name} returned actions that are not a list")
        checked = []
        for action in actions:
            if not isinstance(action, Action) or not isinstance(action.service, str) \
                    or not isinstance(action.entity_id, str) or not isinstance(action.data, Mapping):
                raise SkillFailure("skill_bad_result", f"{skill.name} returned an action that is not an "
                                   f"Action(service, entity_id, data): {action!r:.80}")
            domain = action.entity_id.split(".", 1)[0]
            if domain not in skill.permissions.domains:
                raise SkillFailure("skill_forbidden", f"{skill.name} may not act on {action.entity_id} "
                                   f"(allowed domains: {', '.join(skill.permissions.domains) or 'none'})")
            try:
                entity = self.home.entity(action.entity_id)
                data = validate(entity, action.service, action.data,
                                self.home.get_state(action.entity_id))
            except HearthError as exc:
                raise SkillFailure("skill_forbidden", f"{skill.name} proposed an invalid action "
                                   f"({action.service} {action.entity_id}): {exc}") from None
            checked.append(Action(action.service, action.entity_id, data))
        return tuple(checked)

    def _guard_sensitive(self, skill: Skill[Any], decision: Decision) -> Decision:
        """A lock or a garage door never moves on a skill's word alone."""
        sensitive = [a for a in decision.actions if self.home.entity(a.entity_id).sensitive]
        if not sensitive:
            return decision
        names = " and ".join(f"the {self.home.entity(a.entity_id).name}" for a in sensitive)
        return replace(decision, handled_by="confirm", actions=(),
                       pending=(*decision.pending, *decision.actions), expects_reply=True,
                       reply=f"The {spoken_name(skill.name)} skill wants to change {names}. "
                             "Shall I go ahead?")

    def _failed(self, skill: Skill[Any], intent: Intent, code: str, message: str) -> Decision:
        log.warning("skill %s: %s", skill.name, message)
        try:  # the turn's skill stage ends with the code (the error is answered, not raised)
            stage_failed(Stage.SKILL, code, message, otherwise=self.emit)
        except Exception:  # an event sink must not turn an error into a crash
            log.warning("event sink failed", exc_info=True)
        return Decision("unhandled", f"Sorry, the {spoken_name(skill.name)} skill failed.",
                        intent=intent.name, slots=dict(intent.slots), confidence=0.0,
                        reason=f"skill {skill.name}: {message}")
