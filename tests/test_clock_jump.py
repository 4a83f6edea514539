"""The wall clock jumps (NTP after a power cut, a hand-set clock): nothing waiting for a
yes survives the jump, and a timer rings once, late, instead of never or a hundred times
(issue 17)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import load_settings
from assistant.home import open_home
from assistant.home.base import HomeBackend
from assistant.skills.timers import TimerInfo, TimerService
from assistant.understand.context import ConversationMemory
from assistant.understand.router import Understander

DAY = 24 * 3600.0


@pytest.fixture()
def home() -> Iterator[HomeBackend]:
    h = open_home(load_settings())
    yield h
    h.close()


@pytest.mark.parametrize("jump", [-3600.0, -30.0, DAY, 365 * DAY])
def test_a_pending_yes_does_not_survive_a_clock_jump(home: HomeBackend, tmp_path: Path,
                                                     jump: float) -> None:
    now = [1_000_000.0]
    u = Understander(home, memory=ConversationMemory(tmp_path / "c.sqlite", confirm_s=15,
                                                     clock=lambda: now[0]))
    assert u.decide("open the garage door", area="living_room").handled_by == "confirm"
    now[0] += jump
    u.conversation.pending = ()  # as a new process would see it: only the stored memory
    d = u.decide("yes", area="living_room")
    assert d.actions == (), f"a yes {jump:+g} s later opened the garage"
    assert home.get_state("cover.garage_door").state == "closed"
    # and the clock's new time works as usual
    assert u.decide("open the garage door", area="living_room").handled_by == "confirm"
    assert [a.entity_id for a in u.decide("yes", area="living_room").actions] == [
        "cover.garage_door"]


def test_a_timer_rings_once_late_after_the_clock_jumps_ahead(tmp_path: Path) -> None:
    now = [1_000_000.0]
    rang: list[tuple[TimerInfo, str]] = []
    service = TimerService(tmp_path / "timers.sqlite", on_ring=lambda t, s: rang.append((t, s)),
                           ring_every_s=20, max_rings=3, clock=lambda: now[0])
    try:
        service.for_owner("test").start(300, name="pasta")
        assert service.tick() == []
        now[0] += DAY  # the box was off (or NTP fixed its clock)
        assert len(service.tick()) == 1 and "went off" in rang[-1][1]
        assert service.tick() == []  # not again at once
        now[0] -= 2 * DAY  # and back again: nothing rings, nothing breaks
        assert service.tick() == []
        assert [t.state for t in service.all()] == ["ringing"]
        assert service.acknowledge() and service.all() == []
    finally:
        service.close()
