"""What an intent handler needs of the handlers' table: targets, acting, and "none here".

The handlers for lights, climate and media (:mod:`lights`, :mod:`climate`, :mod:`media`)
are functions of this, so they need not import :class:`~assistant.understand.intents.
IntentHandlers`, which imports them.
"""

from __future__ import annotations

from typing import Any, Protocol

from assistant.home.base import Entity, HomeBackend
from assistant.understand.result import Action, Decision


class Acting(Protocol):
    home: HomeBackend

    def targets(self, slots: dict[str, Any], area: str | None, domains: list[str]) -> list[Entity]:
        """The entities an intent addresses (Home Assistant's rules), of ``domains``."""
        ...

    def nothing(self, what: str, slots: dict[str, Any], area: str | None) -> Decision:
        """'I couldn't find a light in the Kitchen.'"""
        ...

    def act(self, entities: list[Entity], calls: list[Action], do: str, done: str) -> Decision:
        """Act now, or ask first when anything is sensitive."""
        ...

    def turn_on(self, slots: dict[str, Any], area: str | None) -> Decision:
        ...

    def get_state(self, slots: dict[str, Any], area: str | None) -> Decision:
        """The state of what the slots name, told ("The Pool Light is off.")."""
        ...


def describe(entities: list[Entity]) -> str:
    """'the Kitchen Light', 'the Ceiling Light and the Floor Lamp'."""
    names = [f"the {e.name}" for e in entities]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
