"""How actions are told back, from the vocabulary's phrases ("Turned on {}", "Set {} to
{value}"): the reply after the last check changed or held back what was proposed."""

from __future__ import annotations

from collections.abc import Mapping

from assistant.understand.registry import Registry
from assistant.understand.result import Action


def describe(actions: tuple[Action, ...], names: Mapping[str, str], registry: Registry, *,
             done: bool) -> str:
    """'Turned on the Kitchen Light and the Hallway Light; set the Thermostat to 18 degrees'
    (``done``) or 'unlock the Front Door' (to ask first). ``names``: entity id -> 'the X'."""
    groups: dict[str, list[str]] = {}
    for a in actions:
        groups.setdefault(phrase(a, registry, done=done), []).append(names.get(a.entity_id, a.entity_id))
    said = []
    for words, targets in groups.items():
        target = targets[0] if len(targets) == 1 else ", ".join(targets[:-1]) + " and " + targets[-1]
        said.append(words.replace("{}", target))
    text = "; ".join(said)
    return text[:1].upper() + text[1:] if done else text


def phrase(action: Action, registry: Registry, *, done: bool) -> str:
    """The words for one action with ``{}`` for its target."""
    vocab = registry.vocab
    found = registry.service(action.service)
    if found is None:
        return f"{'did' if done else 'do'} {action.service} on {{}}"
    domain, service = found
    for key, value in action.data.items():
        level = domain.levels.get(key)
        if level is not None and isinstance(value, (int, float)):
            shown = value * 100 if level.unit == "fraction" else value
            said = vocab.units_said.get(level.unit, "{:g}").format(shown)
            return vocab.phrases["set"][1 if done else 0].replace("{value}", said)
    direction = service.told or next((d for d in service.does if d in vocab.phrases), None)
    for key, (yes, no) in service.flags.items():
        if key in action.data:
            direction = yes if action.data[key] else no
    if direction is None:
        return f"{'did' if done else 'do'} {action.service} on {{}}"
    return vocab.phrases[direction][1 if done else 0]
