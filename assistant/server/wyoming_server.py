"""The Wyoming TCP (or TLS) server: satellites and voice-engine clients.

Wyoming itself has no authentication; Hearth adds it at the first event:

* a satellite sends ``info`` with a ``satellite`` block and its ``token``: unknown
  names, wrong tokens and unknown areas are refused (``error`` + close) and logged;
* a service client sends ``auth`` with the API token — or connects from a trusted
  address (``server.wyoming_trusted``, loopback by default: Home Assistant on the same
  box), and then may describe, detect, transcribe, handle and synthesize.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from typing import Any
from urllib.parse import urlparse

from wyoming.event import Event, async_write_event

from assistant.errors import HearthError
from assistant.limits import WYOMING_OUTBOX_EVENTS
from assistant.server import wyoming_proto as wp
from assistant.server.auth import tokens_match
from assistant.server.context import ServerContext
from assistant.server.records import SatelliteStatus
from assistant.server.services import ServiceRequests
from assistant.server.session import SatelliteSession
from assistant.server.settings import SatelliteSettings
from assistant.server.streams import Outbox, StopGate

log = logging.getLogger(__name__)

AUTH_TIMEOUT_S = 10.0


class Refused(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class WyomingServer:
    def __init__(self, ctx: ServerContext, gate: StopGate, *,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.ctx = ctx
        self.gate = gate
        self.ssl_context = ssl_context
        self.sessions: dict[str, Connection] = {}
        self.connections: set[Connection] = set()
        self._server: asyncio.Server | None = None
        self._callers: list[asyncio.Task[None]] = []

    async def start(self, sock: socket.socket) -> None:
        self._server = await asyncio.start_server(self._on_connect, sock=sock, ssl=self.ssl_context)

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Connection(self, reader, writer)
        self.connections.add(conn)
        try:
            await conn.run()
        finally:
            self.connections.discard(conn)

    def status(self) -> list[SatelliteStatus]:
        out = []
        for sat in self.ctx.settings.server.satellites:
            conn = self.sessions.get(sat.name)
            sess = conn.session if conn else None
            out.append(SatelliteStatus(
                name=sat.name, area=sess.area if sess else sat.area, connected=sess is not None,
                peer=conn.peer if conn else None, wake_on=sess.wake_on if sess else None,
                backlog_s=round(sess.backlog_s, 2) if sess else 0.0))
        return out

    def update_gauges(self) -> None:
        m = self.ctx.metrics
        m.satellites.set(len(self.sessions))
        for name, conn in list(self.sessions.items()):
            if conn.session is not None:
                m.backlog.labels(name).set(conn.session.backlog_s)

    def start_calling(self) -> None:
        """Call the satellites that wait to be called (``uri``), and keep calling them."""
        for sat in self.ctx.settings.server.satellites:
            if sat.uri is not None:
                self._callers.append(asyncio.create_task(self._keep_calling(sat)))

    async def _keep_calling(self, sat: SatelliteSettings) -> None:
        parsed = urlparse(str(sat.uri))
        host, port = str(parsed.hostname), int(parsed.port or 0)
        backoff = 1.0
        while not self.gate.stopping:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(host, port), 10.0)
            except (OSError, TimeoutError) as exc:
                log.info("satellite not reachable", extra={"fields": {
                    "satellite": sat.name, "uri": sat.uri, "reason": str(exc) or "timeout"}})
                await asyncio.sleep(backoff)
                backoff = min(30.0, backoff * 2)
                continue
            backoff = 1.0
            conn = Connection(self, reader, writer, dialed=sat)
            self.connections.add(conn)
            try:
                await conn.run()
            finally:
                self.connections.discard(conn)
            if not self.gate.stopping:
                await asyncio.sleep(1.0)

    async def stop(self, timeout_s: float) -> None:
        """Stop accepting; let every satellite finish its turn (the gate is already
        stopping), then close every connection."""
        if self._server is not None:
            self._server.close()
        conns = list(self.connections)
        await asyncio.gather(*(c.finish(timeout_s) for c in conns), return_exceptions=True)
        # and wait for each to flush its last events and close its socket
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(c.done.wait() for c in conns)), 10.0)
        for task in self._callers:  # their connections are over: stop calling
            task.cancel()


class Connection:
    def __init__(self, server: WyomingServer, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, dialed: SatelliteSettings | None = None) -> None:
        self.server = server
        self.dialed = dialed
        """Set when the server called this satellite (``uri``), as Home Assistant does."""
        self.ctx = server.ctx
        self.reader = reader
        self.writer = writer
        peer = writer.get_extra_info("peername")
        self.peer_host = str(peer[0]) if peer else "?"
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        self.outbox = Outbox(asyncio.get_running_loop())
        self.session: SatelliteSession | None = None
        self.services: ServiceRequests | None = None
        self._writer_task: asyncio.Task[None] | None = None
        self._closed = asyncio.Event()
        self.done = asyncio.Event()
        self._conv = wp.converter()

    async def send(self, event: Event) -> None:
        self.outbox.post(event)

    async def _write_loop(self) -> None:
        while True:
            item = await self.outbox.queue.get()
            if item is None:
                break
            try:
                await async_write_event(item, self.writer)
            except (ConnectionError, RuntimeError, OSError):
                self.outbox.closed = True
                break

    async def run(self) -> None:
        self._writer_task = asyncio.create_task(self._write_loop())
        try:
            if self.dialed is not None:
                if not await self._call(self.dialed):
                    return
            else:
                first = await asyncio.wait_for(wp.read_event(self.reader), AUTH_TIMEOUT_S)
                if first is None:
                    return
                try:
                    await self._authenticate(first)
                except Refused as exc:
                    self._refuse(exc)
                    return
            while not self._closed.is_set():
                event = await wp.read_event(self.reader)
                if event is None:
                    break
                if (waiting := self.outbox.queue.qsize()) > WYOMING_OUTBOX_EVENTS:
                    raise wp.BadEvent(f"the peer sends requests but reads no answers "
                                      f"({waiting} events waiting)")
                await self._dispatch(event)
        except TimeoutError:
            self._refuse(Refused("timeout", "no authentication within "
                                 f"{AUTH_TIMEOUT_S:.0f} s"))
        except wp.BadEvent as exc:  # a wrong type, a missing field, a size over the limit
            self._refuse(Refused("bad_event", str(exc)), code="bad_event")
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError) as exc:
            log.info("wyoming connection dropped", extra={"fields": {"peer": self.peer,
                                                                    "reason": str(exc)}})
        except Exception:  # a bug, not the peer's fault: this connection ends, the others go on
            log.exception("wyoming connection failed", extra={"fields": {"peer": self.peer}})
            self.outbox.post(wp.error("the server failed on this request", "internal"))
        finally:
            try:
                await self._cleanup()
            finally:
                self.done.set()

    def _refuse(self, exc: Refused, code: str = "unauthorized") -> None:
        self.ctx.metrics.refusals.labels(exc.reason).inc()
        log.warning("wyoming connection refused", extra={"fields": {
            "peer": self.peer, "reason": exc.reason, "detail": str(exc)}})
        self.outbox.post(wp.error(f"refused: {exc}", code))

    # --- authentication --------------------------------------------------------------

    async def _authenticate(self, first: Event) -> None:
        server_settings = self.ctx.settings.server
        if first.type == "info" and isinstance(first.data.get("satellite"), dict):
            await self._accept_satellite(first.data["satellite"], first.data.get("token"))
            return
        if first.type == wp.AUTH:
            if not tokens_match(str(first.data.get("token", "")), server_settings.token):
                raise Refused("wrong_token", "wrong API token")
            self.services = ServiceRequests(self.ctx, self.send, client=f"wyoming:{self.peer_host}")
            log.info("wyoming client authenticated", extra={"fields": {"peer": self.peer}})
            return
        if self.peer_host in server_settings.wyoming_trusted:
            self.services = ServiceRequests(self.ctx, self.send, client=f"wyoming:{self.peer_host}")
            await self._dispatch(first)
            return
        raise Refused("unauthenticated", "send a satellite 'info' with its token, or 'auth' with "
                      "the API token, first")

    async def _accept_satellite(self, sat: dict[str, Any], token: object) -> None:
        name = str(sat.get("name", ""))
        known = self.ctx.settings.server.satellite(name)
        if known is None:
            raise Refused("unknown_satellite", f"unknown satellite {name!r}")
        if known.token is None:
            raise Refused("called_only", f"satellite {name!r} is called by the server, "
                          "not the other way round")
        if not isinstance(token, str) or not tokens_match(token, known.token):
            raise Refused("wrong_token", f"wrong token for satellite {name!r}")
        area_name = known.area or sat.get("area")
        if not area_name:
            raise Refused("no_area", f"satellite {name!r} has no area (give --area)")
        try:
            area = self.ctx.brain.home.area(str(area_name)).id
        except HearthError as exc:
            raise Refused("unknown_area", str(exc)) from None
        self._register(name, area, known.wake_word)

    def _register(self, name: str, area: str, wake_word: str | None) -> None:
        old = self.server.sessions.get(name)
        if old is not None:
            log.info("satellite reconnected; closing its old connection",
                     extra={"fields": {"satellite": name, "old_peer": old.peer}})
            old.kick()
        self.session = SatelliteSession(
            self.ctx, self.server.gate, self.outbox, name=name, area=area,
            wake_word=wake_word or self.ctx.settings.wake.default, peer=self.peer)
        self.server.sessions[name] = self
        self.server.update_gauges()
        self.services = ServiceRequests(self.ctx, self.send, client=name, room=f"satellite:{name}")
        log.info("satellite connected", extra={"fields": {"satellite": name, "area": area,
                                                         "peer": self.peer}})
        self.ctx.hub.publish({"type": "satellite", "source": name, "area": area,
                              "connected": True, "peer": self.peer})
        self.outbox.post(Event("run-satellite"))

    async def _call(self, sat: SatelliteSettings) -> bool:
        """A satellite the server called: ask who it is, then tell it to stream."""
        self.outbox.post(Event("describe"))
        deadline = asyncio.get_running_loop().time() + AUTH_TIMEOUT_S
        while True:
            left = deadline - asyncio.get_running_loop().time()
            event = await asyncio.wait_for(wp.read_event(self.reader), max(0.1, left))
            if event is None:
                return False
            if event.type == "info":
                break
        assert sat.area is not None  # the settings insist on it for called satellites
        try:
            area = self.ctx.brain.home.area(sat.area).id
        except HearthError as exc:
            self._refuse(Refused("unknown_area", str(exc)))
            return False
        self._register(sat.name, area, sat.wake_word)
        return True

    # --- events ------------------------------------------------------------------------

    async def _dispatch(self, event: Event) -> None:
        kind = event.type
        if kind == "ping":
            self.outbox.post(Event("pong", {"text": event.data.get("text")}))
            return
        sess = self.session
        if sess is not None:
            if kind == "run-pipeline":
                await self._start_run(sess, event)
                return
            if kind == "audio-start":
                self._conv = wp.converter()
                return
            if kind == "audio-chunk":
                sess.audio(wp.to_pcm16k(event, self._conv))
                self.ctx.metrics.backlog.labels(sess.name).set(sess.backlog_s)
                return
            if kind == "audio-stop":
                sess.audio_stop()
                return
            if kind in ("detection", "run-satellite", "pause-satellite", "streaming-started",
                        "streaming-stopped", "played"):
                return  # informational
        if self.services is not None and await self.services.on_event(event):
            return
        log.debug("ignoring wyoming event", extra={"fields": {"type": kind, "peer": self.peer}})

    async def _start_run(self, sess: SatelliteSession, event: Event) -> None:
        if self.server.gate.stopping:
            self.outbox.post(wp.error("the server is shutting down", "stopping"))
            self.outbox.post(wp.run_ended(0, stopping=True))
            return
        stage = str(event.data.get("start_stage", "wake"))
        self._conv = wp.converter()
        if sess.running:  # a new run replaces the old (stock satellites restart runs freely)
            sess.audio_stop()
            await asyncio.to_thread(sess.drain, 5.0)
        try:
            await asyncio.to_thread(sess.start_run, stage)
        except HearthError as exc:
            self.outbox.post(wp.error(str(exc), exc.code))

    # --- the end -----------------------------------------------------------------------

    def kick(self) -> None:
        """Another connection took this satellite's name."""
        self._closed.set()
        if self.session is not None:
            self.session.audio_stop()
        with contextlib.suppress(Exception):
            self.reader.feed_eof()

    async def finish(self, timeout_s: float) -> None:
        """Shutdown: wait for the satellite's current turn, then close."""
        if self.session is not None:
            finished = await asyncio.to_thread(self.session.drain, timeout_s + 1.0)
            if not finished:
                log.warning("turn cancelled at shutdown", extra={"fields": {
                    "satellite": self.session.name}})
        self._closed.set()
        with contextlib.suppress(Exception):
            self.reader.feed_eof()

    async def _cleanup(self) -> None:
        sess = self.session
        if sess is not None:
            # the satellite is gone (or we are stopping): end its stream; a turn in progress
            # finishes with the audio it has.
            wait = 2.0 if self.server.gate.stopping else self.ctx.settings.server.shutdown_timeout_s
            await asyncio.to_thread(sess.close, wait)
            if self.server.sessions.get(sess.name) is self:
                del self.server.sessions[sess.name]
                with contextlib.suppress(KeyError):
                    self.ctx.metrics.backlog.remove(sess.name)
            self.server.update_gauges()
            log.info("satellite disconnected", extra={"fields": {"satellite": sess.name,
                                                                "turns": sess.turns}})
            self.ctx.hub.publish({"type": "satellite", "source": sess.name, "area": sess.area,
                                  "connected": False, "peer": self.peer})
        self.outbox.close()
        if self._writer_task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._writer_task, 5.0)
        with contextlib.suppress(Exception):
            self.writer.close()
            await asyncio.wait_for(self.writer.wait_closed(), 2.0)

