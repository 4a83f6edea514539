"""The MQTT backend: devices found by Home Assistant MQTT discovery on a real broker.

Entities come from retained discovery messages (read at start, and followed after),
state from their state topics, availability from their availability topics. Commands
go out with QoS 1 through an :class:`Outbox` that keeps them in order, holds them while
the broker is away (bounded), and drops any that the broker has not acknowledged in
time, so a command is never applied long after the user was told it failed. paho
reconnects with exponential backoff; every subscription is renewed on reconnect, so
retained state is re-read (re-synced).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho

from assistant.errors import HomeError
from assistant.home import services
from assistant.home.base import Area, Entity, EntityState, HomeBackend
from assistant.home.exposure import KeptExposure, apply_exposure, area_id
from assistant.home.mqtt_entities import Discovered, DiscoveryError, parse_discovery, suggested_area
from assistant.home.mqtt_outbox import Outbox, broker_address, new_client, no_delay
from assistant.home.settings import MqttSettings
from assistant.limits import MQTT_PAYLOAD_BYTES

log = logging.getLogger(__name__)

QUIET_S = 0.1
"""Start-up is over once every subscription is acknowledged and the broker has sent
nothing for this long (retained messages follow the SUBACK at once)."""


@dataclass
class _Record:
    found: Discovered
    entity: Entity
    state: EntityState
    version: int = 0
    """Bumped on every state change (not availability), for confirmations."""
    seen: dict[str, bool] = field(default_factory=dict)
    latest: bool | None = None

    @property
    def available(self) -> bool:
        return self.found.availability.available(self.seen, self.latest)


@dataclass(frozen=True)
class CallTiming:
    """How long the last service call took: broker acknowledgement and device report."""

    entity_id: str
    published_ms: float
    confirmed_ms: float | None
    """None when the device did not report a state within ``confirm_timeout_s``."""


class MqttHome(KeptExposure, HomeBackend):
    """Entities from Home Assistant MQTT discovery; commands over QoS 1."""

    def __init__(self, settings: MqttSettings, *, extra_areas: Sequence[Area] = ()) -> None:
        self.settings = settings
        self.address = broker_address(settings)
        self._prefix = settings.discovery_prefix.strip("/")
        self._extra_areas = list(extra_areas)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._records: dict[str, _Record] = {}
        self._by_entity: dict[str, _Record] = {}
        self._routes: dict[str, list[tuple[_Record, str]]] = {}
        self._subscribed: set[str] = set()
        self._pending_subs: set[int] = set()
        self._last_activity = time.monotonic()
        self._exposed: tuple[list[Entity], list[Area]] | None = None
        self._connected = threading.Event()
        self._connect_error: str | None = None
        self._closing = False
        self._started = False
        self.last_timing: CallTiming | None = None
        """Called with an entity id (or "" for a discovery change) after each update."""

        self._client = new_client(settings, self.address)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._client.on_publish = self._on_publish
        self._outbox = Outbox(self._client, settings.queue_size)
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    # -- start-up ----------------------------------------------------------------

    def _start(self) -> None:
        self._client.connect_async(self.address.host, self.address.port, self.settings.keepalive_s)
        self._client.loop_start()
        if not self._connected.wait(self.settings.connect_timeout_s):
            raise HomeError(
                f"cannot reach the MQTT broker at {self.address} "
                f"(waited {self.settings.connect_timeout_s:g} s)", code="unreachable")
        if self._connect_error:
            raise HomeError(f"the MQTT broker at {self.address} refused the connection: "
                            f"{self._connect_error}", code="unauthorized")
        self.wait_until_quiet(self.settings.discovery_wait_s)
        self._started = True
        log.info("MQTT: %d entities discovered on %s", len(self._records), self.address)

    def wait_until_quiet(self, timeout: float) -> None:
        """Wait (at most ``timeout``) for subscriptions to settle and retained messages
        to arrive: discovery, then the state topics it names."""
        end = time.monotonic() + timeout
        with self._changed:
            while True:
                now = time.monotonic()
                quiet = now - self._last_activity
                if not self._pending_subs and quiet >= QUIET_S:
                    return
                if now >= end:
                    return
                self._changed.wait(min(end - now, max(0.01, QUIET_S - quiet)))

    # -- paho callbacks (network thread) ------------------------------------------

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        if reason.is_failure:
            self._connect_error = str(reason)
            # Before start-up ends the HomeError says it; after, a log line is all there is.
            (log.warning if self._started else log.debug)(
                "MQTT: the broker at %s refused the connection: %s", self.address, reason)
            self._connected.set()
            return
        log.info("MQTT: connected to %s", self.address)
        no_delay(client)
        with self._lock:
            self._subscribed.clear()
            self._last_activity = time.monotonic()
        self._subscribe([f"{self._prefix}/+/+/config", f"{self._prefix}/+/+/+/config",
                         *self._all_topics()])
        self._outbox.set_connected(True)
        self._connected.set()

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any,
                       properties: Any) -> None:
        self._outbox.set_connected(False)
        with self._lock:
            self._pending_subs.clear()
        if self._closing or not self._started:
            return
        log.warning("MQTT: lost the broker at %s (%s); reconnecting", self.address, reason)

    def _on_subscribe(self, client: paho.Client, userdata: Any, mid: int, reasons: Any,
                      properties: Any) -> None:
        with self._changed:
            self._pending_subs.discard(mid)
            self._last_activity = time.monotonic()
            self._changed.notify_all()

    def _on_publish(self, client: paho.Client, userdata: Any, mid: int, reason: Any,
                    properties: Any) -> None:
        self._outbox.on_publish(mid)

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        if len(msg.payload) > MQTT_PAYLOAD_BYTES:
            log.warning("MQTT: ignoring a payload of %d bytes on %s (the limit is %d)",
                        len(msg.payload), msg.topic, MQTT_PAYLOAD_BYTES)
            return
        try:
            payload = msg.payload.decode("utf-8")
        except UnicodeDecodeError:
            log.warning("MQTT: ignoring a payload on %s that is not UTF-8", msg.topic)
            return
        try:
            if msg.topic.startswith(self._prefix + "/") and msg.topic.endswith("/config"):
                self._discovery(msg.topic, payload)
            else:
                self._state(msg.topic, payload)
        except Exception:  # a bad message must never stop the network thread
            log.exception("MQTT: unexpected error handling %s", msg.topic)
        finally:
            with self._changed:
                self._last_activity = time.monotonic()
                self._changed.notify_all()

    # -- discovery ---------------------------------------------------------------

    def _discovery(self, topic: str, payload: str) -> None:
        parts = topic[len(self._prefix) + 1:].split("/")[:-1]
        if len(parts) not in (2, 3):
            return
        component, node, object_id = parts[0], (parts[1] if len(parts) == 3 else None), parts[-1]
        key = "/".join(parts)
        if not payload.strip():
            with self._lock:
                if key in self._records:
                    self._remove(key)
                    log.info("MQTT: %s removed by its device", key)
            self._notify("")
            return
        try:
            found = parse_discovery(component, node, object_id, payload)
        except (DiscoveryError, ValueError, TypeError, RecursionError) as exc:  # deep JSON too
            log.warning("MQTT: ignoring discovery on %s: %s", topic, exc)
            return
        with self._lock:
            old = self._records.get(key)
            if old is not None:
                self._remove(key)
            entity_id = self._unique_id(found.entity.entity_id)
            entity = found.entity if entity_id == found.entity.entity_id else \
                Entity(**{**found.entity.__dict__, "entity_id": entity_id})
            if old is not None and old.entity.entity_id == entity_id:
                state = EntityState(entity_id, old.state.state, old.state.attributes)
                record = _Record(found, entity, state, old.version, old.seen, old.latest)
            else:
                record = _Record(found, entity, EntityState(entity_id, found.initial.state,
                                                            dict(found.initial.attributes)))
            self._records[key] = record
            self._by_entity[entity_id] = record
            for t in found.component.state_topics():
                self._routes.setdefault(t, []).append((record, "state"))
            for t in found.availability.topics:
                self._routes.setdefault(t, []).append((record, "avail"))
            self._exposed = None
            new_topics = [t for t in (*found.component.state_topics(), *found.availability.topics)
                          if t not in self._subscribed]
        if old is None:
            log.info("MQTT: discovered %s (%s)", entity_id, found.entity.name)
        self._subscribe(new_topics)
        self._notify("")

    def _unique_id(self, wanted: str) -> str:
        for n in itertools.count(1):
            candidate = wanted if n == 1 else f"{wanted}_{n}"
            if candidate not in self._by_entity:
                return candidate
        raise AssertionError("unreachable")

    def _remove(self, key: str) -> None:
        record = self._records.pop(key)
        self._by_entity.pop(record.entity.entity_id, None)
        for topic in list(self._routes):
            self._routes[topic] = [r for r in self._routes[topic] if r[0] is not record]
        self._exposed = None

    def _all_topics(self) -> list[str]:
        with self._lock:
            return list(self._routes)

    def _subscribe(self, topics: Sequence[str]) -> None:
        topics = list(dict.fromkeys(topics))
        if not topics:
            return
        rc, mid = self._client.subscribe([(t, 1) for t in topics])
        if rc == paho.MQTT_ERR_SUCCESS and mid is not None:
            with self._lock:
                self._pending_subs.add(mid)
                self._subscribed.update(topics)

    # -- state -------------------------------------------------------------------

    def _state(self, topic: str, payload: str) -> None:
        changed: list[str] = []
        with self._changed:
            for record, kind in self._routes.get(topic, ()):
                name = record.entity.entity_id
                try:
                    if kind == "avail":
                        status = record.found.availability.status(topic, payload)
                        if status is None:
                            log.warning("MQTT: ignoring availability %r for %s on %s",
                                        payload[:60], name, topic)
                            continue
                        record.seen[topic] = status
                        record.latest = status
                    else:
                        new = record.found.component.update(topic, payload, record.state)
                        if new is None:
                            continue
                        record.state = new
                        record.version += 1
                except (ValueError, TypeError, KeyError, RecursionError) as exc:
                    log.warning("MQTT: ignoring state for %s on %s: %s", name, topic, exc)
                    continue
                changed.append(name)
            if changed:
                self._changed.notify_all()
        for name in changed:
            self._notify(name)

    # -- HomeBackend --------------------------------------------------------------

    def _exposure(self) -> tuple[list[Entity], list[Area]]:
        with self._lock:
            if self._exposed is None:
                entities, extra = apply_exposure(
                    (r.entity for r in self._records.values()), self.settings.exposure)
                areas: dict[str, Area] = {a.id: a for a in self._extra_areas}
                names = {r.entity.entity_id: suggested_area(r.found)
                         for r in self._records.values()}
                for e in entities:
                    name = names.get(e.entity_id)
                    if e.area and name and area_id(name) == e.area:
                        areas.setdefault(e.area, Area(e.area, name))
                for a in extra:
                    areas.setdefault(a.id, a)
                for e in entities:
                    if e.area and e.area not in areas:
                        areas[e.area] = Area(e.area, e.area.replace("_", " ").title())
                entities.sort(key=lambda e: e.entity_id)
                self._exposed = (entities, sorted(areas.values(), key=lambda a: a.name))
            return self._exposed

    def get_state(self, entity_id: str) -> EntityState:
        self.entity(entity_id)
        with self._lock:
            record = self._by_entity[entity_id]
            return self._snapshot(record)

    @staticmethod
    def _snapshot(record: _Record) -> EntityState:
        s = record.state
        return EntityState(s.entity_id, s.state, dict(s.attributes), record.available)

    def call_service(self, service: str, entity_id: str, data: Mapping[str, Any]) -> EntityState:
        entity = self.entity(entity_id)
        clean = services.validate(entity, service, data)
        with self._lock:
            record = self._by_entity[entity_id]
            current = self._snapshot(record)
            version = record.version
        if not current.available:
            raise HomeError(f"the {entity.name} is unavailable right now", code="unavailable")
        component = record.found.component
        try:
            messages = component.command(service.partition(".")[2], clean, current)
        except (ValueError, KeyError) as exc:
            raise HomeError(f"the {entity.name} can't do that: {exc}",
                            code="invalid_value") from None
        predicted = services.apply(entity, current, service, clean)
        t0 = time.monotonic()
        cmds = self._outbox.submit(messages, component.retain)
        if not self._outbox.wait(cmds, self.settings.command_timeout_s):
            why = ("the MQTT broker did not acknowledge it" if self._outbox.connected
                   else f"the MQTT broker at {self.address} is unreachable")
            raise HomeError(
                f"the command for the {entity.name} could not be delivered within "
                f"{self.settings.command_timeout_s:g} seconds, because {why}", code="not_delivered")
        published = (cmds[-1].acked_at - t0) * 1000
        if component.optimistic:
            with self._changed:
                record.state = EntityState(entity_id, predicted.state, dict(predicted.attributes))
                record.version += 1
                self._changed.notify_all()
            self.last_timing = CallTiming(entity_id, published, published)
            return self._snapshot(record)
        with self._changed:
            confirmed = self._changed.wait_for(
                lambda: record.version > version and record.state.state == predicted.state,
                timeout=self.settings.confirm_timeout_s)
            state = self._snapshot(record)
        self.last_timing = CallTiming(
            entity_id, published, (time.monotonic() - t0) * 1000 if confirmed else None)
        if not confirmed:
            log.info("MQTT: %s did not report its new state within %g s; assuming %s",
                     entity_id, self.settings.confirm_timeout_s, predicted.state)
            return EntityState(entity_id, predicted.state, dict(predicted.attributes),
                               state.available)
        return state

    @property
    def connected(self) -> bool:
        return self._outbox.connected

    def close(self) -> None:
        self._closing = True
        self._outbox.close()
        try:
            self._client.disconnect()
        finally:
            self._client.loop_stop()
