"""Timers and alarms: several named ones, status, cancel, ringing until answered."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hearth_timers import skill
from hearth_timers.clock import parse_clock

from assistant.skills.testing import FakeClock, SkillTester


def test_several_named_timers_status_and_cancel(tmp_path: Path) -> None:
    clock = FakeClock()
    with SkillTester(skill, data_dir=tmp_path, clock=clock) as t:
        assert t.ask("set a pasta timer for 10 minutes").reply == "Okay, pasta timer for 10 minutes."
        assert t.ask("set a timer for 3 minutes named eggs").intent == "HassStartTimer"
        clock.advance(100)
        reply = t.ask("how long is left").reply
        assert "the pasta timer has 8 minutes and 20 seconds left" in reply
        assert "the eggs timer has 1 minute and 20 seconds left" in reply
        assert t.ask("how much time is left on the eggs timer").reply == \
            "The eggs timer has 1 minute and 20 seconds left."
        assert "Which one" in t.ask("cancel the timer").reply
        assert t.ask("cancel the pasta timer").reply == "Cancelled the pasta timer."
        assert t.ask("add 2 minutes to the eggs timer").reply == \
            "The eggs timer now has 3 minutes and 20 seconds left."


def test_a_ring_repeats_until_answered(tmp_path: Path) -> None:
    clock = FakeClock()
    with SkillTester(skill, data_dir=tmp_path, clock=clock, ring_every_s=10, max_rings=5) as t:
        t.ask("set a pasta timer for 1 minute")
        assert t.advance(59) == []
        assert t.advance(1) == ["Your pasta timer is done."]
        assert t.advance(5) == []
        assert t.advance(5) == ["Your pasta timer is done."]  # nobody answered: again
        turn = t.ask("stop")
        assert turn.reply == "Okay, I've stopped the pasta timer."
        assert t.advance(60) == []
        assert t.ask("how long is left").reply == "You have no timers running."


def test_an_unanswered_ring_stops_at_the_limit_and_is_reported(tmp_path: Path) -> None:
    clock = FakeClock()
    with SkillTester(skill, data_dir=tmp_path, clock=clock, ring_every_s=10, max_rings=3) as t:
        t.ask("set a timer for 30 seconds")
        rings = [text for _ in range(10) for text in t.advance(10)]
        assert rings == ["Your 30 seconds timer is done."] * 3
        assert t.ask("how long is left").reply.startswith("The 30 seconds timer went off")


def test_timers_survive_a_restart_and_ring_late(tmp_path: Path) -> None:
    clock = FakeClock()
    with SkillTester(skill, data_dir=tmp_path, clock=clock) as t:
        t.ask("set a tea timer for 4 minutes")
    clock.advance(600)  # the box was off for 10 minutes
    with SkillTester(skill, data_dir=tmp_path, clock=clock) as t:
        t.tick()
        assert t.announcements() == ["Your tea timer is done. It went off 6 minutes ago."]
        assert t.ask("okay thanks").reply == "Okay, I've stopped the tea timer."


def test_alarms(tmp_path: Path) -> None:
    clock = FakeClock(dt.datetime(2025, 3, 4, 22, 15).timestamp())
    with SkillTester(skill, data_dir=tmp_path, clock=clock) as t:
        assert t.ask("set an alarm for 7 am").reply == "Alarm set for 7:00 AM tomorrow."
        assert t.ask("when is my alarm").reply == "The 7:00 AM alarm is set."
        assert t.advance(8 * 3600 + 45 * 60) == ["It's 7:00 AM. This is your alarm."]
        assert t.ask("turn off the alarm").reply == "Okay, I've stopped the alarm."


def test_spoken_clock_times() -> None:
    now = dt.datetime(2025, 3, 4, 15, 0)
    assert parse_clock("7", now) == dt.datetime(2025, 3, 4, 19, 0)  # the next 7 o'clock
    assert parse_clock("7 a.m.", now) == dt.datetime(2025, 3, 5, 7, 0)
    assert parse_clock("6:30 pm", now) == dt.datetime(2025, 3, 4, 18, 30)
    assert parse_clock("seven thirty tomorrow morning", now) == dt.datetime(2025, 3, 5, 7, 30)
    assert parse_clock("half past six", now) == dt.datetime(2025, 3, 4, 18, 30)
    assert parse_clock("quarter to eight", now) == dt.datetime(2025, 3, 4, 19, 45)
    assert parse_clock("noon", now) == dt.datetime(2025, 3, 5, 12, 0)
    assert parse_clock("banana", now) is None
