"""A real `hearth serve` in a subprocess on 127.0.0.1, and real `hearth satellite`s.

Shared by tests/test_server*.py, tests/test_satellite*.py and tests/test_dashboard*.py.
Everything talks to the server over sockets with the standard library (urllib, the
Wyoming event format), as any client would.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import packaged_config_text
from tests.ports import free_port

HEARTH = str(Path(sys.executable).with_name("hearth"))
TOKEN = "test-api-token-123"
SATELLITES = {  # name -> (token, area in the config or None)
    "kitchen": ("kitchen-token-1", "kitchen"),
    "bedroom": ("bedroom-token-1", None),
    "office": ("office-token-1", "office"),
}


def speech_file(folder: Path, say: Callable[[str], np.ndarray], text: str, *,
                pad_ms: int = 600) -> Path:
    """Synthesize ``text`` once per session (cached by name in ``folder``)."""
    from assistant.audio.files import write_wav

    path = folder / (text.lower().replace(" ", "_").replace(",", "").replace(".", "") + ".wav")
    if not path.exists():
        pad = np.zeros(16 * pad_ms, np.int16)
        write_wav(path, np.concatenate([pad, say(text), pad]))
    return path


def config_toml(*, port: int, wyoming_port: int, token: str | None = TOKEN,
                trusted: tuple[str, ...] = (), extra: str = "",
                tls: tuple[Path, Path] | None = None) -> str:
    lines = [packaged_config_text(), "[server]", f"port = {port}", f"wyoming_port = {wyoming_port}",
             'log_format = "json"', "shutdown_timeout_s = 20",
             f"wyoming_trusted = {json.dumps(list(trusted))}"]
    if token:
        lines.append(f'token = "{token}"')
    if tls:
        lines += [f'tls_cert = "{tls[0]}"', f'tls_key = "{tls[1]}"']
    for name, (sat_token, area) in SATELLITES.items():
        lines += ["", "[[server.satellites]]", f'name = "{name}"', f'token = "{sat_token}"']
        if area:
            lines.append(f'area = "{area}"')
    return "\n".join(lines) + "\n" + extra


@dataclass
class Server:
    """``hearth serve`` in a subprocess with its own data dir and ports."""

    folder: Path
    token: str | None = TOKEN
    trusted: tuple[str, ...] = ()
    extra: str = ""
    tls: tuple[Path, Path] | None = None
    env_extra: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    wyoming_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config = self.folder / "hearth.toml"
        self.config.write_text(config_toml(port=self.port, wyoming_port=self.wyoming_port,
                                           token=self.token, trusted=self.trusted,
                                           extra=self.extra, tls=self.tls))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "HEARTH_TOKEN"}
        env["HEARTH_DATA_DIR"] = str(self.data)
        env.update(self.env_extra)
        return env

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def wyoming(self) -> str:
        return f"{'tls' if self.tls else 'tcp'}://127.0.0.1:{self.wyoming_port}"

    def start(self, timeout: float = 120.0) -> Server:
        self._log_start = self.log.stat().st_size if self.log.exists() else 0
        self._log_file = open(self.log, "ab")  # noqa: SIM115 - closed in stop()
        self._signalled = False
        self.proc = subprocess.Popen([HEARTH, "serve", "--config", str(self.config)],
                                     stdout=self._log_file, stderr=self._log_file, env=self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hearth serve exited with {self.proc.returncode}:\n"
                                   + self.log.read_text()[-3000:])
            if any(r.get("msg") == "serving" for r in self.records(since_start=True)):
                return self
            time.sleep(0.2)
        raise RuntimeError("hearth serve did not start in time:\n" + self.log.read_text()[-3000:])

    def terminate(self, sig: int = signal.SIGTERM) -> None:
        """Ask the server to stop (once: a second SIGTERM means 'now')."""
        assert self.proc is not None
        if not self._signalled and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self._signalled = True

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        assert self.proc is not None
        self.terminate(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self._log_file.close()
        return rc

    def records(self, *, since_start: bool = False) -> list[dict[str, Any]]:
        out = []
        raw = self.log.read_bytes()[self._log_start if since_start else 0:]
        for line in raw.decode(errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    # --- HTTP ---------------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None, *, token: str | None = TOKEN,
                headers: dict[str, str] | None = None, timeout: float = 30.0,
                ) -> tuple[int, dict[str, str], bytes]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("content-type", "application/json")
        if token:
            req.add_header("authorization", f"Bearer {token}")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        handlers: list[Any] = [_NoRedirect]
        if self.tls:
            handlers.append(urllib.request.HTTPSHandler(context=self.ssl_context()))
        opener = urllib.request.build_opener(*handlers)
        try:
            with opener.open(req, timeout=timeout) as res:
                return res.status, dict(res.headers), res.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def ssl_context(self) -> ssl.SSLContext:
        assert self.tls is not None
        return ssl.create_default_context(cafile=str(self.tls[0]))

    def json(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        status, _, raw = self.request(method, path, body, **kw)
        assert status == 200, (status, raw[:500])
        return json.loads(raw)

    def entity_state(self, entity_id: str) -> str:
        home = self.json("GET", "/api/home", token=self.token)
        return next(e["state"] for e in home["entities"] if e["entity_id"] == entity_id)

    def sse(self, path: str = "/api/events", *, token: str | None = TOKEN,
            timeout: float = 30.0) -> Iterator[dict[str, Any]]:
        """Yield the JSON of each server-sent event."""
        req = urllib.request.Request(self.url + path)
        if token:
            req.add_header("authorization", f"Bearer {token}")
        ctx = self.ssl_context() if self.tls else None
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as res:
            assert res.headers["content-type"].startswith("text/event-stream")
            for raw in res:
                line = raw.decode().rstrip("\n")
                if line.startswith("data: "):
                    yield json.loads(line[6:])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def satellite(server: Server, name: str, wav: Path, *, area: str | None = None,
              token: str | None = None, output: Path | None = None,
              extra: tuple[str, ...] = ()) -> subprocess.Popen[bytes]:
    """Start ``hearth satellite`` (a separate process) streaming ``wav`` in real time."""
    sat_token, sat_area = SATELLITES.get(name, ("unknown-token-1", None))
    cmd = [HEARTH, "satellite", "--server", server.wyoming, "--name", name,
           "--area", area or sat_area or name, "--token", token or sat_token,
           "--input", str(wav), "--json", *extra]
    if output is not None:
        cmd += ["--output", str(output)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=server.env)


def finish(proc: subprocess.Popen[bytes], timeout: float = 120.0,
           ) -> tuple[int, list[dict[str, Any]], str]:
    out, err = proc.communicate(timeout=timeout)
    lines = [json.loads(x) for x in out.decode().splitlines() if x.startswith("{")]
    return proc.returncode, lines, err.decode()


# --- a minimal Wyoming client (what Home Assistant would send) ----------------------------

async def wyoming_exchange(port: int, events: list[tuple[str, dict[str, Any], bytes | None]],
                           until: Callable[[str], bool], timeout: float = 60.0,
                           ) -> list[tuple[str, dict[str, Any], bytes | None]]:
    """Send ``events`` and collect what comes back until ``until(type)`` (or EOF)."""
    from wyoming.event import Event, async_read_event, async_write_event

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    got: list[tuple[str, dict[str, Any], bytes | None]] = []
    try:
        for kind, data, payload in events:
            await async_write_event(Event(kind, data, payload), writer)

        async def collect() -> None:
            while True:
                ev = await async_read_event(reader)
                if ev is None:
                    return
                got.append((ev.type, ev.data, ev.payload))
                if until(ev.type):
                    return

        await asyncio.wait_for(collect(), timeout)
    finally:
        writer.close()
    return got


WyEvent = tuple[str, dict[str, Any], bytes | None]


def audio_events(samples: np.ndarray, chunk: int = 1024) -> list[WyEvent]:
    fmt = {"rate": 16000, "width": 2, "channels": 1}
    out: list[tuple[str, dict[str, Any], bytes | None]] = [("audio-start", fmt, None)]
    for i in range(0, len(samples), chunk):
        out.append(("audio-chunk", fmt, samples[i:i + chunk].astype("<i2").tobytes()))
    out.append(("audio-stop", {}, None))
    return out
