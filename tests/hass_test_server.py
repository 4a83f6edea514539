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
brightness is 0-255 in the state, brightness_pct is accepted in a call): the home and
those rules are tests/hass_fake_home.py.
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

from tests.hass_fake_home import AREAS, DEVICES, STATES, apply_service


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
            state, attrs = apply_service(domain, service, old["state"], old["attributes"], data)
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
