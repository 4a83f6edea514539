"""Timers ringing in a running assistant: the real ticker thread, a speaker draining the
announcement queue the way the voice loop does, "stop" answering the ring."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from assistant.config import load_settings
from assistant.runtime import Runtime
from assistant.skills.announce import Announcement, Announcements


class Speaker:
    """Drains announcements on its own thread and 'speaks' them (records the time)."""

    def __init__(self, queue: Announcements) -> None:
        self.queue = queue
        self.heard: list[tuple[float, str]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stop.is_set():
            item = self.queue.get(timeout=0.05)
            if item is not None:
                self.heard.append((time.monotonic(), item.text))

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)


def wait_for(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_a_timer_rings_repeats_and_stops_on_stop(tmp_path: Path) -> None:
    settings = load_settings(data_dir=str(tmp_path), skills={"ring_every_s": 1.0, "max_rings": 10})
    with Runtime(settings) as assistant:
        assistant.skills.start_ringing()
        speaker = Speaker(assistant.skills.announcements)
        try:
            t0 = time.monotonic()
            assert assistant.ask("set a pasta timer for 1 second").reply == "Okay, pasta timer for 1 second."
            assert wait_for(lambda: len(speaker.heard) >= 2, 5.0), speaker.heard
            first, second = speaker.heard[:2]
            assert first[1] == second[1] == "Your pasta timer is done."
            assert 0.9 <= first[0] - t0 <= 1.8  # rang on time (ticker polls 4x a second)
            assert 0.8 <= second[0] - first[0] <= 1.6  # and again, since nobody answered
            turn = assistant.ask("stop")
            assert turn.reply == "Okay, I've stopped the pasta timer."
            assert turn.decision.intent == "HearthTimerAck"
            count = len(speaker.heard)
            time.sleep(2.5)
            assert len(speaker.heard) == count  # quiet now
            assert assistant.ask("stop").reply == "Okay."  # nothing rings: a plain "stop" again
        finally:
            speaker.close()


def test_a_ring_nobody_hears_waits_in_the_queue_without_piling_up(tmp_path: Path) -> None:
    settings = load_settings(data_dir=str(tmp_path), skills={"ring_every_s": 1.0, "max_rings": 3})
    with Runtime(settings) as assistant:
        assistant.skills.start_ringing()
        assistant.ask("set a timer for 1 second", area="Kitchen")
        assert wait_for(lambda: assistant.skills.timers.all() and
                        assistant.skills.timers.all()[0].state == "done", 6.0)
        waiting = assistant.skills.announcements.drain()
        assert [a.text for a in waiting] == ["Your 1 second timer is done."]  # one, not three
        assert waiting[0].area == "kitchen"  # it rings where it was set (satellites)
        assert assistant.ask("how long is left").reply.startswith("The 1 second timer went off")


def test_skills_speak_unprompted_through_the_same_queue(tmp_path: Path) -> None:
    queue = Announcements()
    heard: list[Announcement] = []
    unsubscribe = queue.subscribe(heard.append)
    queue.put(Announcement("Coffee's ready.", skill="coffee", key="k"))
    queue.put(Announcement("Coffee's really ready.", skill="coffee", key="k"))  # replaces the waiting one
    unsubscribe()
    queue.put(Announcement("Unheard by the listener.", skill="coffee"))
    assert [a.text for a in heard] == ["Coffee's ready.", "Coffee's really ready."]
    assert [a.text for a in queue.drain()] == ["Coffee's really ready.", "Unheard by the listener."]
    assert queue.get(timeout=0.01) is None
