"""A stand-in for Home Assistant that follows its documented REST and WebSocket APIs.

For unit tests only: tests/test_hass_real*.py run a real Home Assistant. This server
gives what a real one cannot easily be made to do (device kinds without their
integrations, refusals, unavailable entities, no optional registry commands). It
implements the part of the API Hearth needs, with Home Assistant's message shapes:

REST (``Authorization: Bearer <token>``; 401 otherwise)
    GET  /api/                      -> {"message": "API running."}
    GET  /api/states                -> [state, ...]
    GET  /api/states/<entity_id>    -> state | 404 {"message": "Entity not found."}
    POST /api/services/<d>/<s>      -> [changed state, ...] | 400 {"message": ...}
WebSocket /api/websocket
    auth_required -> auth -> auth_ok | auth_invalid; then commands with an ``id``:
    config/area_registry/list, config/device_registry/list, config/entity_registry/list,
    subscribe_events (state_changed), ping -> result / event / pong messages; other
    commands (the registry events, entity aliases, Assist exposure) are refused, as an
    older Home Assistant would.

A state is ``{"entity_id", "state", "attributes", "last_changed", "last_updated",
"context"}``; services change it the way Home Assistant's integrations do (light
brightness is 0-255 in the state, brightness_pct is accepted in a call).
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import threading
import time
import uuid
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

AREAS = [
    {"area_id": "living_room", "name": "Living Room", "aliases": ["Lounge"]},
    {"area_id": "kitchen", "name": "Kitchen", "aliases": []},
    {"area_id": "garage", "name": "Garage", "aliases": []},
]
DEVICES = [
    {"id": "dev-ceiling", "name": "Ceiling Light", "area_id": "living_room"},
    {"id": "dev-kettle", "name": "Kettle Plug", "area_id": "kitchen"},
]
STATES: list[tuple[str, str, dict[str, Any], str | None, str | None]] = [
    # entity_id, state, attributes, device_id, area_id (entity's own, overrides device)
    (
        "light.ceiling",
        "off",
        {
            "friendly_name": "Ceiling Light",
            "supported_color_modes": ["rgb"],
            "color_mode": None,
            "brightness": None,
            "supported_features": 0,
        },
        "dev-ceiling",
        None,
    ),
    (
        "light.kitchen",
        "off",
        {
            "friendly_name": "Kitchen Light",
            "supported_color_modes": ["brightness"],
            "supported_features": 0,
        },
        None,
        "kitchen",
    ),
    ("switch.kettle", "off", {"friendly_name": "Kettle"}, "dev-kettle", None),
    (
        "fan.kitchen",
        "off",
        {"friendly_name": "Kitchen Fan", "percentage": 0, "supported_features": 1},
        None,
        "kitchen",
    ),
    (
        "cover.blinds",
        "closed",
        {
            "friendly_name": "Blinds",
            "current_position": 0,
            "device_class": "blind",
            "supported_features": 15,
        },
        None,
        "living_room",
    ),
    (
        "cover.garage_door",
        "closed",
        {"friendly_name": "Garage Door", "device_class": "garage", "supported_features": 3},
        None,
        "garage",
    ),
    (
        "climate.hall",
        "heat",
        {
            "friendly_name": "Thermostat",
            "temperature": 20.0,
            "current_temperature": 19.0,
            "min_temp": 7,
            "max_temp": 35,
            "hvac_modes": ["off", "heat"],
        },
        None,
        None,
    ),
    ("lock.front_door", "locked", {"friendly_name": "Front Door"}, None, None),
    ("alarm_control_panel.home", "disarmed", {"friendly_name": "Home Alarm"}, None, None),
    (
        "media_player.speaker",
        "paused",
        {"friendly_name": "Speaker", "volume_level": 0.5, "supported_features": 152461},
        None,
        "living_room",
    ),
    (
        "sensor.outside_temperature",
        "12.5",
        {
            "friendly_name": "Outside Temperature",
            "unit_of_measurement": "°C",
            "device_class": "temperature",
        },
        None,
        None,
    ),
    (
        "sensor.phone_battery",
        "80",
        {"friendly_name": "Phone Battery", "device_class": "battery", "unit_of_measurement": "%"},
        None,
        None,
    ),
    (
        "light.porch",
        "unavailable",
        {"friendly_name": "Porch Light", "supported_color_modes": ["onoff"]},
        None,
        None,
    ),
]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class FakeHomeAssistant:
    """State, services and event fan-out; ``app`` is the ASGI application."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.states: dict[str, dict[str, Any]] = {}
        self.registry: list[dict[str, Any]] = []
        for entity_id, state, attrs, device, area in STATES:
            self.states[entity_id] = self._state(entity_id, state, attrs)
            self.registry.append(
                {
                    "entity_id": entity_id,
                    "device_id": device,
                    "area_id": area,
                    "platform": "demo",
                    "name": None,
                }
            )
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.rest_requests: list[str] = []
        self.subscribers: list[tuple[WebSocket, int]] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.app = self._build()

    @staticmethod
    def _state(entity_id: str, state: str, attrs: dict[str, Any]) -> dict[str, Any]:
        now = _now()
        return {
            "entity_id": entity_id,
            "state": state,
            "attributes": dict(attrs),
            "last_changed": now,
            "last_updated": now,
            "context": {"id": uuid.uuid4().hex, "parent_id": None, "user_id": None},
        }

    # -- state changes -----------------------------------------------------------------

    async def _change(self, entity_id: str, state: str, attrs: dict[str, Any]) -> dict[str, Any]:
        old = copy.deepcopy(self.states.get(entity_id))
        new = self._state(entity_id, state, {**(old or {}).get("attributes", {}), **attrs})
        self.states[entity_id] = new
        event = {
            "event_type": "state_changed",
            "data": {"entity_id": entity_id, "old_state": old, "new_state": new},
            "origin": "LOCAL",
            "time_fired": _now(),
            "context": new["context"],
        }
        for ws, sub_id in list(self.subscribers):
            try:
                await ws.send_json({"id": sub_id, "type": "event", "event": event})
            except (RuntimeError, WebSocketDisconnect):
                self.subscribers.remove((ws, sub_id))
        return new

    def set_state(self, entity_id: str, state: str, **attrs: Any) -> None:
        """Change a state from outside, as a device would (events go to subscribers)."""
        if self.loop is None or not self.loop.is_running():
            old = self.states.get(entity_id, {}).get("attributes", {})
            self.states[entity_id] = self._state(entity_id, state, {**old, **attrs})
            return
        asyncio.run_coroutine_threadsafe(self._change(entity_id, state, attrs), self.loop).result(5)

    async def _service(
        self, domain: str, service: str, data: dict[str, Any]
    ) -> list[dict[str, Any]]:
        ids = data.get("entity_id")
        ids = [ids] if isinstance(ids, str) else list(ids or [])
        changed = []
        for entity_id in ids:
            if entity_id not in self.states or not entity_id.startswith(domain + "."):
                raise ValueError(f"Entity {entity_id} not found for {domain}.{service}")
            old = self.states[entity_id]
            state, attrs = _apply(domain, service, old["state"], old["attributes"], data)
            changed.append(await self._change(entity_id, state, attrs))
        return changed

    # -- the app -------------------------------------------------------------------------

    def _build(self) -> FastAPI:
        app = FastAPI()
        server = self

        def authorised(request: Request) -> bool:
            return request.headers.get("authorization") == f"Bearer {server.token}"

        def unauthorised() -> JSONResponse:
            return JSONResponse({"message": "401: Unauthorized"}, status_code=401)

        @app.get("/api/")
        async def root(request: Request) -> Any:
            server.loop = asyncio.get_running_loop()
            if not authorised(request):
                return unauthorised()
            return {"message": "API running."}

        @app.get("/api/states")
        async def states(request: Request) -> Any:
            server.rest_requests.append("/api/states")
            if not authorised(request):
                return unauthorised()
            return list(server.states.values())

        @app.get("/api/states/{entity_id}")
        async def one_state(entity_id: str, request: Request) -> Any:
            server.rest_requests.append(f"/api/states/{entity_id}")
            if not authorised(request):
                return unauthorised()
            if entity_id not in server.states:
                return JSONResponse({"message": "Entity not found."}, status_code=404)
            return server.states[entity_id]

        @app.post("/api/services/{domain}/{service}")
        async def call(domain: str, service: str, request: Request) -> Any:
            if not authorised(request):
                return unauthorised()
            try:
                data = await request.json()
            except ValueError:
                return JSONResponse({"message": "Data should be valid JSON."}, status_code=400)
            server.calls.append((domain, service, data))
            try:
                return await server._service(domain, service, data)
            except (ValueError, KeyError) as exc:
                return JSONResponse({"message": str(exc)}, status_code=400)

        @app.websocket("/api/websocket")
        async def websocket(ws: WebSocket) -> None:
            server.loop = asyncio.get_running_loop()
            await ws.accept()
            await ws.send_json({"type": "auth_required", "ha_version": "2025.6.0"})
            auth = await ws.receive_json()
            if auth.get("type") != "auth" or auth.get("access_token") != server.token:
                await ws.send_json({"type": "auth_invalid", "message": "Invalid access token"})
                await ws.close()
                return
            await ws.send_json({"type": "auth_ok", "ha_version": "2025.6.0"})
            try:
                while True:
                    msg = await ws.receive_json()
                    await server._ws_command(ws, msg)
            except WebSocketDisconnect:
                pass
            finally:
                server.subscribers = [s for s in server.subscribers if s[0] is not ws]

        return app

    async def _ws_command(self, ws: WebSocket, msg: dict[str, Any]) -> None:
        msg_id, kind = msg.get("id"), msg.get("type")
        results = {
            "config/area_registry/list": AREAS,
            "config/device_registry/list": DEVICES,
            "config/entity_registry/list": self.registry,
        }
        if kind == "ping":
            await ws.send_json({"id": msg_id, "type": "pong"})
        elif kind in results:
            await ws.send_json(
                {"id": msg_id, "type": "result", "success": True, "result": results[kind]}
            )
        elif kind == "subscribe_events" and msg.get("event_type") == "state_changed":
            self.subscribers.append((ws, int(msg_id or 0)))
            await ws.send_json({"id": msg_id, "type": "result", "success": True, "result": None})
        else:
            await ws.send_json(
                {
                    "id": msg_id,
                    "type": "result",
                    "success": False,
                    "error": {"code": "unknown_command", "message": "Unknown command."},
                }
            )


