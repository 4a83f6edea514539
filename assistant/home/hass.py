"""The Home Assistant backend: its REST API for states and services, its WebSocket API
for registries (areas) and live state changes.

Start-up reads ``/api/states`` over REST and the area, device and entity registries
over the WebSocket, then subscribes to ``state_changed`` so turns read states from
memory. The WebSocket reconnects with backoff and re-reads every state when it comes
back (re-sync). Service calls are ``POST /api/services/<domain>/<service>`` with the
long-lived token as a Bearer header; Hearth validates them first (services.py), so a
wrong value is refused the same way on every backend.
"""

from __future__ import annotations

import contextlib
import json
import logging
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any

from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from assistant.errors import HomeError
from assistant.home import services
from assistant.home.base import Area, Entity, EntityState, HomeBackend
from assistant.home.exposure import apply_exposure
from assistant.home.settings import HomeAssistantSettings

log = logging.getLogger(__name__)

COLOR_MODES = frozenset({"hs", "xy", "rgb", "rgbw", "rgbww"})
# Home Assistant's supported_features bits Hearth cares about.
FAN_SET_SPEED = 1
COVER_SET_POSITION = 4
MEDIA_VOLUME_SET = 4
LIGHT_LEGACY_BRIGHTNESS = 1
LIGHT_LEGACY_COLOR = 16
WS_MAX_MESSAGE = 32 * 1024 * 1024


def features_of(entity_id: str, attributes: Mapping[str, Any]) -> frozenset[str]:
    """Hearth's feature names from a Home Assistant state's attributes."""
    domain = entity_id.split(".", 1)[0]
    bits = attributes.get("supported_features", 0)
    bits = bits if isinstance(bits, int) else 0
    out: set[str] = set()
    if domain == "light":
        modes = attributes.get("supported_color_modes") or []
        modes = set(modes) if isinstance(modes, list) else set()
        if (modes - {"onoff"}) or bits & LIGHT_LEGACY_BRIGHTNESS:
            out.add("dimmable")
        if modes & COLOR_MODES or bits & LIGHT_LEGACY_COLOR:
            out.add("color")
    elif domain == "fan" and bits & FAN_SET_SPEED:
        out.add("speed")
    elif domain == "cover" and bits & COVER_SET_POSITION:
        out.add("position")
    elif domain == "media_player" and bits & MEDIA_VOLUME_SET:
        out.add("volume")
    return frozenset(out)


def normalise(raw: Mapping[str, Any]) -> EntityState:
    """A Home Assistant state object -> EntityState (brightness 0-255 -> brightness_pct)."""
    entity_id = str(raw["entity_id"])
    attrs = dict(raw.get("attributes") or {})
    brightness = attrs.get("brightness")
    if isinstance(brightness, (int, float)) and not isinstance(brightness, bool):
        attrs["brightness_pct"] = round(brightness * 100 / 255)
    state = str(raw.get("state", "unknown"))
    return EntityState(entity_id, state, attrs, available=state != "unavailable")


def _naming(state: EntityState) -> tuple[Any, ...]:
    """What an entity's name and capabilities are read from (a change rebuilds the list)."""
    a = state.attributes
    return (a.get("friendly_name"), a.get("device_class"), a.get("supported_features"),
            a.get("supported_color_modes"))


class _Rest:
    """The REST API with the token; every failure becomes one HomeError."""

    def __init__(self, settings: HomeAssistantSettings, token: str) -> None:
        self.base = settings.url
        self.timeout = settings.timeout_s
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        context: ssl.SSLContext | None = None
        if self.base.startswith("https://"):
            context = ssl.create_default_context(
                cafile=str(settings.ca_certs) if settings.ca_certs else None)
            if not settings.verify_tls:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
        self.ssl = context
        # No proxies: Home Assistant is on the home network.
        self._opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers=self._headers)
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                text = resp.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            detail = _error_message(exc)
            if exc.code in (401, 403):
                raise HomeError(f"Home Assistant at {self.base} refused the access token "
                                f"({exc.code})", code="unauthorized") from None
            if exc.code == 404:
                raise HomeError(f"Home Assistant has no {path} ({detail})",
                                code="unknown_entity") from None
            code = "invalid_value" if exc.code == 400 else "home_failed"
            raise HomeError(f"Home Assistant said {exc.code}: {detail}", code=code) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise HomeError(f"Home Assistant at {self.base} did not answer ({reason})",
                            code="unreachable") from None
        try:
            return json.loads(text) if text else None
        except ValueError:
            raise HomeError(f"Home Assistant sent something that is not JSON for {path}",
                            code="home_failed") from None


def _error_message(exc: urllib.error.HTTPError) -> str:
    try:
        body = exc.read().decode("utf-8", "replace")
        obj = json.loads(body)
        if isinstance(obj, dict) and isinstance(obj.get("message"), str):
            return str(obj["message"])
        return body[:200]
    except (ValueError, OSError):
        return str(exc.reason)


