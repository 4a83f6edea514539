"""System status reads the turn log and the audit log."""

from __future__ import annotations

from pathlib import Path

from hearth_system_status import skill

from assistant.skills.testing import FakeClock, SkillTester


def test_last_request_and_status(tmp_path: Path) -> None:
    clock = FakeClock()
    with SkillTester(skill, data_dir=tmp_path, clock=clock) as t:
        assert t.ask("how was that handled").reply == "I haven't handled a request yet."
        t.ask("turn on the kitchen light")  # not a skill of this tester: the core handlers
        clock.advance(30)
        reply = t.ask("did anything leave the device").reply
        assert reply.startswith("Your last request (HassTurnOn), 30 seconds ago")
        assert "on this device, by the sentence templates. Nothing left the device." in reply
        clock.advance(3600)
        status = t.ask("system status").reply
        assert status.startswith("All good. I've been up for 1 hour")
        assert "Nothing has been sent to the cloud." in status
