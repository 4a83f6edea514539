"""Shopping and to-do lists: add, check off, read out, clear. Kept in SQLite in the
skill's data folder, so they survive restarts and never leave the device."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from assistant.skills import Intent, Permissions, Skill, SkillContext, hookimpl
from hearth_lists.store import ListStore

HERE = Path(__file__).parent
LISTS = ("shopping", "to-do")

skill: Skill[Any] = Skill(
    "lists",
    "Keeps a shopping list and a to-do list.",
    sentences=[HERE / "sentences" / "en.yaml"],
    permissions=Permissions(),
)

_stores: dict[Path, ListStore] = {}


def store(ctx: SkillContext[Any]) -> ListStore:
    path = ctx.path("lists.sqlite")
    if path not in _stores:
        _stores[path] = ListStore(path)
    return _stores[path]


@skill.on_stop
def close(ctx: SkillContext[Any]) -> None:
    path = ctx.data_dir / "lists.sqlite"
    if path in _stores:
        _stores.pop(path).close()


def items_of(text: object) -> list[str]:
    """"some milk, eggs and a loaf of bread" -> ["milk", "eggs", "a loaf of bread"]."""
    parts = re.split(r",|\band\b|&", str(text or "").lower())
    out = []
    for part in parts:
        words = part.strip(" .?!").split()
        while words and words[0] in ("some", "a", "an", "the", "more"):
            words = words[1:]
        if words:
            out.append(" ".join(words))
    return list(dict.fromkeys(out))


def join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def list_of(intent: Intent, default: str = "shopping") -> str:
    name = str(intent.get("list") or default)
    return name if name in LISTS else default


@skill.intent("HassShoppingListAddItem", examples=["add milk to my shopping list"])
@skill.intent("HassListAddItem", examples=["add call the plumber to my to do list", "we're out of eggs"])
def add(intent: Intent, ctx: SkillContext[Any]) -> str:
    """Add items to a list."""
    name = list_of(intent)
    things = items_of(intent.get("item"))
    if not things:
        return f"What should I add to your {name} list?"
    new = [t for t in things if store(ctx).add(name, t)]
    old = [t for t in things if t not in new]
    parts = []
    if new:
        parts.append(f"Added {join(new)} to your {name} list.")
    if old:
        parts.append(f"{join(old).capitalize()} {'is' if len(old) == 1 else 'are'} already on it.")
    return " ".join(parts)


@skill.intent("HassShoppingListCompleteItem", examples=["check milk off my shopping list"])
@skill.intent("HassListCompleteItem", examples=["remove the plumber from my to do list"])
def complete(intent: Intent, ctx: SkillContext[Any]) -> str:
    """Check items off a list."""
    name = list_of(intent)
    things = items_of(intent.get("item"))
    done = [t for t in things if store(ctx).remove(name, t)]
    missing = [t for t in things if t not in done]
    parts = []
    if done:
        parts.append(f"Checked {join(done)} off your {name} list.")
    if missing:
        parts.append(f"{join(missing).capitalize()} {'is' if len(missing) == 1 else 'are'}n't on your "
                     f"{name} list.")
    return " ".join(parts) or "Which item?"


@skill.intent("HearthListRead", examples=["what's on my shopping list", "read my to do list"])
def read(intent: Intent, ctx: SkillContext[Any]) -> str:
    """Read a list out (both, when none is named)."""
    names = [list_of(intent)] if intent.get("list") else list(LISTS)
    parts = []
    for name in names:
        things = store(ctx).items(name)
        if things:
            parts.append(f"Your {name} list has {len(things)} item{'s' if len(things) != 1 else ''}: "
                         f"{join(things)}.")
        else:
            parts.append(f"Your {name} list is empty.")
    return " ".join(parts)


@skill.intent("HearthListClear", examples=["clear my shopping list"])
def clear(intent: Intent, ctx: SkillContext[Any]) -> str:
    """Empty a list."""
    name = list_of(intent)
    n = store(ctx).clear(name)
    if not n:
        return f"Your {name} list was empty."
    return f"Cleared your {name} list ({n} item{'s' if n != 1 else ''})."


@hookimpl
def register_skills(register: Any) -> None:
    register(skill)
