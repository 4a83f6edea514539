"""`hearth serve` with `server.microphone = true`: the server's own microphone loop, through
the real PortAudio -> PulseAudio path (a null sink stands in for the microphone)."""

from __future__ import annotations

import contextlib
import json
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from server_helpers import HEARTH, SATELLITES, Server, speech_file

from tests.conftest import ctrl_c_works

pytestmark = pytest.mark.real



def test_the_server_hears_its_own_microphone(pulse: dict[str, str], tmp_path: Path,
                                             tmp_path_factory: pytest.TempPathFactory,
                                             say: Callable[[str], np.ndarray]) -> None:
    wav = speech_file(tmp_path_factory.mktemp("speech"), say,
                      "Hey Jarvis, turn on the kitchen light.")
    server = Server(tmp_path / "srv", env_extra={
        k: pulse[k] for k in ("XDG_RUNTIME_DIR", "PULSE_RUNTIME_PATH")})
    server.config.write_text(server.config.read_text().replace(
        "[server]\n", "[server]\nmicrophone = true\nspeaker = false\n", 1))
    try:
        server.start()
        health = server.json("GET", "/api/health")
        assert health["microphone"] is True
        events: list[dict[str, Any]] = []
        done = threading.Event()

        def listen() -> None:
            for ev in server.sse("/api/events?types=wake,transcript,action,turn", timeout=120):
                if ev.get("source") == "mic":
                    events.append(ev)
                    if ev["type"] == "turn":
                        done.set()
                        return

        threading.Thread(target=listen, daemon=True).start()
        subprocess.run(["paplay", "--device=hearth_mic", str(wav)], env=pulse, check=True)
        assert done.wait(90), events
    finally:
        rc = server.stop()
    assert rc == 0
    kinds = [e["type"] for e in events]
    assert kinds[0] == "wake" and "action" in kinds, kinds
    action = next(e for e in events if e["type"] == "action")
    assert action["entity_id"] == "light.kitchen" and action["area"] == "living_room"
    assert events[-1]["stages_ms"]["end_to_action"] > 0


class Lines:
    """A process's output lines, read on threads, so a test can wait with a timeout."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.out: queue.Queue[str] = queue.Queue()
        self.err: queue.Queue[str] = queue.Queue()
        for stream, q in ((proc.stdout, self.out), (proc.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, q), daemon=True).start()

    @staticmethod
    def _pump(stream: Any, q: queue.Queue[str]) -> None:
        for raw in stream:
            q.put(raw.decode(errors="replace"))

    def wait_err(self, text: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            with contextlib.suppress(queue.Empty):
                if text in self.err.get(timeout=left):
                    return
        raise AssertionError(f"the satellite never said {text!r}")

    def next_action(self, timeout: float = 120.0) -> str:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            with contextlib.suppress(queue.Empty):
                ev = json.loads(self.out.get(timeout=left))
                if ev["type"] == "action":
                    return str(ev["entity_id"])
        raise AssertionError("no action from the satellite")


def say_until_acted(lines: Lines, wav: Path, pulse: dict[str, str], tries: int = 3) -> str:
    """Play the command into the microphone until the satellite reports an action, as a
    person would repeat it: "connected" is about the server, and on a loaded machine the
    microphone's stream may open a moment later, after the first words were played."""
    for attempt in range(tries):
        subprocess.run(["paplay", "--device=hearth_mic", str(wav)], env=pulse, check=True)
        with contextlib.suppress(AssertionError):
            return lines.next_action(timeout=40.0 if attempt < tries - 1 else 120.0)
    raise AssertionError(f"no action from the satellite after saying it {tries} times")


def test_a_microphone_satellite_reconnects_when_the_server_restarts(
        pulse: dict[str, str], tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
        say: Callable[[str], np.ndarray]) -> None:
    wav = speech_file(tmp_path_factory.mktemp("speech"), say, "Hey Jarvis, turn on the light.")
    server = Server(tmp_path / "srv").start()
    sat = subprocess.Popen(
        [HEARTH, "satellite", "--server", server.wyoming, "--name", "bedroom", "--area", "bedroom",
         "--token", SATELLITES["bedroom"][0], "--input", "mic", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**server.env, **pulse},
        preexec_fn=ctrl_c_works)
    lines = Lines(sat)
    try:
        lines.wait_err("connected")
        assert say_until_acted(lines, wav, pulse) == "light.bedroom"
        assert server.stop() == 0
        lines.wait_err("the server went away")
        server = Server(tmp_path / "srv", port=server.port,
                        wyoming_port=server.wyoming_port).start()
        lines.wait_err("connected")
        assert say_until_acted(lines, wav, pulse) == "light.bedroom"
    finally:
        sat.send_signal(signal.SIGINT)
        sat.wait(30)
        server.stop()
