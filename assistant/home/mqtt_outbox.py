"""The MQTT backend's way out: the broker's address and a client for it from the settings, and the
:class:`Outbox` that sends commands with QoS 1 in order, holds them while the broker is
away (bounded) and drops any not acknowledged in time."""

from __future__ import annotations

import collections
import contextlib
import logging
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from assistant.errors import HomeError
from assistant.home.settings import MqttSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def broker_address(settings: MqttSettings) -> BrokerAddress:
    """``mqtt://user:pass@host:port`` (or ``mqtts://``) plus the settings' overrides."""
    parts = urlsplit(settings.url)
    tls = parts.scheme in ("mqtts", "ssl")
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise HomeError(f"MQTT URL {settings.url!r} must start with mqtt:// or mqtts://",
                        code="config_invalid")
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise HomeError(f"MQTT URL {settings.url!r} has a bad port",
                        code="config_invalid") from None
    if not parts.hostname:
        raise HomeError(f"MQTT URL {settings.url!r} has no host", code="config_invalid")
    return BrokerAddress(
        host=parts.hostname,
        port=port,
        username=settings.username or (unquote(parts.username) if parts.username else None),
        password=settings.password or (unquote(parts.password) if parts.password else None),
        tls=settings.tls if settings.tls is not None else tls,
    )


def new_client(settings: MqttSettings, address: BrokerAddress) -> paho.Client:
    """A paho client for ``address``: MQTT 3.1.1, a clean session, credentials and TLS as
    configured, reconnecting with exponential backoff (callbacks are the caller's)."""
    client = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=settings.client_id or f"hearth-{uuid.uuid4().hex[:10]}",
        protocol=paho.MQTTv311,
        clean_session=True,
    )
    if address.username:
        client.username_pw_set(address.username, address.password)
    if address.tls:
        client.tls_set(
            ca_certs=str(settings.ca_certs) if settings.ca_certs else None,
            certfile=str(settings.certfile) if settings.certfile else None,
            keyfile=str(settings.keyfile) if settings.keyfile else None,
        )
        client.tls_insecure_set(settings.tls_insecure)
    # paho accepts float delays although it annotates int.
    client.reconnect_delay_set(settings.reconnect_min_s, settings.reconnect_max_s)  # type: ignore[arg-type]
    return client


def no_delay(client: paho.Client) -> None:
    """Turn off Nagle's algorithm: a command is one small packet that must go now, not
    wait up to 40 ms for the previous one's TCP acknowledgement (paho leaves it on)."""
    sock = client.socket()
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


@dataclass(eq=False)
class Command:
    """One message on its way to the broker."""

    topic: str
    payload: str
    retain: bool = False
    status: str = "queued"
    """queued -> inflight -> acked, or dropped."""
    done: threading.Event = field(default_factory=threading.Event)
    acked_at: float = 0.0


class Outbox:
    """QoS 1 commands in order, one in flight at a time, held while disconnected.

    One message in flight keeps the order even across a reconnect (paho re-sends an
    unacknowledged message itself, before anything newer); on a local broker a round
    trip is well under a millisecond, so this costs nothing a person would notice.
    """

    def __init__(self, client: paho.Client, limit: int) -> None:
        self._client = client
        self._limit = limit
        self._cond = threading.Condition()
        self._queue: collections.deque[Command] = collections.deque()
        self._inflight: Command | None = None
        self._inflight_mid: int | None = None
        self._early_acks: set[int] = set()
        self._connected = False
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="hearth-mqtt-outbox", daemon=True)
        self._thread.start()

    @property
    def connected(self) -> bool:
        return self._connected

    def set_connected(self, connected: bool) -> None:
        with self._cond:
            self._connected = connected
            self._cond.notify_all()

    def submit(self, messages: Sequence[tuple[str, str]], retain: bool) -> list[Command]:
        """Queue ``messages`` back to back; refused whole if the queue is full."""
        cmds = [Command(t, p, retain) for t, p in messages]
        with self._cond:
            if len(self._queue) + len(cmds) > self._limit:
                raise HomeError(
                    f"{len(self._queue)} commands are already waiting for the MQTT broker",
                    code="queue_full",
                )
            self._queue.extend(cmds)
            self._cond.notify_all()
        return cmds

    def wait(self, cmds: Sequence[Command], timeout: float) -> bool:
        """True once all are acknowledged; on timeout, drop those not yet sent."""
        deadline = time.monotonic() + timeout
        for cmd in cmds:
            if not cmd.done.wait(max(0.0, deadline - time.monotonic())):
                self.drop(cmds)
                return False
        return all(c.status == "acked" for c in cmds)

    def drop(self, cmds: Sequence[Command]) -> None:
        with self._cond:
            for cmd in cmds:
                if cmd.status == "queued":
                    self._queue.remove(cmd)
                    cmd.status = "dropped"
                    cmd.done.set()

    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + (self._inflight is not None)

    def on_publish(self, mid: int) -> None:
        """paho's PUBACK callback (network thread); never calls back into paho."""
        with self._cond:
            if self._inflight is not None and self._inflight_mid == mid:
                self._complete()
            else:
                self._early_acks.add(mid)

    def _complete(self) -> None:
        cmd = self._inflight
        assert cmd is not None
        cmd.status = "acked"
        cmd.acked_at = time.monotonic()
        cmd.done.set()
        self._inflight = None
        self._inflight_mid = None
        self._early_acks.clear()
        self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and (
                    not self._connected or not self._queue or self._inflight is not None
                ):
                    self._cond.wait()
                if self._stopping:
                    return
                cmd = self._queue.popleft()
                cmd.status = "inflight"
                self._inflight = cmd
                self._early_acks.clear()
            info = self._client.publish(cmd.topic, cmd.payload, qos=1, retain=cmd.retain)
            with self._cond:
                self._inflight_mid = info.mid
                if info.mid in self._early_acks and self._inflight is cmd:
                    self._complete()

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            for cmd in [*self._queue, *([self._inflight] if self._inflight else [])]:
                if not cmd.done.is_set():
                    cmd.status = "dropped"
                    cmd.done.set()
            self._queue.clear()
            self._cond.notify_all()
        self._thread.join(timeout=2)
