"""A skill that raises, hangs, returns garbage or reaches outside its domains gets a
short spoken error and a StageFailed event; nothing is applied, other turns go on."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.events import StageEnded, StageFailed, StageStarted
from assistant.skills import Action, Decision, Intent, Permissions, Response, Skill, SkillContext
from assistant.skills.testing import SkillTester
from assistant.stages import Stage

release = threading.Event()


def make(name: str, domains: tuple[str, ...] = (), **perm: bool) -> Skill[Any]:
    return Skill(name, f"{name} for tests", permissions=Permissions(domains=domains, **perm), sentences=[
        {"language": "en", "intents": {f"{name.capitalize()}Go": {"data": [{"sentences": [f"{name} go"]}]}}}])


boom = make("boom")
sleepy = make("sleepy")
garbage = make("garbage")
grabby = make("grabby", domains=("light",))
sloppy = make("sloppy", domains=("switch",))
locksmith = make("locksmith", domains=("lock",))
leaky = make("leaky")
fine = make("fine", domains=("light",))
GARBAGE: list[Any] = []


@boom.intent("BoomGo")
def explode(intent: Intent, ctx: SkillContext[Any]) -> str:
    raise RuntimeError("the flux capacitor is empty")


@sleepy.intent("SleepyGo")
def hang(intent: Intent, ctx: SkillContext[Any]) -> str:
    release.wait(30)
    return "I'm awake."


@garbage.intent("GarbageGo")
def junk(intent: Intent, ctx: SkillContext[Any]) -> Any:
    return GARBAGE.pop(0)


@grabby.intent("GrabbyGo")
def grab(intent: Intent, ctx: SkillContext[Any]) -> Response:
    return Response("Unlocked.", actions=(Action("light.turn_on", "light.kitchen"),
                                          Action("lock.unlock", "lock.front_door")))


@sloppy.intent("SloppyGo")
def sloppy_call(intent: Intent, ctx: SkillContext[Any]) -> Response:
    return Response("Brewing hot.", actions=(Action("switch.turn_on", "switch.coffee_maker",
                                                    {"temperature": 99}),))


@locksmith.intent("LocksmithGo")
def unlock(intent: Intent, ctx: SkillContext[Any]) -> Response:
    return Response("Unlocked.", actions=(Action("lock.unlock", "lock.front_door"),))


@leaky.intent("LeakyGo")
def leak(intent: Intent, ctx: SkillContext[Any]) -> Decision:
    return Decision("cloud", "I asked the cloud.", left_device=True)


@fine.intent("FineGo")
def light(intent: Intent, ctx: SkillContext[Any]) -> Response:
    return Response("Kitchen light on.", actions=(Action("light.turn_on", "light.kitchen"),))


@pytest.fixture
def tester(tmp_path: Path) -> Iterator[SkillTester]:
    release.clear()
    with SkillTester(boom, sleepy, garbage, grabby, sloppy, locksmith, leaky, fine, data_dir=tmp_path,
                     timeout_s=0.5) as t:
        yield t
    release.set()


def failed(turn: Any) -> list[StageFailed]:
    return [e for e in turn.events if isinstance(e, StageFailed)]


def test_a_skill_that_raises(tester: SkillTester) -> None:
    turn = tester.ask("boom go")
    assert turn.reply == "Sorry, the boom skill failed."
    assert turn.handled_by == "unhandled" and turn.actions == []
    [event] = failed(turn)
    assert (event.stage, event.code) == ("skill", "skill_raised")
    assert "RuntimeError: the flux capacitor is empty" in event.message
    assert tester.ask("fine go").actions == [Action("light.turn_on", "light.kitchen")]


def test_a_failed_skill_ends_its_stage_with_the_code_inside_the_turn(tester: SkillTester) -> None:
    turn = tester.ask("boom go")
    ends = {e.stage: e for e in turn.events if isinstance(e, StageEnded)}
    assert (ends[Stage.SKILL].ok, ends[Stage.SKILL].error) == (False, "skill_raised")
    assert ends[Stage.UNDERSTAND].ok  # understanding went on: the spoken error is its answer
    skill_start = next(e for e in turn.events if isinstance(e, StageStarted) and e.stage is Stage.SKILL)
    [event] = failed(turn)  # one error event, stamped with the turn's clock, before the stage ends
    order = turn.events.index
    assert order(skill_start) < order(event) < order(ends[Stage.SKILL])
    assert skill_start.t_wall_ms <= event.t_wall_ms <= ends[Stage.SKILL].t_wall_ms
    fine_ends = [e for e in tester.ask("fine go").events if isinstance(e, StageEnded)]
    assert all(e.ok for e in fine_ends)  # the failure was that turn's, not the next one's


def test_a_skill_that_hangs_times_out_and_blocks_nothing(tester: SkillTester) -> None:
    t0 = time.monotonic()
    turn = tester.ask("sleepy go")
    assert time.monotonic() - t0 < 2.0
    assert turn.reply == "Sorry, the sleepy skill failed."
    assert failed(turn)[0].code == "skill_timeout"
    t0 = time.monotonic()
    again = tester.ask("sleepy go")  # still stuck: refused at once, no second thread
    assert time.monotonic() - t0 < 0.4 and failed(again)[0].code == "skill_busy"
    assert tester.ask("fine go").reply == "Kitchen light on."  # other skills answer meanwhile
    release.set()
    for _ in range(50):  # the stuck call ends: the skill is usable again
        time.sleep(0.02)
        if tester.ask("sleepy go").reply == "I'm awake.":
            break
    else:
        pytest.fail("the skill never recovered after its stuck call ended")


@pytest.mark.parametrize("junk", [42, None, Response(text=None), Response("ok", actions=("light.turn_on",)),  # type: ignore[arg-type]
                                  Response("", actions=()), Response("ok", slots=["drink"])])  # type: ignore[arg-type]
def test_garbage_is_an_error_not_a_crash(tester: SkillTester, junk: Any) -> None:
    GARBAGE[:] = [junk]
    turn = tester.ask("garbage go")
    assert turn.reply == "Sorry, the garbage skill failed."
    assert failed(turn)[0].code == "skill_bad_result"


def test_actions_outside_the_declared_domains_are_refused_whole(tester: SkillTester) -> None:
    turn = tester.ask("grabby go")
    assert turn.reply == "Sorry, the grabby skill failed." and turn.actions == []
    assert failed(turn)[0].code == "skill_forbidden"
    assert "may not act on lock.front_door (allowed domains: light)" in failed(turn)[0].message
    assert tester.state("lock.front_door") == "locked" and tester.state("light.kitchen") == "off"


def test_invalid_service_data_is_refused(tester: SkillTester) -> None:
    turn = tester.ask("sloppy go")
    assert failed(turn)[0].code == "skill_forbidden"
    assert "switch.turn_on does not take 'temperature'" in failed(turn)[0].message
    assert tester.state("switch.coffee_maker") == "off"


def test_sensitive_devices_wait_for_a_spoken_yes(tester: SkillTester) -> None:
    turn = tester.ask("locksmith go")
    assert turn.handled_by == "confirm" and turn.actions == []
    assert turn.pending == [Action("lock.unlock", "lock.front_door")]
    assert "Shall I go ahead?" in turn.reply
    assert tester.state("lock.front_door") == "locked"
    assert tester.ask("yes").actions == [Action("lock.unlock", "lock.front_door")]


def test_sending_off_the_device_needs_the_permission(tester: SkillTester) -> None:
    turn = tester.ask("leaky go")
    assert failed(turn)[0].code == "skill_forbidden"
    assert "without the network or cloud permission" in failed(turn)[0].message


def test_dry_run_shows_a_skills_actions_without_applying_them(tester: SkillTester) -> None:
    turn = tester.ask("fine go", dry_run=True)
    assert turn.actions == [Action("light.turn_on", "light.kitchen")]
    assert tester.state("light.kitchen") == "off"
