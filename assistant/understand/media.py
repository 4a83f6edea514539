"""The media intents: the volume set or stepped, and 'play …' when nothing can search.

Hearth has no music library or search: "play jazz" cannot be done, and saying so is
better than silence. What can be done is to start a player: "play the radio" names the
player, "play some music" in the kitchen asks for whatever the kitchen's player has
(the words that mean "any media" are vocabulary data). Anything else is a clear no.
"""

from __future__ import annotations

from typing import Any

from assistant.understand.acting import Acting
from assistant.understand.result import Action, Decision
from assistant.understand.vocabulary import Vocabulary


def _words(text: str) -> list[str]:
    return "".join(c if c.isalnum() or c == "'" else " " for c in text.lower()).split()


def search_and_play(h: Acting, vocab: Vocabulary, slots: dict[str, Any],
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
        return h.nothing("a speaker", rest, area)
    calls = [Action("media_player.media_play", e.entity_id) for e in players]
    return h.act(players, calls, "play {}", "Playing {}")


def set_volume(h: Acting, slots: dict[str, Any], area: str | None) -> Decision:
    players = h.targets(slots, area, ["media_player"])
    if not players:
        return h.nothing("a speaker", slots, area)
    pct = max(0, min(100, round(float(slots["volume_level"]))))
    calls = [Action("media_player.volume_set", e.entity_id, {"volume_level": pct / 100}) for e in players]
    return h.act(players, calls, f"set the volume of {{}} to {pct}%",
                     f"Set the volume of {{}} to {pct}%")


def set_volume_relative(h: Acting, slots: dict[str, Any], area: str | None) -> Decision:
    players = h.targets(slots, area, ["media_player"])
    if not players:
        return h.nothing("a speaker", slots, area)
    step = slots.get("volume_step", "up")
    if step in ("up", "down"):  # "louder": the player's own step (volume_up / volume_down)
        calls = [Action(f"media_player.volume_{step}", e.entity_id) for e in players]
        return h.act(players, calls, f"turn {{}} {step}", f"Turned {{}} {step}")
    try:
        delta = float(step) / 100  # HA's volume_step: a signed percentage
    except (TypeError, ValueError):
        return Decision("unhandled", "I'm not sure how much to change the volume.",
                        reason=f"volume step {step!r}")
    calls = []
    for e in players:
        cur = float(h.home.get_state(e.entity_id).attributes.get("volume_level", 0.5))
        calls.append(Action("media_player.volume_set", e.entity_id,
                            {"volume_level": round(max(0.0, min(1.0, cur + delta)), 2)}))
    word = "up" if delta > 0 else "down"
    return h.act(players, calls, f"turn {{}} {word}", f"Turned {{}} {word}")
