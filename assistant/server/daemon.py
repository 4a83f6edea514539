"""``hearth serve``: the long-running daemon.

Start-up order is chosen so that every mistake fails fast with one line: settings
(unsafe bind without a token), then the sockets (port in use), then the models
(missing or corrupt), then the microphone. Only then does it serve.

On SIGTERM (or SIGINT): stop accepting, let each source finish the turn it is in
(``server.shutdown_timeout_s`` at most, then cancel), let in-flight HTTP requests end,
end the event streams, close the home's database and flush the logs; exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import ssl
import time
from collections.abc import Generator, Mapping
from typing import Any

import uvicorn

from assistant import __version__
from assistant.config import Settings
from assistant.errors import ConfigError, HearthError
from assistant.server.logs import flush_logs
from assistant.server.settings import ServerSettings
from assistant.server.streams import StopGate

log = logging.getLogger("hearth.server")


def bind(host: str, port: int, what: str) -> socket.socket:
    """A listening socket now, so "address in use" is one clear line at start."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {host}:{port} for {what}: {exc.strerror}") from None
    family, kind, proto, _, addr = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise HearthError(f"cannot listen on {host}:{port} for {what}: {exc.strerror}",
                          code="address_in_use") from None
    sock.setblocking(False)
    return sock


def tls_context(server: ServerSettings) -> ssl.SSLContext | None:
    if server.tls_cert is None or server.tls_key is None:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(server.tls_cert, server.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the TLS certificate {server.tls_cert}: {exc}") from None
    return ctx


class Daemon:
    def __init__(self, settings: Settings) -> None:
        problem = settings.server.unsafe_binding()
        if problem:
            raise ConfigError(f"server settings: {problem}")
        self.settings = settings
        self.gate = StopGate()
        self._stop = asyncio.Event()
        self._sockets: list[socket.socket] = []

    def run(self) -> int:
        """Everything, until a signal. Returns the exit code."""
        s = self.settings.server
        http_sock = bind(s.host, s.port, "the HTTP API")
        self._sockets.append(http_sock)
        wy_sock = None
        if s.wyoming_port:
            wy_sock = bind(s.wyoming_bind, s.wyoming_port, "Wyoming")
            self._sockets.append(wy_sock)
        tls = tls_context(s)
        try:
            return asyncio.run(self._main(http_sock, wy_sock, tls))
        finally:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()
            flush_logs()

    async def _main(self, http_sock: socket.socket, wy_sock: socket.socket | None,
                    tls: ssl.SSLContext | None) -> int:
        from assistant.server.announcer import Announcer
        from assistant.server.brain import Brain
        from assistant.server.context import ServerContext
        from assistant.server.http import create_app
        from assistant.server.micloop import MicrophoneLoop
        from assistant.server.wyoming_server import WyomingServer

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)
        s = self.settings.server
        log.debug("loading models", extra={"fields": {"version": __version__}})
        brain = await asyncio.to_thread(Brain, self.settings)
        ctx = ServerContext.build(self.settings, brain)
        ctx.hub.add_listener(_log_record)
        log.info("models loaded", extra={"fields": {"seconds": round(brain.load_s, 2),
                                                    "local_llm_s": brain.llm_load_s}})
        mic: MicrophoneLoop | None = None
        try:
            if s.microphone:
                mic = await asyncio.to_thread(MicrophoneLoop, ctx, self.gate)
                ctx.microphone_running = lambda: mic is not None and mic.running
            wyoming: WyomingServer | None = None
            if wy_sock is not None:
                wyoming = WyomingServer(ctx, self.gate, ssl_context=tls)
                await wyoming.start(wy_sock)
                wyoming.start_calling()
                ctx.satellites_status = wyoming.status
            config = uvicorn.Config(
                create_app(ctx), log_config=None, access_log=False, lifespan="off",
                timeout_graceful_shutdown=5, ssl_certfile=str(s.tls_cert) if s.tls_cert else None,
                ssl_keyfile=str(s.tls_key) if s.tls_key else None)
            http = QuietServer(config)
            http_task = asyncio.create_task(http.serve(sockets=[http_sock]))
            if mic is not None:
                mic.start()

            def speakers() -> list[Any]:
                out: list[Any] = [mic] if mic is not None else []
                if wyoming is not None:
                    out += [c.session for c in list(wyoming.sessions.values()) if c.session]
                return out

            announcer = Announcer(ctx, speakers)
            announcer.start()
            log.info("serving", extra={"fields": {"version": __version__,
                "http": f"{'https' if tls else 'http'}://{s.host}:{s.port}",
                "wyoming": f"{'tls' if tls else 'tcp'}://{s.wyoming_bind}:{s.wyoming_port}"
                if wy_sock else None,
                "token": s.token is not None, "microphone": s.microphone,
                "satellites": [sat.name for sat in s.satellites]}})
            stop_wait = asyncio.create_task(self._stop.wait())
            done, _ = await asyncio.wait({http_task, stop_wait},
                                         return_when=asyncio.FIRST_COMPLETED)
            if http_task in done and not self._stop.is_set():
                exc = http_task.exception()
                raise HearthError(f"the HTTP server stopped: {exc}", code="server_failed")
            announcer.stop()
            await self._shutdown(ctx, http, http_task, wyoming, mic)
        finally:
            brain.close()
        log.info("shutdown complete")
        return 0

    def _on_signal(self, sig: int) -> None:
        if self._stop.is_set():
            log.warning("second signal: exiting now")
            raise SystemExit(1)
        log.info("shutting down", extra={"fields": {"signal": signal.Signals(sig).name}})
        self.gate.stop(self.settings.server.shutdown_timeout_s)
        self._stop.set()

    async def _shutdown(self, ctx: Any, http: Any, http_task: asyncio.Task[None],
                        wyoming: Any, mic: Any) -> None:
        t0 = time.monotonic()
        ctx.stopping = True
        timeout = self.settings.server.shutdown_timeout_s
        http.should_exit = True
        ctx.hub.close()  # ends the SSE streams, so uvicorn need not wait for them
        waits = [http_task]
        if wyoming is not None:
            waits.append(asyncio.create_task(wyoming.stop(timeout)))
        if mic is not None:
            waits.append(asyncio.create_task(self._join_mic(mic, timeout)))
        await asyncio.wait(waits, timeout=timeout + 8.0)
        log.info("sources stopped", extra={"fields": {
            "seconds": round(time.monotonic() - t0, 2), "turns": ctx.tracker.completed}})

    @staticmethod
    async def _join_mic(mic: Any, timeout: float) -> None:
        if not await asyncio.to_thread(mic.join, timeout + 1.0):
            log.warning("microphone turn cancelled at shutdown")


_LOGGED = {"turn", "error", "escalated", "wake"}


def _log_record(rec: Mapping[str, Any]) -> None:
    """Turns, wakes, errors and escalations go to the log as structured lines."""
    kind = rec.get("type")
    if kind in _LOGGED:
        level = logging.WARNING if kind == "error" else logging.INFO
        fields = {("event_ts" if k == "ts" else k): v for k, v in rec.items()
                  if k not in ("type", "candidates")}
        log.log(level, kind, extra={"fields": fields})


class QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the daemon owns SIGTERM (and uvicorn would
    re-raise the signal after its shutdown, killing the process before ours is done)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield
