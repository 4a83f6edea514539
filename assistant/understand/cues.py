"""Which way a request goes, from its own words: the command phrases its words rule out,
whether it is said as a request, and whether the words name both the action and the device.

A 135M model weighs "turn on" and "turn off" almost alike, so when the words are explicit,
the choice is not left to it. The words are data (``data/<language>/words.yaml``: cues).
"""

from __future__ import annotations

from itertools import pairwise

from assistant.understand.lexicon import COLOURISH, CUES, VOCABULARY, WHERE, words
from assistant.understand.menu import Command
from assistant.understand.retrieval import Retrieval

_P = VOCABULARY.patterns
_OPPOSITE = VOCABULARY.opposites
"""The action each action rules out when only its words are said."""


def prune_by_cues(text: str, commands: list[Command], found: Retrieval) -> list[Command]:
    """Drop the commands the request's own words rule out: "turn the lamp off" keeps no
    "on"; "dim the lights" keeps neither "brighter" nor "off"; a colour keeps colours.
    Returns the commands unchanged when the words say nothing either way."""
    toks = words(WHERE.sub(" ", text.lower()))
    said = set(toks)
    if "down" in said and said & {"shut", "power"}:
        said.add("off")  # "shut down", "power the lights down": off, not dimmer
    # "pause the vacuum": after "the" it is the device, not the verb "vacuum"
    said -= {b for a, b in pairwise(toks) if b in ("vacuum", "hoover")
             and a in ("the", "my", "our", "a", "robot", "robotic")}
    kept = list(commands)
    if found.colour is not None:
        colour = [c for c in kept if c.action.startswith("colour:")]
        if colour:
            return colour
    if COLOURISH.search(found.text.lower()) and not said & (CUES["on"] | CUES["off"]):
        colour = [c for c in kept if c.action == "colour"]  # "a different colour": which one?
        if colour:
            return colour
    if found.percent is not None:
        exact = [c for c in kept if c.action.startswith(("pct", "pos", "vol"))]
        if exact:
            return exact
    for action, cue in CUES.items():
        opposite = _OPPOSITE[action]
        if said & cue and not said & CUES[opposite]:
            kept = [c for c in kept if c.action != opposite]
    switching = said & (CUES["on"] | CUES["off"])
    stepping = said & (CUES["up"] | CUES["down"]) - {"more", "less"}
    if switching:  # "shut down", "switch on the light up there": up/down are not steps then
        stepping -= {"up", "down"}
    if stepping and not switching:
        kept = [c for c in kept if c.action not in ("on", "off")] or kept  # "dim" is not "off"
    if switching and not stepping:
        kept = [c for c in kept if c.action not in ("up", "down")] or kept  # "off" is not "dim"
    cued = {c.action for c in kept if said & CUES.get(c.action, frozenset())}
    if len(cued) == 1:  # the words name one of the things left to do ("toggle", "pause")
        kept = [c for c in kept if c.action in cued]
    return kept or commands


_QUESTION = _P["question"]
_DEVICE_WORDS = VOCABULARY.device_words
_POLITE = _P["polite"]
_NOT_A_REQUEST_START = VOCABULARY.not_a_request_start
"""How a statement starts ("my mom turned off the lights", "i wish i could ..."): a
request starts with its verb ("turn"), its device ("lights off") or "the" ("the lights need
to be off"), after "please", "can you", "i want"..."""
_PAST = VOCABULARY.past


def request_form(text: str) -> bool:
    """Is it said as a request ("can you turn the lights off", "lights off please"), not as
    a statement or about the past ("my mom turned off the lights")?"""
    rest = _POLITE.sub("", " ".join(words(text)))
    toks = rest.split()
    return bool(toks) and toks[0] not in _NOT_A_REQUEST_START and not _PAST & set(toks)


def explicit(text: str, command: Command, found: Retrieval) -> bool:
    """Do the request's own words say both what to do and to what? ("i want the lights
    off": a device word and "off"), said as a request? Then the only question left for the
    model is whether it is one at all, not which of several things it means."""
    toks = words(WHERE.sub(" ", text.lower()))
    if not toks or _QUESTION.match(" ".join(toks)) or not request_form(text):
        return False
    said = set(toks)
    action = command.action
    valued = action.startswith(("pct", "pos", "vol", "deg"))
    if valued or action.startswith("colour:"):
        says_action = True  # a value the words named ("blue", "40 percent")
    elif action == "colour":
        says_action = bool(COLOURISH.search(" ".join(toks)))  # "a random colour": which one?
    else:
        cue = CUES.get(action)
        says_action = bool(cue and said & cue)
    names_device = bool(said & _DEVICE_WORDS or found.entities or found.areas or found.things
                        or (valued and found.domains))  # "heating to 21": the kind and its value
    return says_action and names_device
