"""Turn a matched intent and its slots into actions on the home and a short reply.

Follows Home Assistant's intent semantics: a ``name`` targets one entity (HA's
``name: all`` means "every one"); an ``area`` plus a ``domain`` targets every such entity
in that area; ``scope: home`` targets the whole home; with none of these, the area
passed in (the device's) is used. Anything sensitive is proposed, not done: it waits
for a spoken yes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from assistant.home.base import Entity, HomeBackend
from assistant.understand import climate, lights, media, vocabulary
from assistant.understand.acting import Acting, describe
from assistant.understand.elsewhere import ask_one, ask_which
from assistant.understand.memory import as_list
from assistant.understand.registry import Registry, load
from assistant.understand.result import Action, Decision
from assistant.understand.sorts import ONE_OF

COFFEE_WORDS = tuple(w for w, thing in vocabulary.load().thing_words.items() if thing == "coffee")
"""Words that name a coffee maker by what it makes (data: words.yaml ``thing_words``)."""


class IntentHandlers:
    """The built-in home intents, against one home."""

    def __init__(self, home: HomeBackend, registry: Registry | None = None) -> None:
        self.home = home
        self.registry = registry or load()
        self.vocab = vocabulary.load()
        """What "turn on" calls for each kind, and how each service is told back."""
        self._handlers: dict[str, Callable[[dict[str, Any], str | None], Decision]] = {
            "HassTurnOn": self.turn_on,
            "HassTurnOff": self._turn_off,
            "HassLightSet": self._on(lights.light_set),
            "HearthLightStep": self._on(lights.light_step),
            "HearthLightColor": self._on(lights.light_set),
            "HearthLightColorShift": self._on(lights.light_shift),
            "HearthClimateStep": self._on(climate.climate_step),
            "HearthBrew": self._brew,
            "HearthTooDark": self._on(lights.too_dark),
            "HearthTooBright": self._on(lights.too_bright),
            "HearthLightColorAsk": self._on(lights.colour_ask),
            "HassClimateSetTemperature": self._on(climate.set_temperature),
            "HearthClimateMode": self._on(climate.set_mode),
            "HassClimateGetTemperature": self._on(climate.get_temperature),
            "HassSetPosition": self._set_position,
            "HassVacuumStart": self._simple("vacuum", "start"),
            "HassVacuumReturnToBase": self._simple("vacuum", "return_to_base"),
            "HassMediaPause": self._simple("media_player", "media_pause"),
            "HassMediaUnpause": self._simple("media_player", "media_play"),
            "HassMediaNext": self._simple("media_player", "media_next_track"),
            "HassMediaPrevious": self._simple("media_player", "media_previous_track"),
            "HassMediaSearchAndPlay": lambda s, a: media.search_and_play(self, self.vocab, s, a),
            "HassMediaPlayerMute": self._simple("media_player", "volume_mute", "mute"),
            "HassMediaPlayerUnmute": self._simple("media_player", "volume_mute", "unmute"),
            "HassSetVolume": self._on(media.set_volume),
            "HassSetVolumeRelative": self._on(media.set_volume_relative),
            "HassFanSetSpeed": self._fan_speed,
            "HassGetState": self.get_state,
            "HassGetCurrentTime": self._time,
            "HassGetCurrentDate": self._date,
            "HassNevermind": lambda s, a: Decision("local", "Okay.", intent="HassNevermind"),
            "HearthService": self._service,
        }

    @property
    def intents(self) -> list[str]:
        return sorted(self._handlers)

    def _on(self, handler: Callable[[Acting, dict[str, Any], str | None], Decision]
            ) -> Callable[[dict[str, Any], str | None], Decision]:
        """A handler of :mod:`lights`, :mod:`climate` or :mod:`media`, bound to these handlers."""
        return lambda slots, area: handler(self, slots, area)

    def supports(self, intent: str) -> bool:
        return intent in self._handlers

    def handle(self, intent: str, slots: dict[str, Any], area: str | None) -> Decision:
        if slots.get("name") == "all":  # HA's "every one of them" marker, not an entity
            slots = {k: v for k, v in slots.items() if k != "name"}
        if intent == "HassClimateGetTemperature" and self._names_outside(slots, "climate"):
            # "what is the furnace temperature": a sensor's state, not a thermostat's
            intent = "HassGetState"
            ent = self.home.entity(as_list(slots["name"])[0])
            slots = {**slots, "domain": ent.domain,
                     **({"device_class": ent.device_class} if ent.device_class else {})}
        if (noun := slots.get(ONE_OF)) and len(as_list(slots.get("name"))) > 1:
            return ask_one(self.home, intent, slots, str(noun))  # "the lamp", and there are two
        decision = self._handlers[intent](slots, area)
        if decision.reason == "no matching entity" and (
                which := ask_which(self.home, self.registry, intent, slots, area)) is not None:
            decision = which  # "start the vacuum" where none is, and the home has two
        return Decision(**{**decision.__dict__, "intent": intent, "slots": slots})

    def _names_outside(self, slots: dict[str, Any], domain: str) -> bool:
        ids = as_list(slots.get("name"))
        return bool(ids) and all(i.split(".", 1)[0] != domain for i in ids)

    # --- targeting -------------------------------------------------------------

    def targets(self, slots: dict[str, Any], area: str | None, domains: list[str]) -> list[Entity]:
        """The entities an intent addresses (HA's rules), restricted to ``domains``."""
        if slots.get("name"):
            ids = set(as_list(slots["name"]))
            found = [e for e in self.home.entities() if e.entity_id in ids]
            return [e for e in found if not domains or e.domain in domains]
        wanted = as_list(slots.get("domain")) or domains
        if domains:
            wanted = [d for d in wanted if d in domains]
        classes = set(as_list(slots.get("device_class")))
        where = None if slots.get("scope") == "home" else (slots.get("area") or area)
        chosen = [
            e for e in self.home.entities()
            if (not wanted or e.domain in wanted)
            and (not classes or e.device_class in classes)
            and (where is None or e.area == where)
        ]
        if not chosen and slots.get("area") in (None, area) and wanted and slots.get("scope") != "home":
            # Nothing of that kind here: if the home has exactly one, that is the one meant.
            anywhere = [e for e in self.home.entities() if e.domain in wanted
                        and (not classes or e.device_class in classes)]
            if len(anywhere) == 1:
                return anywhere
        return chosen

    def nothing(self, what: str, slots: dict[str, Any], area: str | None) -> Decision:
        where = slots.get("area") or area
        place = f" in the {self.home.area(where).name}" if where else ""
        return Decision("unhandled", f"I couldn't find {what}{place}.", reason="no matching entity")

    def act(self, entities: list[Entity], calls: list[Action], do: str, done: str) -> Decision:
        """Act now, or, if anything is sensitive, ask first. ``do``/``done`` take ``{}``
        for the targets: "open {}" / "Opened {}"."""
        sensitive = [e for e in entities if e.sensitive]
        if sensitive:
            return Decision(
                "confirm",
                f"Do you really want me to {do.format(describe(entities))}?",
                pending=tuple(calls),
                expects_reply=True,
                reason="sensitive entity needs a spoken yes",
            )
        return Decision("local", done.format(describe(entities)) + ".", actions=tuple(calls))

    # --- intents -----------------------------------------------------------------

    def _switch(self, slots: dict[str, Any], area: str | None, on: bool) -> Decision:
        way = "on" if on else "off"
        kinds = self.registry.domains
        domains = [d for d, k in kinds.items() if way in k.switch]
        entities = self.targets(slots, area, domains)
        if not entities:
            sort = [*as_list(slots.get("device_class")), *as_list(slots.get("domain"))]
            what = f"a {sort[0].replace('_', ' ')}" if sort else "anything to switch"
            return self.nothing(what, slots, area)  # "open the door": no door here
        calls = [Action(f"{e.domain}.{kinds[e.domain].switch[way]}", e.entity_id) for e in entities]
        do, done = self._phrases(calls, way)
        return self.act(entities, calls, do, done)

    def _phrases(self, calls: list[Action], fallback: str) -> tuple[str, str]:
        """"open {}" / "Opened {}": the words for the calls' one direction (registry)."""
        ways = set()
        for call in calls:
            found = self.registry.service(call.service)
            ways.add((found[1].told or found[1].does[0]) if found and found[1].does else fallback)
        way = ways.pop() if len(ways) == 1 else fallback
        phrases = self.registry.vocab.phrases
        do, done = phrases.get(way, phrases[fallback])
        return do, done

    def turn_on(self, slots: dict[str, Any], area: str | None) -> Decision:
        return self._switch(slots, area, on=True)

    def _turn_off(self, slots: dict[str, Any], area: str | None) -> Decision:
        return self._switch(slots, area, on=False)

    def _brew(self, slots: dict[str, Any], area: str | None) -> Decision:
        """"Make coffee": the switch whose name says coffee (the machine's smart plug)."""
        makers = [e for e in self.home.entities() if e.domain == "switch"
                  and any(w in n.lower() for n in e.names for w in COFFEE_WORDS)]
        if not makers:
            return Decision("unhandled", "I couldn't find a coffee maker.", reason="no coffee maker")
        if len(makers) > 1:
            local = [e for e in makers if e.area == (slots.get("area") or area)]
            makers = local or makers[:1]
        calls = [Action("switch.turn_on", e.entity_id) for e in makers]
        return self.act(makers, calls, "start {}", "Started {}")

    def _set_position(self, slots: dict[str, Any], area: str | None) -> Decision:
        covers = self.targets(slots, area, ["cover"])
        if not covers:
            return self.nothing("blinds or a cover", slots, area)
        pos = round(float(slots["position"]))
        calls = [Action("cover.set_cover_position", e.entity_id, {"position": pos}) for e in covers]
        return self.act(covers, calls, f"set {{}} to {pos}%", f"Set {{}} to {pos}%")

    def _simple(self, domain: str, service: str,
                way: str = "on") -> Callable[[dict[str, Any], str | None], Decision]:
        """One service on the addressed entities; a service with a flag (``volume_mute``'s
        ``is_volume_muted``: mute/unmute) gets the flag's value for ``way`` (the registry's)."""
        found = self.registry.service(f"{domain}.{service}")
        flags = found[1].flags if found else {}
        data = {k: way == pair[0] for k, pair in flags.items() if way in pair}

        def handler(slots: dict[str, Any], area: str | None) -> Decision:
            entities = self.targets(slots, area, [domain])
            if not entities:
                return self.nothing(f"a {domain.replace('_', ' ')}", slots, area)
            calls = [Action(f"{domain}.{service}", e.entity_id, dict(data)) for e in entities]
            do, done = self._phrases(calls, way)
            return self.act(entities, calls, do, done)

        return handler

    def _service(self, slots: dict[str, Any], area: str | None) -> Decision:
        """One service of the home's table on the named entities: the local LLM's commands
        for what no intent covers ("pause the vacuum", "stop the blinds", "toggle ...")."""
        service = str(slots.get("service", ""))
        domain, _, verb = service.partition(".")
        entities = self.targets({k: v for k, v in slots.items() if k not in ("service", "data")},
                                area, [domain])
        if not entities:
            return self.nothing(f"a {domain.replace('_', ' ')}", slots, area)
        data = dict(slots.get("data") or {})  # "make the fan oscillate": oscillating=true
        calls = [Action(service, e.entity_id, dict(data)) for e in entities]
        verb = verb.replace("_", " ").removesuffix(" cover")
        return self.act(entities, calls, f"{verb} {{}}", f"Okay: {verb} {{}}")

    def _fan_speed(self, slots: dict[str, Any], area: str | None) -> Decision:
        fans = self.targets(slots, area, ["fan"])
        if not fans:
            return self.nothing("a fan", slots, area)
        pct = max(0, min(100, round(float(slots.get("fan_speed", slots.get("percentage", 50))))))
        calls = [Action("fan.set_percentage", e.entity_id, {"percentage": pct}) for e in fans]
        return self.act(fans, calls, f"set {{}} to {pct}%", f"Set {{}} to {pct}%")

    def get_state(self, slots: dict[str, Any], area: str | None) -> Decision:
        entities = self.targets(slots, area, [])
        if not entities:
            return self.nothing("that", slots, area)
        parts = []
        for e in entities[:4]:
            st = self.home.get_state(e.entity_id)
            if e.domain == "sensor":
                parts.append(f"The {e.name} is {st.state}{(' ' + e.unit) if e.unit else ''}")
            else:
                parts.append(f"The {e.name} is {self._state_said(e, st.state)}")
        asked = slots.get("state")
        if asked and len(entities) == 1:
            one = entities[0]
            now = self.home.get_state(one.entity_id).state
            yes = "Yes" if now == asked else "No"
            return Decision("local", f"{yes}, the {one.name} is {self._state_said(one, now)}.")
        return Decision("local", ". ".join(parts) + ".")

    def _state_said(self, entity: Entity, state: str) -> str:
        """A state in words: a window sensor's "on" is "open", "armed_away" is "armed away"."""
        said = self.registry.vocab.states_said.get(entity.domain, {}).get(entity.device_class or "", {})
        return said.get(state, state.replace("_", " "))

    def _time(self, slots: dict[str, Any], area: str | None) -> Decision:
        return Decision("local", "It's " + dt.datetime.now().strftime("%H:%M") + ".")

    def _date(self, slots: dict[str, Any], area: str | None) -> Decision:
        return Decision("local", "Today is " + dt.date.today().strftime("%A, %B %d, %Y") + ".")
