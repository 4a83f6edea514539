"""The real microphone path: sounddevice -> PortAudio -> PulseAudio, with a null sink
standing in for the microphone and a spoken command played into it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ctrl_c_works, run_hearth

pytestmark = pytest.mark.real



def test_a_spoken_command_through_the_real_microphone_path(pulse: dict[str, str], tmp_path: Path) -> None:
    env = {**pulse, "HEARTH_DATA_DIR": os.environ["HEARTH_DATA_DIR"]}
    wav = tmp_path / "command.wav"
    assert run_hearth("say", "Hey Jarvis, turn on the kitchen light.", "--output", str(wav),
                      "--pad-ms", "500").returncode == 0
    hearth = Path(sys.executable).with_name("hearth")
    proc = subprocess.Popen([str(hearth), "listen", "--json"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=ctrl_c_works)
    try:
        assert proc.stderr is not None and proc.stdout is not None
        deadline = time.monotonic() + 120
        line = b""
        while b"listening for" not in line:
            line = proc.stderr.readline()
            assert line or proc.poll() is None, "hearth listen exited before listening"
            assert time.monotonic() < deadline, "hearth listen did not start listening"
        subprocess.run(["paplay", "--device=hearth_mic", str(wav)], env=pulse, check=True)
        events = []
        while time.monotonic() < deadline:
            out = proc.stdout.readline()
            if not out:
                break
            events.append(json.loads(out))
            if events[-1]["type"] in ("reply", "error"):
                break
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    kinds = [e["type"] for e in events]
    assert kinds[:2] == ["wake", "speech_start"], kinds
    action = next(e for e in events if e["type"] == "action")
    assert action["entity_id"] == "light.kitchen"
    home = run_hearth("home", "--entity", "light.kitchen", "--json")
    assert json.loads(home.stdout)["state"] == "on"
