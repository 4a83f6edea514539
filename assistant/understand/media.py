"""'Play …' when nothing in the home can search for media.

Hearth has no music library or search: "play jazz" cannot be done, and saying so is
better than silence. What can be done is to start a player: "play the radio" names the
player, "play some music" in the kitchen asks for whatever the kitchen's player has
(the words that mean "any media" are vocabulary data). Anything else is a clear no.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.understand.result import Action, Decision
from assistant.understand.vocabulary import Vocabulary

if TYPE_CHECKING:
    from assistant.understand.intents import IntentHandlers


def _words(text: str) -> list[str]:
    return "".join(c if c.isalnum() or c == "'" else " " for c in text.lower()).split()


def search_and_play(h: IntentHandlers, vocab: Vocabulary, slots: dict[str, Any],
                    area: str | None) -> Decision:
    """HassMediaSearchAndPlay: start the player named or addressed, or say what cannot be."""
    query = str(slots.get("search_query") or "")
    said = [w for w in _words(query) if w not in vocab.plain_words]
    rest = {k: v for k, v in slots.items() if k != "search_query"}
    if said and not rest.get("name"):
        named = [e for e in h.home.entities() if e.domain == "media_player" and any(
            set(said) <= {w for w in _words(n)} for n in e.names)]
        if named:  # "play the radio": the Radio
            rest["name"] = [e.entity_id for e in named]
            said = []
    if not set(said) <= vocab.any_media:
        return Decision("unhandled", f"Sorry, I can't search for {query.strip() or 'that'}: I can "
                        "only play, pause or skip what a player already has.",
                        reason="no media search in this home")
    players = h.targets(rest, area, ["media_player"])
    if not players:
        return h._nothing("a speaker", rest, area)
    calls = [Action("media_player.media_play", e.entity_id) for e in players]
    return h._act(players, calls, "play {}", "Playing {}")
