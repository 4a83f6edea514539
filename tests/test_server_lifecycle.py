"""The daemon's life: SIGTERM in the middle of a turn, then a restart with state intact."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from server_helpers import Server, finish, satellite, speech_file

from assistant.audio.files import write_wav

pytestmark = pytest.mark.real


def _wait_for_event(server: Server, source: str, kind: str, found: threading.Event) -> None:
    for ev in server.sse(f"/api/events?types={kind}", timeout=120):
        if ev.get("source") == source:
            found.set()
            return


def test_sigterm_mid_turn_finishes_the_turn_then_restart_keeps_the_state(
        tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
        say: Callable[[str], np.ndarray]) -> None:
    wav = speech_file(tmp_path_factory.mktemp("speech"), say, "Hey Jarvis, turn on the light.")
    quiet = tmp_path / "quiet.wav"
    write_wav(quiet, np.random.default_rng(1).integers(-30, 30, 16000 * 20).astype(np.int16))
    server = Server(tmp_path / "srv").start()
    try:
        changed = server.json("POST", "/api/privacy", {"mode": "allow", "confirm": True})
        assert changed["mode"] == "allow"
        timer = server.json("POST", "/api/ask", {"text": "set a timer for 30 seconds",
                                                 "area": "bedroom"})
        assert timer["intent"] == "HassStartTimer"
        timer_set = time.monotonic()
        woke = threading.Event()
        watcher = threading.Thread(target=_wait_for_event, args=(server, "kitchen", "wake", woke),
                                   daemon=True)
        watcher.start()
        idle = satellite(server, "bedroom", quiet)  # streams 20 s of room noise, no command
        busy = satellite(server, "kitchen", wav)
        assert woke.wait(60), "the kitchen satellite never woke the server"
        server.terminate(signal.SIGTERM)
        rc_busy, lines, err = finish(busy)
        rc_idle, idle_lines, idle_err = finish(idle)
    finally:
        rc = server.stop()
    assert rc == 0
    # the turn in progress was finished: action, reply (and its audio) reached the satellite
    assert rc_busy == 0, err
    kinds = [e["type"] for e in lines]
    assert "action" in kinds and "reply" in kinds and "tts_start" in kinds, kinds
    (turn,) = lines[-1]["turns"]
    assert turn["actions"][0]["entity_id"] == "light.kitchen"
    # the idle satellite was let go at once, long before its 20 s of audio ended
    assert rc_idle == 0, idle_err
    assert idle_lines[-1]["turns"] == [] and idle_lines[-1]["audio_sent_s"] < 15
    records = server.records()
    msgs = [r["msg"] for r in records]
    assert msgs.index("shutting down") < msgs.index("shutdown complete")
    turn_logs = [i for i, r in enumerate(records) if r["msg"] == "turn" and r["source"] == "kitchen"]
    assert turn_logs and turn_logs[0] > msgs.index("shutting down")  # finished after SIGTERM
    assert msgs[-1] == "shutdown complete"

    again = Server(tmp_path / "srv", port=server.port, wyoming_port=server.wyoming_port).start()
    try:
        assert again.entity_state("light.kitchen") == "on"
        assert again.entity_state("light.bedroom") == "off"
        privacy = again.json("GET", "/api/privacy")
        assert privacy["mode"] == "allow" and privacy["source"] == "dashboard"
        # the timer set before the restart rings after it, in its room
        rang = next(ev for ev in again.sse("/api/events?replay=50&types=announcement",
                                           timeout=90))
        assert rang["area"] == "bedroom" and "timer" in rang["text"].lower()
        assert time.monotonic() - timer_set >= 29
    finally:
        assert again.stop() == 0