class HassHome(HomeBackend):
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
        self._rest = _Rest(settings, settings.token)
        self._extra_areas = list(extra_areas)
        self._lock = threading.Lock()
        self._states: dict[str, EntityState] = {}
        self._areas: dict[str, Area] = {}
        self._entity_area: dict[str, str] = {}
        self._exposed: tuple[list[Entity], list[Area]] | None = None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._ws_error: HomeError | None = None
        self._ws: ClientConnection | None = None
        self._ws_thread: threading.Thread | None = None
        self.ws_connected = False
        """Called with an entity id after each state change seen on the WebSocket."""
        self._start()

    # -- start-up and sync ----------------------------------------------------------

    def _start(self) -> None:
        answer = self._rest.call("GET", "/api/")
        if not isinstance(answer, dict) or "message" not in answer:
            raise HomeError(f"{self.settings.url} does not look like Home Assistant's API",
                            code="home_failed")
        self._load_states()
        if not self.settings.websocket:
            return
        self._ws_thread = threading.Thread(target=self._ws_loop, name="hearth-hass-ws",
                                           daemon=True)
        self._ws_thread.start()
        if not self._ready.wait(self.settings.timeout_s + 1):
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
        areas = self._command(ws, 1, {"type": "config/area_registry/list"})
        devices = self._command(ws, 2, {"type": "config/device_registry/list"})
        registry = self._command(ws, 3, {"type": "config/entity_registry/list"})
        self._command(ws, 4, {"type": "subscribe_events", "event_type": "state_changed"})
        self._apply_registries(areas, devices, registry)
        if resync:
            self._load_states()
            log.info("Home Assistant WebSocket back; %d states re-read", len(self._states))
        self.ws_connected = True
        self._ready.set()
        while not self._stop.is_set():
            try:
                text = ws.recv(timeout=0.5)
            except TimeoutError:
                continue
            self._event(text)

    def _command(self, ws: ClientConnection, msg_id: int, msg: dict[str, Any]) -> Any:
        ws.send(json.dumps({"id": msg_id, **msg}))
        end = time.monotonic() + self.settings.timeout_s
        while True:
            reply = json.loads(ws.recv(timeout=max(0.01, end - time.monotonic())))
            if reply.get("id") != msg_id or reply.get("type") != "result":
                continue  # an event that raced the reply; the subscription is not active yet
            if not reply.get("success"):
                err = reply.get("error") or {}
                raise HomeError(f"Home Assistant refused {msg['type']}: "
                                f"{err.get('message', 'no reason given')}", code="home_failed")
            return reply.get("result")

    def _apply_registries(self, areas: Any, devices: Any, registry: Any) -> None:
        area_map: dict[str, Area] = {}
        for a in areas or []:
            if isinstance(a, dict) and a.get("area_id") and a.get("name"):
                area_map[a["area_id"]] = Area(str(a["area_id"]), str(a["name"]),
                                              tuple(str(x) for x in a.get("aliases") or ()))
        device_area = {d["id"]: d.get("area_id") for d in devices or []
                       if isinstance(d, dict) and d.get("id")}
        entity_area: dict[str, str] = {}
        for e in registry or []:
            if not isinstance(e, dict) or not e.get("entity_id"):
                continue
            where = e.get("area_id") or device_area.get(e.get("device_id"))
            if where in area_map:
                entity_area[str(e["entity_id"])] = str(where)
        with self._lock:
            self._areas, self._entity_area = area_map, entity_area
            self._exposed = None

    def _event(self, text: str | bytes) -> None:
        try:
            msg = json.loads(text)
            if msg.get("type") != "event":
                return
            data = msg["event"]["data"]
            entity_id = str(data["entity_id"])
            new = data.get("new_state")
            state = normalise(new) if new is not None else None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("Home Assistant WebSocket: ignoring a malformed event (%s)", exc)
            return
        with self._lock:
            before = self._states.get(entity_id)
            if state is None:
                self._states.pop(entity_id, None)
            else:
                self._states[entity_id] = state
            if before is None or state is None or _naming(before) != _naming(state):
                self._exposed = None  # the entity list or a name changed
        self._notify(entity_id)

    # -- HomeBackend ------------------------------------------------------------------

    def _exposure(self) -> tuple[list[Entity], list[Area]]:
        with self._lock:
            if self._exposed is None:
                raw = [
                    Entity(
                        entity_id=s.entity_id,
                        name=str(s.attributes.get("friendly_name")
                                 or s.entity_id.split(".", 1)[1].replace("_", " ").title()),
                        area=self._entity_area.get(s.entity_id),
                        features=features_of(s.entity_id, s.attributes),
                        device_class=dc if isinstance(dc := s.attributes.get("device_class"),
                                                      str) else None,
                        unit=u if isinstance(u := s.attributes.get("unit_of_measurement"),
                                             str) else None,
                    )
                    for s in self._states.values()
                ]
                entities, extra = apply_exposure(raw, self.settings.exposure)
                areas = {a.id: a for a in self._extra_areas}
                areas.update({a.id: a for a in self._areas.values()})
                for a in extra:
                    areas.setdefault(a.id, a)
                entities.sort(key=lambda e: e.entity_id)
                self._exposed = (entities, sorted(areas.values(), key=lambda a: a.name))
            return self._exposed

    def areas(self) -> list[Area]:
        return list(self._exposure()[1])

    def entities(self) -> list[Entity]:
        return list(self._exposure()[0])

    def entity(self, entity_id: str) -> Entity:
        for e in self._exposure()[0]:
            if e.entity_id == entity_id:
                return e
        raise HomeError(f"no entity {entity_id!r} in this home", code="unknown_entity")

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
        clean = services.validate(entity, service, data)
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
