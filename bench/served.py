"""``hearth serve`` as the satellite bench runs it: a subprocess on 127.0.0.1 with N
configured satellites (``sat1``..), its memory and CPU read from /proc, its metrics and
API over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from assistant.config import packaged_config_text
from tests.ports import free_port

HEARTH = str(Path(sys.executable).with_name("hearth"))
AREAS = ("kitchen", "bedroom", "office", "bathroom", "hallway", "living_room")
"""The satellites' areas, in turn."""


class ServerProcess:
    def __init__(self, folder: Path, n_satellites: int) -> None:
        self.folder = folder
        self.port, self.wyoming_port = free_port(), free_port()
        self.names = [f"sat{i + 1}" for i in range(n_satellites)]
        lines = [packaged_config_text(), "[server]", f"port = {self.port}",
                 f"wyoming_port = {self.wyoming_port}", 'log_format = "json"']
        for i, name in enumerate(self.names):
            lines += ["[[server.satellites]]", f'name = "{name}"', f'token = "{name}-token-123"',
                      f'area = "{AREAS[i % len(AREAS)]}"']
        self.config = folder / "hearth.toml"
        self.config.write_text("\n".join(lines) + "\n")
        self.log = folder / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "HEARTH_DATA_DIR": str(self.folder / "data")}
        env.pop("HEARTH_TOKEN", None)
        self._log = open(self.log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([HEARTH, "serve", "--config", str(self.config)],
                                     stdout=self._log, stderr=self._log, env=env)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"bench: hearth serve exited:\n{self.log.read_text()[-2000:]}")
            if b'"msg": "serving"' in self.log.read_bytes():
                return
            time.sleep(0.2)
        raise SystemExit("bench: hearth serve did not start")

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self._log.close()
        return rc

    def rss_mb(self) -> float:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
        return 0.0

    def cpu_s(self) -> float:
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def metric(self, name: str) -> float:
        """A metric's value (summed over labels) from /metrics."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=30) as res:
            text = res.read().decode()
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith(name + " ") or line.startswith(name + "{"))

    def api(self, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data,
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as res:
            return json.loads(res.read())
