"""A real MQTT broker for the tests and benches: mosquitto on 127.0.0.1, with a
password and persistence, in a temp folder; it can be stopped and restarted."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.ports import free_port

MOSQUITTO = "/usr/sbin/mosquitto"


class Broker:
    """A real mosquitto on 127.0.0.1 with a password and persistence, in a temp folder."""

    def __init__(
        self,
        workdir: Any,
        *,
        username: str = "hearth",
        password: str = "s3cret",
        port: int | None = None,
        nodelay: bool = True,
    ) -> None:
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.username, self.password = username, password
        self.port = port or free_port()
        self.binary = shutil.which("mosquitto") or MOSQUITTO
        passwd = self.dir / "passwd"
        passwd.write_text(f"{username}:{password}\n")
        subprocess.run(["mosquitto_passwd", "-U", str(passwd)], check=True, capture_output=True)
        passwd.chmod(0o600)
        self.conf = self.dir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous false\n"
            f"password_file {passwd}\n"
            "persistence true\n"
            f"persistence_location {self.dir}/\n"
            f"log_dest file {self.dir}/mosquitto.log\n"
            "user root\n"
            f"set_tcp_nodelay {'true' if nodelay else 'false'}\n"
        )
        self.proc: Any = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.username}:{self.password}@127.0.0.1:{self.port}"

    def start(self, timeout: float = 10) -> Broker:

        self.proc = subprocess.Popen(
            [self.binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.proc.stderr.read().decode()[-500:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"mosquitto did not listen on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self, down_s: float = 0.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()