def _apply(
    domain: str, service: str, state: str, attrs: dict[str, Any], data: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """What Home Assistant's integrations do for the services Hearth calls."""
    new = dict(attrs)
    if domain in ("light", "switch", "fan") and service in ("turn_on", "turn_off", "toggle"):
        on = service == "turn_on" or (service == "toggle" and state != "on")
        if domain == "light" and on:
            if "brightness_pct" in data:
                new["brightness"] = round(float(data["brightness_pct"]) * 255 / 100)
            elif new.get("brightness") is None:
                new["brightness"] = 255
            if "rgb_color" in data:
                new["rgb_color"], new["color_mode"] = list(data["rgb_color"]), "rgb"
        if domain == "light" and not on:
            new["brightness"] = None
        if domain == "fan" and "percentage" in data:
            new["percentage"] = data["percentage"]
        return ("on" if on else "off"), new
    if (domain, service) == ("fan", "set_percentage"):
        new["percentage"] = data["percentage"]
        return ("on" if data["percentage"] else "off"), new
    if domain == "cover":
        if service == "set_cover_position":
            new["current_position"] = int(data["position"])
        elif service in ("open_cover", "close_cover"):
            new["current_position"] = 100 if service == "open_cover" else 0
        else:
            raise ValueError(f"Service {domain}.{service} not found.")
        return ("open" if new.get("current_position", 0) else "closed"), new
    if domain == "climate":
        if service == "set_temperature":
            temp = float(data["temperature"])
            if not attrs.get("min_temp", 7) <= temp <= attrs.get("max_temp", 35):
                raise ValueError(
                    f"Provided temperature {temp} is not valid. Accepted range is "
                    f"{attrs.get('min_temp')} to {attrs.get('max_temp')}."
                )
            new["temperature"] = temp
            return state, new
        if service in ("turn_on", "turn_off"):
            return ("heat" if service == "turn_on" else "off"), new
    if domain == "lock" and service in ("lock", "unlock"):
        return ("locked" if service == "lock" else "unlocked"), new
    if domain == "media_player":
        if service == "volume_set":
            new["volume_level"] = float(data["volume_level"])
            return state, new
        if service in ("media_play", "media_pause"):
            return ("playing" if service == "media_play" else "paused"), new
    raise ValueError(f"Service {domain}.{service} not found.")


class ServerThread:
    """uvicorn on 127.0.0.1 in a thread; stop and start again on the same port."""

    def __init__(self, fake: FakeHomeAssistant, port: int) -> None:
        self.fake, self.port = fake, port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        config = uvicorn.Config(
            self.fake.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            ws="websockets-sansio",
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        end = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > end or not self._thread.is_alive():
                raise RuntimeError("the Home Assistant test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        self._server = self._thread = None
        self.fake.loop = None
