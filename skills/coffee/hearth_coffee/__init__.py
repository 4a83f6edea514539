"""Coffee orders: "make coffee", "can I get a 16 ounce double shot dark roast latte with a little bit of
skim milk and brown sugar" -> the coffee maker starts, and the order is understood.

Validated on 100 real recorded orders from Picovoice's speech-to-intent benchmark
(bench/bench_coffee.py). The machine in the demo home is an on/off smart plug, so
the order itself lives in the reply and the slots; a richer machine would take it as
service data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from assistant.skills import Action, Intent, Permissions, Response, Skill, SkillContext, hookimpl

HERE = Path(__file__).parent
SENTENCES = HERE / "sentences" / "en.yaml"


def spoken_values(sentences: Path, lists: tuple[str, ...]) -> tuple[str, ...]:
    """How each value of these slot lists is first said ("(light|blonde)( |-)roast" is "light
    roast"): the words Whisper should expect, taken from the grammar so the two never drift."""
    from hassil import Intents
    from hassil.intents import TextSlotList
    from hassil.sample import sample_expression

    intents = Intents.from_dict(yaml.safe_load(sentences.read_text(encoding="utf-8")))
    words: list[str] = []
    for name in lists:
        slot_list = intents.slot_lists[name]
        assert isinstance(slot_list, TextSlotList), name
        words += [next(iter(sample_expression(v.text_in, skip_optionals=True))) for v in slot_list.values]
    return tuple(dict.fromkeys(words))


class CoffeeSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    maker: str = "switch.coffee_maker"
    """The entity that brews: an on/off switch (the machine's smart plug)."""
    ready_after_s: float = Field(0.0, ge=0.0, le=3600.0)
    """Say "your latte is ready" this long after ordering; 0 = don't."""


skill: Skill[CoffeeSettings] = Skill(
    "coffee",
    "Orders a coffee from the coffee maker: drink, size, roast, shots, milk and sugar.",
    sentences=[SENTENCES],
    permissions=Permissions(domains=("switch",)),
    settings=CoffeeSettings,
    stt_words=spoken_values(SENTENCES, ("coffee_drink", "coffee_size", "coffee_roast", "coffee_shots",
                                        "coffee_milk_kind", "coffee_sugar_kind")),
)

SHOTS = {1: "single-shot", 2: "double-shot", 3: "triple-shot"}


@dataclass(frozen=True)
class Order:
    drink: str
    size: str | None = None
    roast: str | None = None
    shots: int | None = None
    milk: str | None = None
    sugar: str | None = None

    @classmethod
    def from_slots(cls, slots: Mapping[str, Any]) -> Order:
        def extra(kind: str) -> str | None:
            what = slots.get(kind)
            if what is None:
                return None
            amount = slots.get(f"{kind}_amount")
            return f"{amount} {what}" if amount else str(what)

        shots = slots.get("shots")
        return cls(drink=str(slots.get("drink", "coffee")), size=_opt(slots.get("size")),
                   roast=_opt(slots.get("roast")), shots=int(shots) if shots is not None else None,
                   milk=extra("milk"), sugar=extra("sugar"))

    def slots(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    def describe(self) -> str:
        words = [self.size, SHOTS.get(self.shots or 0), f"{self.roast} roast" if self.roast else None,
                 self.drink]
        text = " ".join(w for w in words if w)
        extras = [e for e in (self.milk, self.sugar) if e]
        return text + (" with " + " and ".join(extras) if extras else "")


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _brew(order: Order, ctx: SkillContext[CoffeeSettings]) -> Response:
    maker = ctx.settings.maker
    try:
        ctx.home.entity(maker)
    except Exception:  # the home has no such machine
        return Response(f"I can't find the coffee maker ({maker}) in this home.")
    ctx.path("last_order.json").write_text(json.dumps(order.slots()), encoding="utf-8")
    if ctx.settings.ready_after_s > 0:
        ctx.timers.start(ctx.settings.ready_after_s, message=f"Your {order.drink} is ready.")
    article = "An" if order.describe()[0] in "aeiou8" else "A"
    return Response(f"{article} {order.describe()}, coming up.",
                    actions=(Action("switch.turn_on", maker),), slots=order.slots())


@skill.intent("HearthBrew", examples=[
    "make coffee",
    "can I get a large latte with oat milk",
    "make me a 12 ounce double shot dark roast americano",
    "I'd like a small cappuccino with a little bit of sugar",
])
def order(intent: Intent, ctx: SkillContext[CoffeeSettings]) -> Response:
    """Brew a drink the way it was asked for."""
    slots = dict(intent.slots)
    slots.pop("area", None)
    if "drink" not in slots:  # Hearth's plain "make coffee" / "can I have a latte" sentences
        slots["drink"] = drink_in(intent.text)
    return _brew(Order.from_slots(slots), ctx)


DRINKS = ("iced coffee", "iced mocha", "iced latte", "drip coffee", "house coffee", "flat white",
          "americano", "cappuccino", "espresso", "latte", "mocha", "macchiato", "cortado")


def drink_in(text: str) -> str:
    """The drink a plain order names ("can I have a latte"); "coffee" when none is named."""
    lowered = " " + " ".join(text.lower().replace("-", " ").split()) + " "
    return next((d for d in DRINKS if f" {d} " in lowered or f" {d}." in lowered
                 or f" {d}?" in lowered or f" {d}," in lowered), "coffee")


@skill.intent("CoffeeRepeat", examples=["make me the usual", "same coffee as last time"])
def repeat(intent: Intent, ctx: SkillContext[CoffeeSettings]) -> Response:
    """Brew the last order again."""
    last = ctx.path("last_order.json")
    if not last.exists():
        return Response("I don't know your usual yet. What would you like?")
    return _brew(Order.from_slots(json.loads(last.read_text(encoding="utf-8"))), ctx)


@hookimpl
def register_skills(register: Any) -> None:
    register(skill)
