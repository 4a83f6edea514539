"""Home Assistant's own satellite (the `wyoming-satellite` program) works with Hearth.

`wyoming-satellite` waits to be called, as Home Assistant does; Hearth calls the
satellites configured with a ``uri``. It pins an older `wyoming`, so it lives in its
own virtual environment, ``.venv-satellite`` (built by scripts/setup_hass.sh);
``HEARTH_WYOMING_SATELLITE`` names another command that runs it (docs/server.md).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from server_helpers import Server, free_port, speech_file

pytestmark = pytest.mark.real
VENV_SATELLITE = Path(__file__).resolve().parents[1] / ".venv-satellite" / "bin" / "python"

MIC_FEED = '''
import sys, time
import numpy as np
import soundfile as sf
audio, _ = sf.read(sys.argv[1], dtype="int16")
every = int(16000 * float(sys.argv[2]))
rng = np.random.default_rng(0)
out, t0, k = sys.stdout.buffer, time.monotonic(), 0
while True:
    pos = (k * 1024) % every
    chunk = audio[pos:pos + 1024] if pos < len(audio) else rng.integers(-20, 20, 1024)
    chunk = np.concatenate([chunk, np.zeros(1024 - len(chunk))]).astype("<i2")
    k += 1
    time.sleep(max(0.0, t0 + k * 1024 / 16000 - time.monotonic()))
    out.write(chunk.tobytes())
    out.flush()
'''


def test_home_assistants_wyoming_satellite_called_by_hearth(
        tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
        say: Callable[[str], np.ndarray]) -> None:
    command = os.environ.get("HEARTH_WYOMING_SATELLITE")
    if not command and VENV_SATELLITE.exists():
        command = f"{VENV_SATELLITE} -m wyoming_satellite"
    if not command:
        pytest.skip(f"wyoming-satellite's venv is missing ({VENV_SATELLITE}): run "
                    "scripts/setup_hass.sh, or set HEARTH_WYOMING_SATELLITE to the command "
                    "that runs it; see docs/server.md")
    wav = speech_file(tmp_path_factory.mktemp("speech"), say, "Hey Jarvis, turn on the light.")
    feed = tmp_path / "mic_feed.py"
    feed.write_text(MIC_FEED)
    reply = tmp_path / "reply.raw"
    sat_port = free_port()
    sat = subprocess.Popen(
        [*shlex.split(command), "--name", "pi-office", "--uri", f"tcp://127.0.0.1:{sat_port}",
         "--no-zeroconf", "--mic-command", f"{sys.executable} {feed} {wav} 8",
         "--snd-command", f"tee {reply}", "--snd-command-rate", "22050"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Server(tmp_path / "srv", extra=(
        '\n[[server.satellites]]\nname = "pi-office"\n'
        f'uri = "tcp://127.0.0.1:{sat_port}"\narea = "office"\n'))
    try:
        server.start()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and server.entity_state("light.desk_lamp") != "on":
            time.sleep(0.5)
        assert server.entity_state("light.desk_lamp") == "on"
        health = server.json("GET", "/api/health")
        office = next(s for s in health["satellites"] if s["name"] == "pi-office")
        assert office["connected"] and office["area"] == "office"
        turns: list[dict[str, object]] = []
        while time.monotonic() < deadline and not turns:  # closed once the reply is spoken
            turns = [t for t in server.json("GET", "/api/turns") if t["source"] == "pi-office"]
            time.sleep(0.5)
        assert turns and turns[0]["actions"] == ["light.turn_on light.desk_lamp"]
        time.sleep(2.0)  # the reply is being played
        assert reply.exists() and reply.stat().st_size > 22050  # > 0.5 s of reply audio
    finally:
        sat.terminate()
        sat.wait(10)
        assert server.stop() == 0
