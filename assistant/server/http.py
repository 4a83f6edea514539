"""The HTTP API and the dashboard (FastAPI). Built by :func:`create_app` around one
:class:`~assistant.server.context.ServerContext`; no globals.

Blocking work (a turn, a database read) runs in FastAPI's thread pool, so the event
loop — which also serves the Wyoming satellites — never waits on it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant import __version__
from assistant.errors import HearthError, UnderstandError
from assistant.limits import HTTP_BODY_BYTES, TEXT_CHARS
from assistant.resources import data_path
from assistant.server import auth
from assistant.server.audit import read_audit
from assistant.server.context import ServerContext
from assistant.server.metrics import CONTENT_TYPE
from assistant.server.records import AuditReply, Health

log = logging.getLogger(__name__)

STATIC = data_path("server", "static")
KEEPALIVE_S = 15.0


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=TEXT_CHARS, description="What the person said.")
    area: str | None = Field(None, description="Area name or id; default: the server's area.")
    dry_run: bool = Field(False, description="Decide the actions without applying them.")


class ActionOut(BaseModel):
    service: str
    entity_id: str
    data: dict[str, Any] = {}


class AskResponse(BaseModel):
    """Exactly what ``hearth ask --json`` prints (fields may be added, never removed)."""

    model_config = ConfigDict(extra="allow")
    text: str
    area: str | None
    handled_by: str
    intent: str | None
    slots: dict[str, Any]
    actions: list[ActionOut]
    reply: str
    left_device: bool
    timings_ms: dict[str, float]


class ErrorOut(BaseModel):
    error: str
    message: str


class EntityOut(BaseModel):
    entity_id: str
    name: str
    area: str | None
    state: str
    attributes: dict[str, Any]
    available: bool


class AreaOut(BaseModel):
    id: str
    name: str


class HomeOut(BaseModel):
    areas: list[AreaOut]
    entities: list[EntityOut]


class PrivacyOut(BaseModel):
    mode: str
    source: str
    """``config`` (the settings file) or ``dashboard`` (switched, and kept across restarts)."""
    changed: str | None = None
    modes: list[str]
    applies: bool
    """The cloud path follows this mode for the next turn."""


class PrivacyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["local_only", "ask", "allow"]
    confirm: bool = Field(False, description="Must be true: switching the mode is confirmed.")


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=4096)


class BodyLimit:
    """Refuse a request body over :data:`~assistant.limits.HTTP_BODY_BYTES` before it is
    read into memory (413); a chunked body that grows past it is cut off."""

    def __init__(self, app: ASGIApp, limit: int = HTTP_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.limit:
            body = json.dumps({"error": "too_large", "message": f"the request body is over "
                               f"{self.limit} bytes"}).encode()
            await send({"type": "http.response.start", "status": 413, "headers": [
                (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                (b"connection", b"close")]})
            await send({"type": "http.response.body", "body": body})
            return
        seen = 0

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            return {"type": "http.disconnect"} if seen > self.limit else message

        await self.app(scope, bounded, send)


def _hearth_error(exc: HearthError, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": exc.code, "message": str(exc)}, status_code=status)


def create_app(ctx: ServerContext) -> FastAPI:
    token: SecretStr | None = ctx.settings.server.token
    secure_cookie = ctx.settings.server.tls_cert is not None
    app = FastAPI(
        title="Hearth", version=__version__, docs_url=None, redoc_url=None,
        description="A private voice assistant's home server: ask, watch events, read the "
        "home's state and the audit log. With a token configured, every request needs "
        "`Authorization: Bearer <token>`.",
    )
    app.add_middleware(BodyLimit)
    app.add_middleware(auth.TokenGate, token=token,
                       on_refused=lambda p: log.warning(
                           "http request refused", extra={"fields": {"path": p,
                                                                     "reason": "no valid token"}}))

    @app.exception_handler(HearthError)
    async def _on_hearth_error(_request: Request, exc: HearthError) -> JSONResponse:
        return _hearth_error(exc)

    # --- the dashboard --------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-store"})

    @app.get("/login", include_in_schema=False)
    def login_page() -> FileResponse:
        return FileResponse(STATIC / "login.html", headers={"cache-control": "no-store"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.post("/api/login", status_code=204, responses={401: {"model": ErrorOut}},
              summary="Sign the dashboard in (sets an HttpOnly session cookie)")
    def login(body: LoginIn) -> Response:
        if token is None:
            return Response(status_code=204)
        if not auth.tokens_match(body.token, token):
            log.warning("dashboard sign-in refused", extra={"fields": {"reason": "wrong token"}})
            return JSONResponse({"error": "unauthorized", "message": "wrong token"}, 401)
        return Response(status_code=204,
                        headers={"set-cookie": auth.session_cookie(token, secure=secure_cookie)})

    @app.post("/api/logout", status_code=204, summary="Forget the dashboard's session cookie")
    def logout() -> Response:
        return Response(status_code=204, headers={"set-cookie": auth.clear_cookie()})

    # --- the API ----------------------------------------------------------------------

    @app.post("/api/ask", response_model=AskResponse,
              responses={400: {"model": ErrorOut}, 500: {"model": ErrorOut}},
              summary="One turn from text (the same result as `hearth ask --json`)")
    def ask(body: AskRequest) -> Any:
        pipeline = ctx.api_pipeline
        with pipeline.lock:
            area_id = pipeline.resolve_area(body.area)
            ctx.api_area = area_id
            ctx.hub.publish({"type": "ask", "source": "api", "area": area_id, "text": body.text,
                             "dry_run": body.dry_run})
            try:
                result = pipeline.handle_text(body.text, area=body.area, dry_run=body.dry_run)
            except UnderstandError as exc:  # a bug in the server, not a bad request
                return _hearth_error(exc, 500)
        return {**result.as_json(), "privacy": ctx.brain.privacy_report(result)}  # as `hearth ask --json`

    @app.get("/api/health", response_model=Health,
             summary="Is the server up, and what is connected")
    def health() -> Health:
        return Health(
            status="stopping" if ctx.stopping else "ok", version=__version__,
            uptime_s=round(time.time() - ctx.started, 1),
            models_load_s=round(ctx.brain.load_s, 2),
            microphone=ctx.microphone_running(),
            satellites=ctx.satellites_status(),
            turns_completed=ctx.tracker.completed,
            event_subscribers=ctx.hub.subscribers,
        )

    @app.get("/api/home", response_model=HomeOut, summary="The home's areas, entities and states")
    def home() -> dict[str, Any]:
        h = ctx.brain.home
        entities = []
        for e in h.entities():
            st = h.get_state(e.entity_id)
            entities.append({"entity_id": e.entity_id, "name": e.name, "area": e.area,
                             "state": st.state, "attributes": dict(st.attributes),
                             "available": st.available})
        return {"areas": [{"id": a.id, "name": a.name} for a in h.areas()], "entities": entities}

    @app.get("/api/audit", response_model=AuditReply,
             summary="Requests that left the device (the privacy audit log), newest last")
    def audit(limit: int = Query(100, ge=0, le=10_000)) -> AuditReply:
        return read_audit(ctx.settings, limit)

    @app.get("/api/turns", summary="Recent turns with per-stage latencies (ms), oldest first")
    def turns(limit: int = Query(100, ge=1, le=1000)) -> list[dict[str, Any]]:
        return [turn.as_json() for turn in ctx.tracker.turns(limit)]

    @app.get("/api/privacy", response_model=PrivacyOut, summary="The privacy mode")
    def privacy() -> dict[str, Any]:
        return {**ctx.state.privacy().as_json(), "applies": ctx.brain.privacy_mode_applies}

    @app.post("/api/privacy", response_model=PrivacyOut, responses={409: {"model": ErrorOut}},
              summary="Switch the privacy mode (needs confirm: true)")
    def set_privacy(body: PrivacyIn) -> Any:
        if not body.confirm:
            return JSONResponse({"error": "confirmation_required",
                                 "message": "switching the privacy mode needs confirm: true"}, 409)
        before = ctx.state.privacy_mode
        ctx.state.set_privacy_mode(body.mode, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        ctx.brain.set_privacy_mode(body.mode)
        log.info("privacy mode switched", extra={"fields": {"from": before, "to": body.mode}})
        ctx.hub.publish({"type": "privacy_mode", "source": "dashboard", "area": None,
                         "mode": body.mode, "previous": before})
        return {**ctx.state.privacy().as_json(), "applies": ctx.brain.privacy_mode_applies}

    @app.get("/api/events", summary="Server-sent events: every pipeline event, as JSON",
             response_class=StreamingResponse,
             responses={200: {"content": {"text/event-stream": {}}}})
    async def events(replay: int = Query(0, ge=0, le=10_000),
                     types: str | None = Query(None, description="comma-separated event types"),
                     ) -> StreamingResponse:
        wanted = {t.strip() for t in types.split(",") if t.strip()} if types else None
        return StreamingResponse(_sse(ctx, replay, wanted), media_type="text/event-stream",
                                 headers={"cache-control": "no-store", "x-accel-buffering": "no"})

    @app.get("/metrics", summary="Prometheus metrics", response_class=Response,
             responses={200: {"content": {"text/plain": {}}}})
    def metrics() -> Response:
        return Response(ctx.metrics.render(), media_type=CONTENT_TYPE)

    return app


async def _sse(ctx: ServerContext, replay: int, wanted: set[str] | None) -> AsyncIterator[str]:
    sub = ctx.hub.subscribe(replay)
    try:
        yield "retry: 2000\n: connected\n\n"
        while True:
            try:
                item = await asyncio.wait_for(sub.queue.get(), timeout=KEEPALIVE_S)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if item is None:
                return
            if wanted is not None and item.type not in wanted:
                continue
            data = json.dumps(item.as_json(), ensure_ascii=False, default=str)
            yield f"id: {item.seq}\ndata: {data}\n\n"
    finally:
        ctx.hub.unsubscribe(sub)
