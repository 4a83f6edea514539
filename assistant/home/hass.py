"""The Home Assistant backend: its REST API for states and services, its WebSocket API
for the registries (areas, aliases, what is exposed to Assist) and live changes.

Start-up reads ``/api/states`` over REST and the registries over the WebSocket, then
subscribes to ``state_changed`` so turns read states from memory, and to the registry
events so a rename, a new area or alias, or a change of what Assist may see is read
again at once. The WebSocket reconnects with backoff and re-reads every state when it
comes back (re-sync). Service calls are ``POST /api/services/<domain>/<service>`` with
the long-lived token as a Bearer header; Hearth validates them first (services.py), so
a wrong value is refused the same way on every backend.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from assistant.errors import HomeError
from assistant.home import services
from assistant.home.base import Area, Entity, EntityState, HomeBackend
from assistant.home.exposure import KeptExposure
from assistant.home.hass_api import WS_MAX_MESSAGE, HassRest, features_of, naming, normalise
from assistant.home.hass_registry import Registries, choose, read_registries, with_aliases
from assistant.settings import HomeAssistantSettings

log = logging.getLogger(__name__)
REGISTRY_EVENTS = ("area_registry_updated", "device_registry_updated",
                   "entity_registry_updated")
REGISTRY_QUIET_S = 0.25
"""After a registry change, re-read once the events pause this long..."""
REGISTRY_MAX_WAIT_S = 2.0
"""...or at the latest this long after the first change."""

class HassHome(KeptExposure, HomeBackend):
    """A Home Assistant server, as a Hearth home."""

    def __init__(self, settings: HomeAssistantSettings, *,
                 extra_areas: Sequence[Area] = ()) -> None:
        if not settings.url.startswith(("http://", "https://")):
            raise HomeError(f"Home Assistant URL {settings.url!r} must start with http:// or "
                            "https://", code="config_invalid")
        if not settings.token:
            raise HomeError("Home Assistant needs a long-lived access token: set "
                            "$HEARTH_HASS_TOKEN or [home.homeassistant] token",
                            code="config_invalid")
        self.settings = settings
        self._token = settings.token
        self._rest = HassRest(settings, settings.token)
        self._extra_areas = list(extra_areas)
        self._lock = threading.Lock()
        self._states: dict[str, EntityState] = {}
        self._registries = Registries()
        self._backlog: list[str | bytes] = []
        self._next_id = 0
        self._exposed: tuple[list[Entity], list[Area]] | None = None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._ws_error: HomeError | None = None
        self._ws: ClientConnection | None = None
        self._ws_thread: threading.Thread | None = None
        self.ws_connected = False
        """True while the WebSocket follows live changes (states are then read from memory)."""
        self._start()

    # -- start-up and sync ----------------------------------------------------------

    def _start(self) -> None:
        answer = self._rest.call("GET", "/api/")
        if not isinstance(answer, dict) or "message" not in answer:
            raise HomeError(f"{self.settings.url} does not look like Home Assistant's API",
                            code="home_failed")
        if not self.settings.websocket:
            self._load_states()
            return
        self._ws_thread = threading.Thread(target=self._ws_loop, name="hearth-hass-ws",
                                           daemon=True)
        self._ws_thread.start()
        if not self._ready.wait(2 * self.settings.timeout_s + 1):  # several requests
            self.close()
            raise HomeError(f"Home Assistant's WebSocket API at {self.settings.url} did not "
                            "answer", code="unreachable")
        if self._ws_error is not None:
            error = self._ws_error
            self.close()
            raise error

    def _load_states(self) -> None:
        raw = self._rest.call("GET", "/api/states")
        if not isinstance(raw, list):
            raise HomeError("Home Assistant's /api/states is not a list", code="home_failed")
        states = {}
        for item in raw:
            try:
                st = normalise(item)
            except (KeyError, TypeError, AttributeError):
                log.warning("Home Assistant: ignoring a malformed state %r", str(item)[:80])
                continue
            states[st.entity_id] = st
        with self._lock:
            self._states = states
            self._exposed = None

    def _ws_url(self) -> str:
        base = self.settings.url
        return ("wss://" + base[len("https://"):] if base.startswith("https://")
                else "ws://" + base[len("http://"):]) + "/api/websocket"

    def _ws_loop(self) -> None:
        delay = self.settings.reconnect_min_s
        first = True
        while not self._stop.is_set():
            try:
                with connect(self._ws_url(), ssl=self._rest.ssl, proxy=None,
                             open_timeout=self.settings.timeout_s, max_size=WS_MAX_MESSAGE,
                             compression=None) as ws:
                    self._ws = ws
                    self._session(ws, resync=not first)
            except HomeError as exc:
                if not self._ready.is_set():
                    self._ws_error = exc
                    self._ready.set()
                    return
                log.warning("Home Assistant WebSocket: %s", exc)
            except (OSError, WebSocketException, ValueError, TimeoutError) as exc:
                if not self._ready.is_set():
                    self._ws_error = HomeError(
                        f"cannot open Home Assistant's WebSocket API at {self._ws_url()}: {exc}",
                        code="unreachable")
                    self._ready.set()
                    return
                if not self._stop.is_set():
                    log.warning("Home Assistant WebSocket lost (%s); reconnecting in %.1f s",
                                exc, delay)
            finally:
                self._ws = None
                if self.ws_connected:
                    delay = self.settings.reconnect_min_s
                self.ws_connected = False
            first = False
            if self._stop.wait(delay):
                return
            delay = min(delay * 2, self.settings.reconnect_max_s)

    def _session(self, ws: ClientConnection, *, resync: bool) -> None:
        """Authenticate, read the registries, subscribe, then follow events until closed."""
        hello = json.loads(ws.recv(timeout=self.settings.timeout_s))
        if hello.get("type") != "auth_required":
            raise HomeError(f"unexpected WebSocket greeting {hello.get('type')!r}",
                            code="home_failed")
        ws.send(json.dumps({"type": "auth", "access_token": self._token}))
        auth = json.loads(ws.recv(timeout=self.settings.timeout_s))
        if auth.get("type") != "auth_ok":
            raise HomeError(f"Home Assistant refused the access token on the WebSocket "
                            f"({auth.get('message', auth.get('type'))})", code="unauthorized")
        self._backlog, self._next_id = [], 0
        self._read_registries(ws)
        self._command(ws, {"type": "subscribe_events", "event_type": "state_changed"})
        for event_type in REGISTRY_EVENTS:  # without them, registries are read on reconnect
            self._ask(ws, {"type": "subscribe_events", "event_type": event_type})
        self._load_states()  # after subscribing, so no change falls in between
        if resync:
            log.info("Home Assistant WebSocket back; %d states re-read", len(self._states))
        self.ws_connected = True
        self._ready.set()
        changed = 0.0  # when a registry change was first seen (0: none pending)
        while not self._stop.is_set():
            text: str | bytes | None = None
            if self._backlog:
                text = self._backlog.pop(0)
            else:
                with contextlib.suppress(TimeoutError):
                    text = ws.recv(timeout=REGISTRY_QUIET_S if changed else 0.5)
            if text is not None and self._event(text) in REGISTRY_EVENTS:
                changed = changed or time.monotonic()
            # Read the registries once per burst (a start-up or a bulk edit sends many).
            if changed and (text is None or time.monotonic() - changed > REGISTRY_MAX_WAIT_S):
                self._read_registries(ws)
                self._notify("")
                changed = 0.0

    def _ask(self, ws: ClientConnection, msg: dict[str, Any]) -> tuple[bool, Any]:
        """Send a command; (True, result) or (False, error). Events that arrive before the
        reply wait in the backlog, so none is lost."""
        self._next_id += 1
        msg_id = self._next_id
        ws.send(json.dumps({"id": msg_id, **msg}))
        end = time.monotonic() + self.settings.timeout_s
        while True:
            text = ws.recv(timeout=max(0.01, end - time.monotonic()))
            reply = json.loads(text)
            if reply.get("id") != msg_id or reply.get("type") != "result":
                if reply.get("type") == "event":
                    self._backlog.append(text)
                continue
            if reply.get("success"):
                return True, reply.get("result")
            return False, reply.get("error") or {}

    def _command(self, ws: ClientConnection, msg: dict[str, Any]) -> Any:
        ok, result = self._ask(ws, msg)
        if not ok:
            raise HomeError(f"Home Assistant refused {msg['type']}: "
                            f"{result.get('message', 'no reason given')}", code="home_failed")
        return result

    def _read_registries(self, ws: ClientConnection) -> None:
        """Areas, entity areas and aliases, and Assist's exposure; the last two are
        optional (a server without the commands keeps Hearth's defaults)."""
        areas = self._command(ws, {"type": "config/area_registry/list"})
        devices = self._command(ws, {"type": "config/device_registry/list"})
        entities = self._command(ws, {"type": "config/entity_registry/list"})
        ids = [e["entity_id"] for e in entities or [] if isinstance(e, dict)
               and isinstance(e.get("entity_id"), str)]
        ok, details = self._ask(ws, {"type": "config/entity_registry/get_entries",
                                     "entity_ids": ids})
        shown, exposed = self._ask(ws, {"type": "homeassistant/expose_entity/list"})
        registries = read_registries(areas, devices, entities, details if ok else None,
                                     exposed if shown else None)
        with self._lock:
            self._registries = registries
            self._exposed = None

    def _event(self, text: str | bytes) -> str | None:
        """Apply one WebSocket message; the type of the event it was."""
        try:
            msg = json.loads(text)
            if msg.get("type") != "event":
                return None
            event_type = msg["event"].get("event_type", "state_changed")
            if event_type in REGISTRY_EVENTS:
                return str(event_type)
            data = msg["event"]["data"]
            entity_id = str(data["entity_id"])
            new = data.get("new_state")
            state = normalise(new) if new is not None else None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("Home Assistant WebSocket: ignoring a malformed event (%s)", exc)
            return None
        with self._lock:
            before = self._states.get(entity_id)
            if state is None:
                self._states.pop(entity_id, None)
            else:
                self._states[entity_id] = state
            if before is None or state is None or naming(before) != naming(state):
                self._exposed = None  # the entity list or a name changed
        self._notify(entity_id)
        return "state_changed"

    # -- HomeBackend ------------------------------------------------------------------

    def _exposure(self) -> tuple[list[Entity], list[Area]]:
        with self._lock:
            if self._exposed is None:
                reg = self._registries
                raw = [with_aliases(
                    Entity(
                        entity_id=s.entity_id,
                        name=str(s.attributes.get("friendly_name")
                                 or s.entity_id.split(".", 1)[1].replace("_", " ").title()),
                        area=reg.entity_area.get(s.entity_id),
                        features=features_of(s.entity_id, s.attributes),
                        device_class=dc if isinstance(dc := s.attributes.get("device_class"),
                                                      str) else None,
                        unit=u if isinstance(u := s.attributes.get("unit_of_measurement"),
                                             str) else None,
                    ), reg.aliases)
                    for s in self._states.values()
                ]
                entities, extra = choose(raw, self.settings.exposure, reg.assist)
                areas = {a.id: a for a in self._extra_areas}
                areas.update({a.id: a for a in reg.areas.values()})
                for a in extra:
                    areas.setdefault(a.id, a)
                entities.sort(key=lambda e: e.entity_id)
                self._exposed = (entities, sorted(areas.values(), key=lambda a: a.name))
            return self._exposed

    def get_state(self, entity_id: str) -> EntityState:
        self.entity(entity_id)
        if not self.ws_connected:
            # Without live events, ask (and keep the answer).
            raw = self._rest.call("GET", f"/api/states/{entity_id}")
            state = normalise(raw)
            with self._lock:
                self._states[entity_id] = state
            return state
        with self._lock:
            return self._states[entity_id]

    def call_service(self, service: str, entity_id: str, data: Mapping[str, Any]) -> EntityState:
        entity = self.entity(entity_id)
        with self._lock:
            known = self._states.get(entity_id)
        clean = services.validate(entity, service, data, known)
        with self._lock:
            current = self._states.get(entity_id)
        if current is not None and not current.available:
            raise HomeError(f"the {entity.name} is unavailable right now", code="unavailable")
        domain, _, name = service.partition(".")
        try:
            changed = self._rest.call("POST", f"/api/services/{domain}/{name}",
                                      {"entity_id": entity_id, **clean})
        except HomeError as exc:
            if exc.code == "unreachable":
                raise HomeError(f"the command for the {entity.name} could not be delivered, "
                                f"because {exc}", code="not_delivered") from None
            raise
        result: EntityState | None = None
        for item in changed if isinstance(changed, list) else []:
            try:
                st = normalise(item)
            except (KeyError, TypeError, AttributeError):
                continue
            with self._lock:
                self._states[st.entity_id] = st
            if st.entity_id == entity_id:
                result = st
        if result is None:
            result = normalise(self._rest.call("GET", f"/api/states/{entity_id}"))
            with self._lock:
                self._states[entity_id] = result
        return result

    def close(self) -> None:
        self._stop.set()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(OSError, WebSocketException):
                ws.close()
        if self._ws_thread is not None and self._ws_thread is not threading.current_thread():
            self._ws_thread.join(timeout=3)
