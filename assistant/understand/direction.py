"""The last check before acting: every proposed action's direction against the words said.

Whoever proposed the actions (templates, the local LLM, a follow-up, a skill, the cloud),
each service's direction (registry: ``does``, a level's rise or fall, what "toggle" means
in the current state) is held against the directions the words say (:mod:`said`):

* the words say the opposite ("kitchen light on" -> ``light.turn_off``), or negate it
  ("don't turn it off") -> replaced by the one the words say when that is unambiguous for
  that device, else a clarifying question; an inverted action is never executed;
* the words say something this kind of device cannot do ("mute" -> a lock), or another
  thing it can ("activate" -> skip a track) -> a clarifying question;
* values said are the values done ("eighteen degrees" -> 18, "full brightness" -> 100);
* a sensitive device's action waits for a spoken yes whoever proposed it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace

from assistant.errors import HomeError
from assistant.home.base import Entity, EntityState, HomeBackend
from assistant.understand import levels
from assistant.understand.registry import Domain, Registry, Service, load
from assistant.understand.replies import describe
from assistant.understand.result import Action, Decision
from assistant.understand.said import Said, Words

log = logging.getLogger(__name__)

RISES = frozenset({"on", "open", "up", "start", "play", "unmute"})
FALLS = frozenset({"off", "close", "down", "stop", "pause", "dock", "mute"})
"""Which way a direction moves a device: "turn down the lights" agrees with "off"."""


@dataclass(frozen=True)
class Verdict:
    action: Action
    agrees: bool
    replacement: Action | None = None
    why: str = ""


def _polarity(directions: set[str]) -> int:
    up, down = bool(directions & RISES), bool(directions & FALLS)
    return 0 if up == down else (1 if up else -1)


class DirectionCheck:
    """Holds decisions against the words said, for one home."""

    def __init__(self, home: HomeBackend, registry: Registry | None = None) -> None:
        self.home = home
        self.registry = registry or load()
        self.words = Words(self.registry.vocab, self.registry.opposites)

    # --- one decision -------------------------------------------------------------

    def check(self, decision: Decision, text: str) -> Decision:
        """``decision`` with every action agreeing with ``text``, or a question instead."""
        if not decision.actions and not decision.pending:
            return decision
        said = self.words(text)
        if said.question:
            return self._clarify(decision, [*decision.actions, *decision.pending],
                                 "the words ask a question; nothing is changed for a question")
        changed = False
        out: dict[str, list[Action]] = {"actions": [], "pending": []}
        unsure: list[Action] = []
        reasons: list[str] = []
        for where, actions in (("actions", decision.actions), ("pending", decision.pending)):
            for action in actions:
                valued = self._variant(self._values(action, said), said)
                verdict = self._judge(valued, said)
                if verdict.agrees:
                    out[where].append(valued)
                    changed |= valued != action
                elif verdict.replacement is not None:
                    out[where].append(verdict.replacement)
                    reasons.append(verdict.why)
                    changed = True
                else:
                    unsure.append(action)
                    reasons.append(verdict.why)
        if unsure:
            log.info("direction check: %s", "; ".join(reasons))
            return self._clarify(decision, unsure, "; ".join(reasons))
        sensitive = [a for a in out["actions"] if self._sensitive(a)]
        if sensitive:
            out["actions"] = [a for a in out["actions"] if a not in sensitive]
            out["pending"] = [*out["pending"], *sensitive]
            changed = True
            reasons.append("a sensitive device waits for a spoken yes")
        if not changed:
            return decision
        if reasons:
            log.info("direction check: %s", "; ".join(reasons))
        return self._rebuilt(decision, tuple(out["actions"]), tuple(out["pending"]), reasons)

    # --- one action ---------------------------------------------------------------

    def _judge(self, action: Action, said: Said) -> Verdict:
        found = self.registry.service(action.service)
        entity = self._entity(action.entity_id)
        if found is None or entity is None:
            return Verdict(action, True)
        domain, service = found
        state = self._state(entity)
        said = self._without_name(said, entity)
        does = self._does(action, domain, service, state, said)
        aff = self._resolve(said.affirmed(domain.name), domain, state)
        neg = self._resolve(said.negated(domain.name), domain, state)
        name = f"{action.service} on {entity.name}"
        if does & neg and not does & aff:
            return self._replace(action, domain, service, entity, state, aff,
                                 f"{name}: the words say not {'/'.join(sorted(does & neg))}")
        if not aff:
            return Verdict(action, True)
        stepped = levels.step_instead(action, domain, service, entity, state, aff,
                                      self._supported(entity))
        if stepped is not None:  # "turn the telly down": the volume, not a pause
            return Verdict(action, False, stepped, f"{name}: the words say {'/'.join(sorted(aff))}; "
                           f"a step on the level instead")
        if levels.already_at_the_floor(action, domain, state, aff, said):
            return Verdict(action, False, why=f"{name}: already at its lowest, nothing to turn down")
        floored = levels.not_to_the_floor(action, domain, state, aff, said)
        if floored is not None:  # "slow the fan down": slower, not off
            return Verdict(action, False, floored, f"{name}: 'down' is a step, not off")
        if does & aff:
            return self._sharpen(action, domain, service, entity, aff, said)
        if any(self.registry.opposite(d, x) for d in aff for x in does):
            return self._replace(action, domain, service, entity, state, aff,
                                 f"{name} goes {'/'.join(sorted(does))}, "
                                 f"the words say {'/'.join(sorted(aff))}")
        rise, goes = _polarity(aff), _polarity(does)
        if rise and goes:  # "turn down the lights" -> off; "pause the vacuum" -> dock
            if rise == goes:
                return self._sharpen(action, domain, service, entity, aff, said)
            return self._replace(action, domain, service, entity, state, aff,
                                 f"{name} goes {'/'.join(sorted(does))}, the words say "
                                 f"{'/'.join(sorted(aff))}")
        understood = {d for d in aff if domain.understands(d)}
        if not understood:
            return Verdict(action, False, why=f"{name}: a {domain.name.replace('_', ' ')} cannot "
                           f"{'/'.join(sorted(aff))}")
        if does:
            return Verdict(action, False, why=f"{name} goes {'/'.join(sorted(does))}, "
                           f"the words say {'/'.join(sorted(understood))}")
        return Verdict(action, True)

    def _without_name(self, said: Said, entity: Entity) -> Said:
        """The words without the device's own name: "cast off" names a scene, "wind down" a
        script; neither says which way to go."""
        text = said.text
        for name in sorted(entity.names, key=len, reverse=True):
            text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", " ", text, flags=re.IGNORECASE)
        return said if text == said.text else self.words(text)

    def _sharpen(self, action: Action, domain: Domain, service: Service, entity: Entity,
                 aff: set[str], said: Said) -> Verdict:
        """Agreeing, but the words name another service of this device exactly ("pause the
        hoover": pause, not back to its dock; "turn on the tv": on, not play) -> that one."""
        wanted = {d for d in aff if d != "toggle"}
        if len(wanted) != 1 or (service.does and service.does[0] in wanted):
            return Verdict(action, True)
        if any(k in action.data for k in service.modes):
            return Verdict(action, True)  # "on auto": the mode said is more exact than "on"
        keys = [k for k in action.data if k in domain.levels]
        state = self._state(entity)
        if any(levels.said_value(domain.levels[k], said, state) is not None for k in keys):
            return Verdict(action, True)  # the value said is the most exact ("open to 30 %")
        if keys and wanted <= {"up", "down"}:
            return Verdict(action, True)  # a level already moved the way the words say
        supported = self._supported(entity)
        way = next(iter(wanted))
        exact = [n for n, s in domain.services.items() if s.does[:1] == (way,) and n in supported]
        flagged = [(n, k, yes == way) for n, s in domain.services.items() if n in supported
                   for k, (yes, no) in s.flags.items() if way in (yes, no)]
        if not exact and len(flagged) == 1:  # "mute the tv": volume_mute, not a quieter volume
            name, key, value = flagged[0]
            muted = Action(f"{domain.name}.{name}", action.entity_id, {key: value})
            return Verdict(action, False, muted, f"{action.service} on {entity.name}: the words say "
                           f"{way}; did {muted.service}")
        if len(exact) != 1:
            return Verdict(action, True)
        target = domain.services[exact[0]]
        data = {k: v for k, v in action.data.items() if k in target.data
                and (k not in domain.levels or levels.said_value(domain.levels[k], said, state) is not None)}
        sharper = Action(f"{domain.name}.{target.name}", action.entity_id, data)
        return Verdict(action, False, sharper, f"{action.service} on {entity.name}: the words say "
                       f"{next(iter(wanted))}; did {sharper.service}")

    def _does(self, action: Action, domain: Domain, service: Service, state: EntityState | None,
              said: Said) -> set[str]:
        """The directions this action goes, in the device's current state."""
        does = set(service.does)
        if "toggle" in does and state is not None and state.state in domain.toggle:
            does.add(domain.toggle[state.state])
        for key, (yes, no) in service.flags.items():
            if key in action.data:
                does.add(yes if action.data[key] else no)
        for key, modes in service.modes.items():
            if key in action.data:
                mode = str(action.data[key])
                does.add(modes.get(mode, modes.get("*", "")))
        for key, value in action.data.items():
            level = domain.levels.get(key)
            if level is None or not isinstance(value, (int, float)):
                continue
            if levels.said_value(level, said, state) is not None:
                does |= {level.up, level.down, "up", "down"}  # set to the value said: either way
                continue
            current = levels.current(level, state)
            if current is not None and value > current:
                does |= {level.up, "up"}
            elif current is not None and value < current:
                does |= {level.down, "down"}
        does.discard("")
        return does

    def _resolve(self, directions: set[str], domain: Domain, state: EntityState | None) -> set[str]:
        """What "toggle" means for this device now (an off light toggles on)."""
        if "toggle" in directions and state is not None and state.state in domain.toggle:
            return directions | {domain.toggle[state.state]}
        return directions

    def _replace(self, action: Action, domain: Domain, service: Service, entity: Entity,
                 state: EntityState | None, aff: set[str], why: str) -> Verdict:
        """The one action the words say for this device, if there is exactly one."""
        level_keys = [k for k in action.data if k in domain.levels]
        if level_keys and aff & {"up", "down"} and not set(service.does) - {"on"}:
            mirrored = levels.mirrored(action, domain, state, level_keys)
            if mirrored is not None:
                return Verdict(action, False, mirrored, why + "; the change mirrored")
        wanted = {d for d in aff if d != "toggle"}
        supported = self._supported(entity)
        chosen = {name for name, s in domain.services.items()
                  if s.does and s.does[0] in wanted and name in supported}
        if len(chosen) != 1:
            return Verdict(action, False, why=why)
        name = chosen.pop()
        target = domain.services[name]
        data = {k: v for k, v in action.data.items() if k in target.data}
        return Verdict(action, False, Action(f"{domain.name}.{name}", action.entity_id, data),
                       f"{why}; did {domain.name}.{name}")

    # --- values said --------------------------------------------------------------

    def _values(self, action: Action, said: Said) -> Action:
        """The action with the values the words said ("eighteen degrees" -> 18)."""
        found = self.registry.service(action.service)
        entity = self._entity(action.entity_id)
        if found is None or entity is None or not said.values:
            return action
        return levels.with_said_values(action, *found, entity, self._state(entity), said,
                                       self._supported(entity))

    def _variant(self, action: Action, said: Said) -> Action:
        """The service of the same direction the words pick ("for the night": arm_night)."""
        found = self.registry.service(action.service)
        if found is None:
            return action
        domain, service = found
        variants = self.registry.vocab.variants.get(domain.name, {})
        entity = self._entity(action.entity_id)
        if not variants or entity is None:
            return action
        supported = self._supported(entity)
        picked = [n for n, phrases in variants.items() if n in supported and said.says(phrases)
                  and domain.services[n].does[:1] == service.does[:1]]
        if len(picked) != 1 or picked[0] == service.name:
            return action
        return Action(f"{domain.name}.{picked[0]}", action.entity_id, dict(action.data))

    # --- the decision told back ---------------------------------------------------

    def _rebuilt(self, decision: Decision, actions: tuple[Action, ...], pending: tuple[Action, ...],
                 reasons: list[str]) -> Decision:
        parts = []
        if actions:
            parts.append(self.describe(actions, done=True) + ".")
        if pending:
            parts.append(f"Do you really want me to {self.describe(pending, done=False)}?")
        first = (actions or pending)[0]
        found = self.registry.service(first.service)
        intent = found[1].intent if found and found[1].intent else decision.intent
        why = "; ".join(reasons)
        return replace(decision, actions=actions, pending=pending, reply=" ".join(parts),
                       intent=intent,
                       handled_by="confirm" if pending else decision.handled_by,
                       expects_reply=bool(pending) or decision.expects_reply,
                       reason=f"{decision.reason}; direction check: {why}" if why else decision.reason)

    def describe(self, actions: tuple[Action, ...], *, done: bool) -> str:
        """'Turned on the Kitchen Light; set the Thermostat to 18 degrees'."""
        names = {a.entity_id: (f"the {e.name}" if (e := self._entity(a.entity_id)) else a.entity_id)
                 for a in actions}
        return describe(actions, names, self.registry, done=done)

    def _clarify(self, decision: Decision, unsure: list[Action], why: str) -> Decision:
        names = []
        for a in unsure:
            entity = self._entity(a.entity_id)
            name = f"the {entity.name}" if entity else a.entity_id
            if name not in names:
                names.append(name)
        target = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return replace(decision, handled_by="clarify", actions=(), pending=(), candidates=(),
                       reply=f"Sorry, I'm not sure what you want me to do with {target}. "
                       "Could you say it again?",
                       expects_reply=False, confidence=0.0,
                       reason=f"{decision.reason}; direction check: {why}".lstrip("; "))

    # --- the home -----------------------------------------------------------------

    def _entity(self, entity_id: str) -> Entity | None:
        try:
            return self.home.entity(entity_id)
        except (HomeError, KeyError, ValueError):
            return None

    def _state(self, entity: Entity) -> EntityState | None:
        try:
            return self.home.get_state(entity.entity_id)
        except (HomeError, KeyError, ValueError):
            return None

    def _supported(self, entity: Entity) -> set[str]:
        from assistant.home.services import SERVICES

        table = SERVICES.get(entity.domain)
        domain = self.registry.domain(entity.domain)
        names = set(domain.services) if domain else set()
        return names & set(table) if table is not None else names

    def _sensitive(self, action: Action) -> bool:
        entity = self._entity(action.entity_id)
        return entity is not None and self.registry.sensitive(entity)
