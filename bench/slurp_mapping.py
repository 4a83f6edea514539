"""From SLURP's labels (intent + entities) to what the demo home should do.

SLURP labels say what a person wanted ("iot_hue_lightdim", house_place "kitchen");
this module turns that into the demo home's expected outcome, so a benchmark can
judge Hearth's actions. The rules are generic — written from the label definitions
and devel.jsonl, never from test.jsonl — and they read the home (areas, entities,
features, the listening device's area), so they follow the home's definition.

An expectation is one of:

* ``act``: one of ``options`` (sets of :class:`Want`) is the right thing to do now;
  with ``clarify_ok`` a short question is also right (the request leaves a value open,
  e.g. "change the light colour" without a colour);
* ``clarify``: the request is ambiguous *in this home* (two smart plugs, no name):
  the right thing is to ask which;
* ``none``: nothing should happen now — the request is scheduled for later ("at 7 am"),
  names a place or device this home does not have, or is not a home command.

Initial state the predicates assume (the benchmark seeds it): every light on at 50 %
brightness and white, plugs off, the vacuum docked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from assistant.home.base import Entity, HomeBackend

SEED_BRIGHTNESS = 50
SEED_RGB = (255, 255, 255)

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255), "yellow": (255, 255, 0),
    "orange": (255, 165, 0), "purple": (128, 0, 128), "pink": (255, 105, 180),
    "white": (255, 255, 255), "turquoise": (64, 224, 208), "violet": (238, 130, 238),
}
"""Colours a SLURP ``color_type`` can name exactly; other values (random, good sleep,
light, dark) leave the colour open."""

PLACE_WORDS: dict[str, str] = {
    "living room": "living_room", "lounge": "living_room", "sitting room": "living_room",
    "front room": "living_room", "family room": "living_room",
    "kitchen": "kitchen",
    "bedroom": "bedroom", "bed room": "bedroom", "master bedroom": "bedroom",
    "office": "office", "study": "office",
    "bathroom": "bathroom", "bath room": "bathroom", "washroom": "bathroom",
    "hall": "hallway", "hallway": "hallway", "corridor": "hallway",
    "garage": "garage",
}
"""House places of SLURP -> demo-home area ids."""
WHOLE_HOME = {"house", "home", "flat", "apartment", "interior", "everywhere", "whole house",
              "all rooms", "every room", "house cleaning", "entire house"}
HERE = {"room", "this room", "my room", "here", "in here"}

ELSEWHERE = re.compile(r"\b(closet|outdoor|outdoors|outside|garden|porch|patio|yard|backyard|"
                       r"basement|attic|balcony|terrace|dining room|nursery|shed|driveway|"
                       r"staircase|stairs|drawing hall|drawing room|guest room|disco)\b")
"""Places and fittings a request may name (tagged or not) that the demo home has none of."""
SCHEDULE_TYPES = {"time", "date", "general_frequency", "timeofday"}

GENERIC_PLUG = re.compile(r"\b(wemo|plug|socket|outlet|smart switch)\b")
STOP_WORDS = re.compile(r"\b(stop|off|pause|halt|end|finish)\b")
QUESTION = re.compile(r"^(how|what|when|why|which|who|is|are|does|do|did|was|were)\b")


@dataclass(frozen=True)
class Want:
    """One expected service call. ``check`` says what its data must be:
    ``any``, ``brighter``, ``dimmer``, ``pct:N``, ``rgb:R,G,B`` or ``rgb_changed``."""

    service: str
    entity_id: str
    check: str = "any"


@dataclass(frozen=True)
class Expected:
    kind: Literal["act", "clarify", "none"]
    options: tuple[frozenset[Want], ...] = ()
    clarify_ok: bool = False
    note: str = ""


@dataclass
class Utterance:
    text: str
    intent: str
    """Normalised ``scenario_action`` (36 rows of SLURP lack the scenario prefix)."""
    scenario: str
    entities: list[tuple[str, str]] = field(default_factory=list)
    """(type, surface text) pairs."""
    slurp_id: int = 0


def normalise_intent(row: Mapping[str, Any]) -> str:
    intent = str(row["intent"])
    scenario = str(row.get("scenario", ""))
    if scenario and not intent.startswith(scenario + "_"):
        return f"{scenario}_{row.get('action', intent)}"
    return intent


def parse_row(row: Mapping[str, Any]) -> Utterance:
    tokens = [t["surface"] for t in row.get("tokens", [])]
    ents = [(e["type"], " ".join(tokens[i] for i in e["span"])) for e in row.get("entities", [])]
    return Utterance(text=str(row["sentence"]), intent=normalise_intent(row),
                     scenario=str(row.get("scenario", "")), entities=ents,
                     slurp_id=int(row.get("slurp_id", 0)))


class Mapper:
    """Expected outcomes for SLURP iot utterances in one home."""

    def __init__(self, home: HomeBackend, device_area: str) -> None:
        self.home = home
        self.device_area = device_area
        self.entities = home.entities()

    # --- targets ---------------------------------------------------------------

    def lights(self, area: str | None, feature: str | None = None) -> list[Entity]:
        return [e for e in self.entities if e.domain == "light"
                and (area is None or e.area == area)
                and (feature is None or feature in e.features)]

    def place(self, utt: Utterance) -> tuple[str, str | None]:
        """('area', id) / ('home', None) / ('here', device area) / ('unknown', text)."""
        places = [v.lower() for t, v in utt.entities if t == "house_place"]
        for text in places:
            if text in PLACE_WORDS:
                return "area", PLACE_WORDS[text]
            if text in WHOLE_HOME or any(w in text.split() for w in ("house", "home", "flat")):
                return "home", None
            if text in HERE:
                return "here", self.device_area
            return "unknown", text
        lowered = utt.text.lower()
        if re.search(r"\b(all|every|whole|entire)\b.*\b(house|home|flat|apartment)\b", lowered) or \
                re.search(r"\ball (the |my )?lights\b|\bevery light\b", lowered):
            return "home", None
        return "here", self.device_area

    def named_device(self, utt: Utterance) -> list[Entity] | None:
        """Entities a ``device_type`` names by name or alias (None: no device named)."""
        devices = [v.lower() for t, v in utt.entities if t == "device_type"]
        if not devices:
            return None
        found: list[Entity] = []
        for text in devices:
            text = text.replace(" 's", "'s")
            for e in self.entities:
                if any(_contains(text, n.lower()) or _contains(n.lower(), text)
                       for n in e.names if len(n) > 2):
                    found.append(e)
        return found

    # --- expectations ----------------------------------------------------------

    def expected(self, utt: Utterance) -> Expected:
        if utt.scenario != "iot":
            return Expected("none", note="not a home command")
        if any(t in SCHEDULE_TYPES for t, _ in utt.entities):
            return Expected("none", note="scheduled for later: nothing should happen now")
        action = utt.intent.removeprefix("iot_")
        if action.startswith("hue_"):
            return self._lights(utt, action.removeprefix("hue_"))
        if action in ("wemo_on", "wemo_off"):
            return self._plug(utt, on=action == "wemo_on")
        if action == "coffee":
            return self._coffee(utt)
        if action == "cleaning":
            return self._cleaning(utt)
        return Expected("none", note=f"no mapping for {utt.intent}")

    def _light_targets(self, utt: Utterance, feature: str | None) -> tuple[list[Entity], str]:
        named = self.named_device(utt)
        if named:
            lights = [e for e in named if e.domain == "light"
                      and (feature is None or feature in e.features)]
            if lights:
                return lights, "named"
        kind, where = self.place(utt)
        if kind == "unknown":
            return [], f"no place called {where!r} in this home"
        other = ELSEWHERE.search(utt.text.lower())
        if other and kind != "area":
            return [], f"no {other.group(1)} light in this home"
        if named is not None and not named and not _generic_light(utt):
            return [], "names a light this home does not have"
        return self.lights(where if kind != "home" else None, feature), kind

    def _lights(self, utt: Utterance, what: str) -> Expected:
        if what in ("lightoff", "lighton"):
            targets, why = self._light_targets(utt, None)
            service = "light.turn_off" if what == "lightoff" else "light.turn_on"
            return self._expect(targets, service, "any", why)
        if what in ("lightup", "lightdim"):
            targets, why = self._light_targets(utt, "dimmable")
            check = "brighter" if what == "lightup" else "dimmer"
            amount = _percent(utt)
            if amount is not None:
                check = f"pct:{amount}"
            return self._expect(targets, "light.turn_on", check, why)
        if what == "lightchange":
            targets, why = self._light_targets(utt, "color")
            colours = [v.lower() for t, v in utt.entities if t == "color_type"]
            named = [c for c in colours if c in COLOURS]
            if named:
                rgb = ",".join(str(v) for v in COLOURS[named[-1]])  # "from blue to white": the last
                return self._expect(targets, "light.turn_on", f"rgb:{rgb}", why)
            exp = self._expect(targets, "light.turn_on", "rgb_changed", why)
            return Expected(exp.kind, exp.options, clarify_ok=True,
                            note="colour left open: any new colour, or a question")
        return Expected("none", note=f"no mapping for hue_{what}")

    def _expect(self, targets: list[Entity], service: str, check: str, why: str) -> Expected:
        if not targets:
            return Expected("none", note=why or "no such light here")
        return Expected("act", (frozenset(Want(service, e.entity_id, check) for e in targets),),
                        note=why)

    def _plug(self, utt: Utterance, *, on: bool) -> Expected:
        named = self.named_device(utt) or []
        named = [e for e in named if e.domain in ("switch", "fan", "light", "media_player")]
        devices = " ".join(v.lower() for t, v in utt.entities if t == "device_type")
        if named:
            service = "turn_on" if on else "turn_off"
            return Expected("act", (frozenset(Want(f"{e.domain}.{service}", e.entity_id)
                                              for e in named),), note="named device")
        plugs = [e for e in self.entities if e.domain == "switch"]
        if GENERIC_PLUG.search(devices) or not devices:
            if len(plugs) == 1:
                service = "switch.turn_on" if on else "switch.turn_off"
                return Expected("act", (frozenset({Want(service, plugs[0].entity_id)}),))
            return Expected("clarify", note=f"{len(plugs)} smart plugs here: ask which")
        return Expected("none", note=f"no device {devices!r} in this home")

    def _coffee(self, utt: Utterance) -> Expected:
        makers = [e for e in self.entities if e.domain == "switch"
                  and any("coffee" in n.lower() for n in e.names)]
        if not makers:
            return Expected("none", note="no coffee maker here")
        if QUESTION.search(utt.text.lower()):
            return Expected("none", note="a question about coffee, not a request")
        off = bool(STOP_WORDS.search(utt.text.lower()))
        service = "switch.turn_off" if off else "switch.turn_on"
        return Expected("act", (frozenset(Want(service, e.entity_id) for e in makers),))

    def _cleaning(self, utt: Utterance) -> Expected:
        vacuums = [e for e in self.entities if e.domain == "vacuum"]
        if not vacuums:
            return Expected("none", note="no vacuum here")
        if QUESTION.search(utt.text.lower()) and "start" not in utt.text.lower():
            return Expected("none", note="a question about cleaning, not a request")
        if STOP_WORDS.search(utt.text.lower()):
            return Expected("act", tuple(frozenset(Want(s, e.entity_id) for e in vacuums)
                                         for s in ("vacuum.stop", "vacuum.return_to_base",
                                                   "vacuum.pause")))
        return Expected("act", (frozenset(Want("vacuum.start", e.entity_id) for e in vacuums),))


def _contains(hay: str, needle: str) -> bool:
    return re.search(rf"\b{re.escape(needle)}\b", hay) is not None


def _generic_light(utt: Utterance) -> bool:
    devices = " ".join(v.lower() for t, v in utt.entities if t == "device_type")
    return bool(re.search(r"\b(light|lights|lamp|lamps|lighting|bulb|bulbs)\b", devices)) and \
        not re.search(r"\b(desk|bedside|disco|closet|outdoor|porch|garden|night)\b", devices)


_NUMBERS = {"ten": 10, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
            "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "one hundred": 100}


def _percent(utt: Utterance) -> int | None:
    """An exact brightness ("to forty percent", "to 40%") in a change_amount, if any."""
    for t, v in utt.entities:
        if t != "change_amount":
            continue
        m = re.search(r"(\d+)\s*(%|percent)", v) or re.search(
            r"\b(" + "|".join(_NUMBERS) + r")\s*(percent|%)", v)
        if m:
            raw = m.group(1)
            return int(raw) if raw.isdigit() else _NUMBERS[raw]
    return None


# --- judging -------------------------------------------------------------------

Outcome = Literal["correct", "clarified_ok", "wrong", "clarified", "escalated", "no_action"]


def judge(expected: Expected, actions: Iterable[Mapping[str, Any]], *, asked: bool,
          escalated: bool, state: Mapping[str, Mapping[str, Any]]) -> Outcome:
    """Compare what Hearth decided (actions incl. pending ones) with what was expected.

    ``state`` maps entity ids to their attributes before the turn (for dimmer/brighter).
    """
    acts = list(actions)
    if acts:
        if expected.kind != "act":
            return "wrong"
        got = {(a["service"], a["entity_id"]): dict(a.get("data") or {}) for a in acts}
        for option in expected.options:
            if {(w.service, w.entity_id) for w in option} == set(got) and all(
                    _check(w.check, got[(w.service, w.entity_id)], state.get(w.entity_id, {}))
                    for w in option):
                return "correct"
        return "wrong"
    if asked:
        if expected.kind == "clarify" or (expected.kind == "act" and expected.clarify_ok):
            return "clarified_ok"
        return "clarified"
    if expected.kind == "none":
        return "correct"
    return "escalated" if escalated else "no_action"


def _check(check: str, data: Mapping[str, Any], before: Mapping[str, Any]) -> bool:
    if check == "any":
        return True
    old = float(before.get("brightness_pct", SEED_BRIGHTNESS))
    if check == "brighter":
        return float(data.get("brightness_pct", -1)) > old
    if check == "dimmer":
        return 0 < float(data.get("brightness_pct", 101)) < old
    if check.startswith("pct:"):
        return abs(float(data.get("brightness_pct", -1)) - float(check[4:])) <= 1
    if check.startswith("rgb:"):
        want = [int(v) for v in check[4:].split(",")]
        return list(data.get("rgb_color", [])) == want
    if check == "rgb_changed":
        rgb = data.get("rgb_color")
        return rgb is not None and tuple(rgb) != tuple(before.get("rgb_color", SEED_RGB))
    raise ValueError(f"unknown check {check!r}")
