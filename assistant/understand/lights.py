"""The light intents: brightness, colour, a step brighter or dimmer, "it's too dark"."""

from __future__ import annotations

from typing import Any

from assistant.home.base import Entity
from assistant.understand.acting import Acting, describe
from assistant.understand.registry import load
from assistant.understand.result import Action, Decision

_WORDS = load().vocab
COLORS: dict[str, tuple[int, int, int]] = _WORDS.colours
"""Colour names -> RGB (vocabulary data)."""
SHIFTS: dict[str, tuple[int, int, int]] = {w: COLORS[c] for w, c in _WORDS.colour_shifts.items()}
"""Relative colour words: "make it redder" moves the colour halfway toward red."""
KELVIN_SHIFTS: dict[str, int] = _WORDS.kelvin_shifts
"""Relative words that move a white light's colour temperature: "warmer" is fewer kelvin."""
KELVIN = load().domains["light"].levels["color_temp_kelvin"]
STEP_SIZES: dict[str, int] = _WORDS.amounts
BRIGHTNESS_STEP = round(load().domains["light"].levels["brightness_pct"].step)


def light_set(h: Acting, slots: dict[str, Any], area: str | None) -> Decision:
    lights = h.targets(slots, area, ["light"])
    if not lights:
        return h.nothing("a light", slots, area)
    if "brightness" in slots:
        pct = max(1, min(100, round(float(slots["brightness"]))))
        dimmable = [e for e in lights if "dimmable" in e.features]
        if not dimmable:
            return Decision("unhandled", f"{describe(lights).capitalize()} can't be dimmed.")
        calls = [Action("light.turn_on", e.entity_id, {"brightness_pct": pct}) for e in dimmable]
        return h.act(dimmable, calls, f"set {{}} to {pct}%", f"Set {{}} to {pct}%")
    if "kelvin" in slots:  # "the reading lamp to 2700 kelvin": a white light's own range
        whites = [e for e in lights if "color_temp" in e.features]
        if not whites:
            return Decision("unhandled", f"{describe(lights).capitalize()} can't change white.")
        calls = []
        for e in whites:
            low, high = KELVIN.limits(h.home.get_state(e.entity_id).attributes)
            kelvin = round(max(low, min(high, float(slots["kelvin"]))))
            calls.append(Action("light.turn_on", e.entity_id, {"color_temp_kelvin": kelvin}))
        said = calls[0].data["color_temp_kelvin"]
        return h.act(whites, calls, f"set {{}} to {said} K", f"Set {{}} to {said} K")
    color = str(slots.get("color", "")).lower()
    if color in COLORS:
        coloured = [e for e in lights if "color" in e.features]
        if not coloured:
            return Decision("unhandled", f"{describe(lights).capitalize()} can't change colour.")
        rgb = list(COLORS[color])
        calls = [Action("light.turn_on", e.entity_id, {"rgb_color": rgb}) for e in coloured]
        return h.act(coloured, calls, f"make {{}} {color}", f"Made {{}} {color}")
    return Decision("unhandled", "I'm not sure how to set that light.", reason="no value")


def light_step(h: Acting, slots: dict[str, Any], area: str | None) -> Decision:
    lights = [e for e in h.targets(slots, area, ["light"]) if "dimmable" in e.features]
    if not lights:
        return h.nothing("a dimmable light", slots, area)
    up = slots.get("step") == "up"
    size = STEP_SIZES.get(str(slots.get("amount", "")), BRIGHTNESS_STEP)
    if not up:  # dimming a light that is off would switch it on at 1 %
        lights = [e for e in lights if h.home.get_state(e.entity_id).state == "on"]
        if not lights:
            return Decision("local", "The lights are already off.", reason="nothing to dim")
    calls = []
    for e in lights:
        state = h.home.get_state(e.entity_id)
        current = int(state.attributes.get("brightness_pct", 100)) if state.state == "on" else 0
        pct = min(100, current + size) if up else max(1, current - size)
        calls.append(Action("light.turn_on", e.entity_id, {"brightness_pct": pct}))
    word = "brighter" if up else "dimmer"
    return h.act(lights, calls, f"make {{}} {word}", f"Made {{}} {word}")


def light_shift(h: Acting, slots: dict[str, Any], area: str | None) -> Decision:
    """Move the colour halfway toward a hue: "make the light in here redder"."""
    word = str(slots.get("shift", "")).lower()
    if word not in SHIFTS:
        return Decision("unhandled", "I'm not sure which colour you mean.", reason="no hue")
    targets = h.targets(slots, area, ["light"])
    whites = [e for e in targets if word in KELVIN_SHIFTS and "color_temp" in e.features]
    lights = [e for e in targets if "color" in e.features and e not in whites]
    if not lights and not whites:
        return h.nothing("a colour light", slots, area)
    goal = SHIFTS[word]
    calls = [_kelvin_step(h, e, KELVIN_SHIFTS[word]) for e in whites]
    for e in lights:
        state = h.home.get_state(e.entity_id)
        cur = list(state.attributes.get("rgb_color", [255, 255, 255]))
        if state.state != "on":
            cur = [255, 255, 255]
        rgb = [round((c + g) / 2) for c, g in zip(cur, goal, strict=True)]
        if rgb == cur:
            rgb = list(goal)
        calls.append(Action("light.turn_on", e.entity_id, {"rgb_color": rgb}))
    return h.act([*whites, *lights], calls, f"make {{}} {word}", f"Made {{}} {word}")


def _kelvin_step(h: Acting, e: Entity, way: int) -> Action:
    """A white light's colour temperature a step warmer (fewer kelvin) or cooler."""
    state = h.home.get_state(e.entity_id)
    now = state.attributes.get(KELVIN.current)
    low, high = KELVIN.limits(state.attributes)
    start = float(now) if isinstance(now, (int, float)) else (low + high) / 2
    kelvin = round(max(low, min(high, start + way * (KELVIN.step or 500))))
    return Action("light.turn_on", e.entity_id, {"color_temp_kelvin": kelvin})


def too_dark(h: Acting, slots: dict[str, Any], area: str | None) -> Decision:
    """"It's dark in here": lights on, or brighter when they already are."""
    lights = h.targets(slots, area, ["light"])
    if not lights:
        return h.nothing("a light", slots, area)
    if all(h.home.get_state(e.entity_id).state != "on" for e in lights):
        return h.turn_on({**slots, "domain": "light"}, area)
    return light_step(h, {**slots, "step": "up"}, area)


def too_bright(h: Acting, slots: dict[str, Any], area: str | None) -> Decision:
    return light_step(h, {**slots, "step": "down"}, area)


def colour_ask(h: Acting, slots: dict[str, Any], area: str | None) -> Decision:
    """"Change the colour of the lights": ask which colour (the answer completes it)."""
    lights = [e for e in h.targets(slots, area, ["light"]) if "color" in e.features]
    if not lights:
        return h.nothing("a colour light", slots, area)
    return Decision("clarify", "Which colour would you like?", expects_reply=True,
                    reason="the colour was left open")
