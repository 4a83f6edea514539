"""The real microphone path: sounddevice -> PortAudio -> PulseAudio, with a null sink
standing in for the microphone and a spoken command played into it."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pytest

from tests.conftest import ctrl_c_works, run_hearth

pytestmark = pytest.mark.real


def _lines(stream: IO[bytes] | None) -> queue.Queue[bytes]:
    """The stream's lines, read on a thread (b"" once it closes)."""
    assert stream is not None
    lines: queue.Queue[bytes] = queue.Queue()

    def pump() -> None:
        for line in iter(stream.readline, b""):
            lines.put(line)
        lines.put(b"")

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _next(lines: queue.Queue[bytes], deadline: float, proc: subprocess.Popen[bytes]) -> bytes:
    try:
        line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
    except queue.Empty:
        raise AssertionError("hearth listen did not start listening") from None
    assert line or proc.poll() is None, "hearth listen exited before listening"
    return line


def test_a_spoken_command_through_the_real_microphone_path(pulse: dict[str, str], tmp_path: Path) -> None:
    env = {**pulse, "HEARTH_DATA_DIR": os.environ["HEARTH_DATA_DIR"]}
    wav = tmp_path / "command.wav"
    assert run_hearth("say", "Hey Jarvis, turn on the kitchen light.", "--output", str(wav),
                      "--pad-ms", "500").returncode == 0
    hearth = Path(sys.executable).with_name("hearth")
    proc = subprocess.Popen([str(hearth), "listen", "--json"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=ctrl_c_works)
    out, err = _lines(proc.stdout), _lines(proc.stderr)  # read on threads: a silent child can't hang us
    try:
        deadline = time.monotonic() + 120
        while b"listening for" not in _next(err, deadline, proc):
            pass
        events: list[dict[str, object]] = []
        for _attempt in range(2):  # a person says it again when nothing happened
            subprocess.run(["paplay", "--device=hearth_mic", str(wav)], env=pulse, check=True)
            heard_by = time.monotonic() + 30
            while time.monotonic() < (deadline if events else heard_by):
                with contextlib.suppress(queue.Empty):
                    line = out.get(timeout=0.5)
                    if not line:
                        break  # hearth listen ended
                    events.append(json.loads(line))
                    if events[-1]["type"] in ("reply", "error"):
                        break
            if events:
                break
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    kinds = [e["type"] for e in events if not str(e["type"]).startswith("stage_")]
    assert kinds[:2] == ["wake", "speech_start"], kinds
    action = next(e for e in events if e["type"] == "action")
    assert action["entity_id"] == "light.kitchen"
    home = run_hearth("home", "--entity", "light.kitchen", "--json")
    assert json.loads(home.stdout)["state"] == "on"
