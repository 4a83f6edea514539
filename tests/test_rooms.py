"""Rooms side by side: one lock and one conversation per room, not one for the house;
and a privacy mode switched while serving reaches every path that can leave the house."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant.config import load_settings
from assistant.events import Event, StageEnded, StageFailed, discard
from assistant.runtime import Runtime
from assistant.server.brain import Brain, Rooms
from assistant.understand.result import Decision

HOLD = "hold this one"


class Holding:
    """A fallback that keeps one room's turn busy until the test lets it go."""

    name = "holding"

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def decide(self, text: str, area: str | None, previous: Decision,
               conversation: object = None) -> Decision | None:
        if text != HOLD:
            return None
        self.entered.set()
        self.release.wait(30)
        return Decision("unhandled", "Let go.", reason="held by the test")


@pytest.fixture
def assistant(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(data_dir=str(tmp_path), llm={"enabled": False})
    with Runtime(settings) as a:
        yield a


def test_a_busy_room_does_not_hold_another(assistant: Runtime) -> None:
    holding = Holding()
    assistant.understander.fallbacks.insert(0, holding)
    rooms = Rooms(assistant)
    kitchen = rooms.pipeline_for("kitchen", discard, memory_key="satellite:kitchen")
    bedroom = rooms.pipeline_for("bedroom", discard, memory_key="satellite:bedroom")
    busy = threading.Thread(target=kitchen.handle_text, args=(HOLD,), daemon=True)
    busy.start()
    try:
        assert holding.entered.wait(20)
        answered: list[str] = []
        other = threading.Thread(target=lambda: answered.append(
            bedroom.handle_text("turn on the light").reply), daemon=True)
        other.start()
        other.join(20)
        assert answered, "the bedroom waited for the kitchen's turn"
        assert busy.is_alive()  # the kitchen's turn was still going on
    finally:
        holding.release.set()
        busy.join(20)


def test_the_same_room_still_takes_turns_one_at_a_time(assistant: Runtime) -> None:
    rooms = Rooms(assistant)
    first = rooms.pipeline_for(None, discard, memory_key="default")
    second = rooms.pipeline_for(None, discard, memory_key="default")
    assert first.lock is second.lock
    assert rooms.lock("satellite:a") is not first.lock


def test_each_room_keeps_its_own_follow_up(assistant: Runtime) -> None:
    rooms = Rooms(assistant)
    kitchen = rooms.pipeline_for("kitchen", discard, memory_key="satellite:kitchen")
    bedroom = rooms.pipeline_for("bedroom", discard, memory_key="satellite:bedroom")
    kitchen.handle_text("turn on the light")
    bedroom.handle_text("turn on the light")
    result = kitchen.handle_text("turn it off")
    assert [(a.service, a.entity_id) for a in result.applied] == [("light.turn_off", "light.kitchen")]
    assert assistant.home.get_state("light.bedroom").state == "on"


def _verdict(assistant: Runtime) -> str:
    name = next(iter(assistant.skills.skills))
    return assistant.skills.context(name, None).cloud_check("what is the capital of France")


def test_switching_the_privacy_mode_reaches_the_skills(tmp_path: Path) -> None:
    settings = load_settings(data_dir=str(tmp_path), llm={"enabled": False},
                             privacy={"mode": "allow", "default": "allow"})
    with Runtime(settings) as assistant:
        assert _verdict(assistant) == "send"
        # as `hearth serve` does when the dashboard switches to local-only
        Brain.set_privacy_mode(SimpleNamespace(runtime=assistant), "local_only")  # type: ignore[arg-type]
        assert assistant.cloud.privacy.mode == "local_only"
        assert _verdict(assistant) == "deny"


def test_the_local_llm_scores_for_two_rooms_at_once_and_agrees_with_itself() -> None:
    from assistant.llm.local import LocalLlm

    llm = LocalLlm(threads=2, parallel=2)
    try:
        prompt = llm.tokenize("<|im_start|>user\nturn off the light<|im_end|>\n<|im_start|>assistant\n")
        conts = [llm.tokenize(t + "<|im_end|>") for t in ("turn off the light", "turn on the light")]
        alone = llm.score(prompt, conts)
        with ThreadPoolExecutor(2) as pool:
            runs = list(pool.map(lambda _: llm.score(prompt, conts), range(6)))
        for run in runs:
            for a, b in zip(alone, run, strict=True):
                assert math.isclose(a.logprob, b.logprob, abs_tol=1e-3)
        assert alone[0].logprob > alone[1].logprob
    finally:
        llm.close()


def test_a_satellites_typed_turns_continue_its_spoken_conversation(assistant: Runtime) -> None:
    """What a satellite types (a Wyoming ``transcript``) and what it says go to one room."""
    import asyncio

    from assistant.server.services import ServiceRequests

    rooms = Rooms(assistant)
    spoken = rooms.pipeline_for("kitchen", discard, memory_key="satellite:kitchen")
    spoken.handle_text("turn on the light")  # as its voice session would
    sent: list[object] = []

    async def send(event: object) -> None:
        sent.append(event)

    ctx = SimpleNamespace(brain=rooms, hub=SimpleNamespace(publish=lambda record: None))
    typed = ServiceRequests(ctx, send, client="kitchen", room="satellite:kitchen")  # type: ignore[arg-type]
    asyncio.run(typed._handle("turn it off", {"area": "kitchen"}))
    assert assistant.home.get_state("light.kitchen").state == "off"
    assert rooms.lock("satellite:kitchen") is spoken.lock


def test_a_skill_that_fails_in_a_room_reports_to_that_rooms_events(
        assistant: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's runtime has no event sink of its own: a skill's error reaches the
    dashboard only through the turn's (its room's) events."""
    loaded = assistant.skills.skills["time_date"].skill
    decl = loaded.intents["HassGetCurrentTime"]

    def broken(*_args: object) -> str:
        raise RuntimeError("the clock fell off the wall")

    monkeypatch.setitem(loaded.intents, "HassGetCurrentTime", replace(decl, handler=broken))
    events: list[Event] = []
    kitchen = Rooms(assistant).pipeline_for("kitchen", events.append, memory_key="satellite:kitchen")
    turn = kitchen.handle_text("what time is it")
    assert turn.reply == "Sorry, the time date skill failed."
    [failure] = [e for e in events if isinstance(e, StageFailed)]
    assert (failure.stage, failure.code) == ("skill", "skill_raised") and failure.t_wall_ms > 0
    skill_end = next(e for e in events if isinstance(e, StageEnded) and e.stage == "skill")
    assert (skill_end.ok, skill_end.error) == (False, "skill_raised")


def test_system_status_records_each_rooms_turn_with_its_own_intent() -> None:
    """Two rooms' turns interleave: each reply is recorded with its own room's intent."""
    from assistant.events import IntentMatched, Reply
    from assistant.skills.turns import TurnLog

    log = TurnLog(None)
    kitchen, bedroom = log.observe(discard), log.observe(discard)
    kitchen(IntentMatched(intent="HassTurnOn"))
    bedroom(IntentMatched(intent="HassGetCurrentTime"))
    kitchen(Reply(text="Turned on the light.", handled_by="local"))
    bedroom(Reply(text="It's noon.", handled_by="local"))
    assert [t.intent for t in reversed(log.last(2))] == ["HassTurnOn", "HassGetCurrentTime"]
