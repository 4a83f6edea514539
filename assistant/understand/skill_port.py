"""What understanding needs from the skills: their sentences and their decisions.

A Protocol, so that ``understand`` does not import ``skills`` (which builds on
``understand``'s results); :class:`assistant.skills.registry.SkillRegistry` fits it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from assistant.understand.result import Decision
    from assistant.understand.templates import TemplateMatch


class SkillRouting(Protocol):
    def sentences(self) -> list[dict[str, Any]]:
        """Every loaded skill's hassil sentences, added to the templates."""

    def owns(self, intent: str) -> bool:
        """A skill handles this intent."""

    def decide(self, text: str, match: TemplateMatch, area: str | None) -> Decision:
        """The owning skill's decision for a template match."""

    def interrupt(self, text: str, match: TemplateMatch | None) -> Decision | None:
        """An answer that comes before anything else (a ringing timer's "stop")."""
