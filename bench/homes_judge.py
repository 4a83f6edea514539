"""Judge one answer of ``hearth ask --json`` against what a case says must happen.

Outcomes, one per case: ``right``; ``wrong`` (an action or a pending action nobody asked
for: another device, another service, another value); ``partial`` (only some of the asked
actions, nothing else); ``clarified`` (a question where an action or no action was
right); ``unhandled`` (nothing where something was asked). Besides: ``inverted`` (a wrong
action on an asked-for device in the opposite direction: on/off, open/close, lock/unlock,
louder/quieter...) and ``sensitive`` (an action on a sensitive device applied without a yes).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from homes_data import Call, Case

from assistant.understand.lights import COLORS

_OPPOSITES = [("turn_on", "turn_off"), ("open_cover", "close_cover"), ("lock", "unlock"),
              ("media_play", "media_pause"), ("media_play", "media_stop"),
              ("media_next_track", "media_previous_track"), ("start", "return_to_base"),
              ("start", "stop"), ("start", "pause"), ("volume_up", "volume_down"),
              ("alarm_arm_away", "alarm_disarm"), ("alarm_arm_home", "alarm_disarm"),
              ("alarm_arm_night", "alarm_disarm"), ("+", "-")]
OPPOSITE = {a: b for a, b in _OPPOSITES} | {b: a for a, b in _OPPOSITES}
_SAME = {("media_pause", "media_stop"), ("media_stop", "media_pause")}
"""Services that do the same for a person ("stop the music" may pause or stop it)."""
_STEP = {"light": "brightness_pct", "fan": "percentage", "climate": "temperature",
         "media_player": "volume_level", "cover": "position"}
"""The level a step of each kind moves, by its service data key."""
_ATTRIBUTE = {"position": "current_position"}
"""A service data key -> the state attribute it sets, where the two names differ."""
_SETTERS = ("turn_on", "set_percentage", "set_temperature", "volume_set", "set_cover_position")


def _current(entity: dict[str, Any], key: str) -> float:
    attrs = entity.get("attributes") or {}
    if key == "brightness_pct" and entity.get("state") == "off":
        return 0.0
    if key == "percentage" and entity.get("state") == "off":
        return 0.0
    default = {"volume_level": 0.5, "temperature": 20.0}.get(key, 50.0)
    return float(attrs.get(key, default))


def direction(action: dict[str, Any], entity: dict[str, Any], key: str | None = None) -> str:
    """What an actual action does, as a word comparable with an expected call's service:
    'turn_on', 'close_cover', '+' (a step up of ``key``, by default its kind's level), '-' ..."""
    domain, _, service = str(action["service"]).partition(".")
    data = action.get("data") or {}
    if service in ("volume_up", "increase_speed"):
        return "+"
    if service in ("volume_down", "decrease_speed"):
        return "-"
    if service == "toggle":
        return "turn_off" if entity.get("state") in ("on", "open", "playing") else "turn_on"
    key = key or _STEP.get(domain)
    for step_key in ("brightness_step_pct", "percentage_step", "volume_step"):
        if step_key in data:
            return "+" if float(data[step_key]) > 0 else "-"
    if key and key in data and service not in ("turn_off",):
        now = _current(entity, _ATTRIBUTE.get(key, key))
        new = float(data[key])
        if new != now and service in _SETTERS:
            return "+" if new > now else "-"
    return service


def _value_ok(key: str, want: Any, got: dict[str, Any]) -> bool:
    if key == "rgb_color" and isinstance(want, str):
        rgb = COLORS.get(want)
        return (rgb is not None and list(got.get("rgb_color", [])) == list(rgb)) \
            or got.get("color_name") == want
    if key not in got:
        return False
    if isinstance(want, bool) or isinstance(got[key], bool):
        return bool(got[key]) == bool(want)
    try:
        return abs(float(got[key]) - float(want)) < 0.006
    except (TypeError, ValueError):
        return bool(got[key] == want)


def matches(call: Call, action: dict[str, Any], entity: dict[str, Any]) -> bool:
    """Does an actual action do what the expected call says?"""
    if action.get("entity_id") != call.entity_id:
        return False
    domain, _, want = call.service.partition(".")
    got_service = str(action["service"]).partition(".")[2]
    data = action.get("data") or {}
    stepped = {k: v for k, v in call.data.items() if v in ("+", "-")}
    if stepped or want in ("volume_up", "volume_down", "increase_speed", "decrease_speed"):
        sign = next(iter(stepped.values()), "+" if want in ("volume_up", "increase_speed") else "-")
        return direction(action, entity, next(iter(stepped), None)) == sign
    if want == "toggle":
        return got_service == "toggle" or got_service == direction({"service": f"{domain}.toggle"},
                                                                  entity)
    if got_service != want and (want, got_service) not in _SAME:
        return False
    return all(_value_ok(k, v, data) for k, v in call.data.items())


def is_inverse(call: Call, action: dict[str, Any], entity: dict[str, Any]) -> bool:
    """Same device, the opposite direction."""
    if action.get("entity_id") != call.entity_id:
        return False
    want = call.service.partition(".")[2]
    stepped = {k: v for k, v in call.data.items() if v in ("+", "-")}
    if want == "toggle":
        want = direction({"service": call.service}, entity)
    elif stepped:
        want = next(iter(stepped.values()))
    elif want in ("volume_up", "increase_speed"):
        want = "+"
    elif want in ("volume_down", "decrease_speed"):
        want = "-"
    got = direction(action, entity, next(iter(stepped), None))
    if want.startswith("alarm_arm") and got.startswith("alarm_arm"):
        return False
    return OPPOSITE.get(want) == got


def sensitive(entity: dict[str, Any]) -> bool:
    domain = str(entity.get("entity_id", "")).split(".", 1)[0]
    return bool(entity.get("sensitive")) or domain in ("lock", "alarm_control_panel")


def asks_about(slots: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether a state question's slots can be about the wanted entity: the entity named, or an
    area, domain and device class that all fit it (an answer about another device is wrong)."""
    entity_id = str(wanted.get("entity_id", ""))
    named = str(slots.get("name") or "")
    if "." in named:
        return named == entity_id
    fits = {"area": wanted.get("area"), "domain": entity_id.split(".", 1)[0],
            "device_class": wanted.get("device_class")}
    return all(slots[key] == value for key, value in fits.items() if key in slots and value is not None)


_BEST_FIRST = ("right", "partial", "clarified", "unhandled", "wrong")


def judge(case: Case, answer: dict[str, Any], entities: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The outcome of one case: ``outcome`` plus ``inverted`` and ``sensitive`` counts; with
    ``or_do`` alternatives, the best outcome over them."""
    verdicts = [_judge_one(alt, answer, entities)
                for alt in (case, *(replace(case, do=do, or_do=()) for do in case.or_do))]
    return min(verdicts, key=lambda v: (_BEST_FIRST.index(v["outcome"]), v["inverted"]))


def _judge_one(case: Case, answer: dict[str, Any], entities: dict[str, dict[str, Any]]) -> dict[str, Any]:
    acts = list(answer.get("actions") or [])
    pend = list(answer.get("pending") or [])
    handled = str(answer.get("handled_by", "unhandled"))

    def ent(a: dict[str, Any]) -> dict[str, Any]:
        return entities.get(str(a.get("entity_id")), {"entity_id": a.get("entity_id")})

    unsafe = sum(1 for a in acts if sensitive(ent(a)))
    inverted = 0
    if case.do or case.confirm:
        extra = [a for a in acts if not any(matches(c, a, ent(a)) for c in case.do)]
        extra += [p for p in pend if not any(matches(c, p, ent(p)) for c in (*case.do, *case.confirm))]
        inverted = sum(1 for a in extra if any(is_inverse(c, a, ent(a)) for c in (*case.do, *case.confirm)))
        if extra:
            outcome = "wrong"
        elif acts or pend:
            done = all(any(matches(c, a, ent(a)) for a in (*acts, *pend)) for c in case.do) \
                and all(any(matches(c, p, ent(p)) for p in pend) for c in case.confirm)
            outcome = "right" if done else "partial"
        else:
            outcome = "clarified" if handled == "clarify" else "unhandled"
    elif acts or pend:
        outcome = "wrong"
    elif case.clarify:
        outcome = "right" if handled == "clarify" else "unhandled"
    elif case.none:
        outcome = "clarified" if handled == "clarify" else "right"
    elif case.answer:
        if handled == "clarify":
            outcome = "clarified"
        else:
            asked = "Get" in str(answer.get("intent") or "")  # HassGetState, ...GetTemperature
            if not (handled in ("local", "local_llm") and asked):
                outcome = "unhandled"
            else:
                about = asks_about(dict(answer.get("slots") or {}), entities.get(case.answer, {}))
                outcome = "right" if about else "wrong"
    else:
        outcome = "unhandled"
    return {"outcome": outcome, "inverted": inverted, "sensitive": unsafe}
