"""Who may talk to the server: bearer tokens, the dashboard's session cookie, satellites.

Every comparison is constant-time. The dashboard cannot put a header on a page load,
so signing in once (``POST /api/login`` with the token) sets an HttpOnly, SameSite=Strict
cookie holding an HMAC of the token — never the token itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any

from pydantic import SecretStr

SESSION_COOKIE = "hearth_session"
PUBLIC_PATHS = frozenset({"/login", "/api/login", "/static/login.js", "/static/style.css"})
"""Reachable without a token: the sign-in page and what it needs. They reveal nothing."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def tokens_match(given: str | None, expected: SecretStr | None) -> bool:
    if given is None or expected is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.get_secret_value().encode("utf-8"))


def session_value(token: SecretStr) -> str:
    return hmac.new(token.get_secret_value().encode("utf-8"), b"hearth-dashboard-session",
                    hashlib.sha256).hexdigest()


def session_cookie(token: SecretStr, *, secure: bool) -> str:
    flags = "; Secure" if secure else ""
    return f"{SESSION_COOKIE}={session_value(token)}; Path=/; HttpOnly; SameSite=Strict{flags}"


def clear_cookie() -> str:
    return f"{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def request_authorized(scope: Scope, token: SecretStr | None) -> bool:
    """True when no token is configured, or the request carries it (header or cookie)."""
    if token is None:
        return True
    auth = _header(scope, b"authorization")
    if auth and auth[:7].lower() == "bearer " and tokens_match(auth[7:].strip(), token):
        return True
    cookie = _header(scope, b"cookie")
    if cookie:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(cookie)
        except Exception:  # a malformed cookie header is just not a session
            return False
        morsel = jar.get(SESSION_COOKIE)
        if morsel is not None and hmac.compare_digest(morsel.value.encode(),
                                                      session_value(token).encode()):
            return True
    return False


LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def host_name(scope: Scope) -> str:
    """The Host header without its port ("[::1]:8740" -> "[::1]")."""
    host = (_header(scope, b"host") or "").strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class TokenGate:
    """ASGI middleware: refuse every request without the token (when one is set).

    Pages a browser navigates to are redirected to the sign-in page; everything else
    gets ``401`` with ``WWW-Authenticate: Bearer``. A pure ASGI middleware, so server-sent
    event streams pass through untouched.

    Without a token the server only listens on loopback; then the Host header must name
    loopback too, so a web page cannot reach the API by DNS rebinding (a name that
    resolves to 127.0.0.1) from the browser of someone in the house.
    """

    def __init__(self, app: ASGIApp, token: SecretStr | None,
                 on_refused: Callable[[str], None] = lambda _p: None) -> None:
        self.app = app
        self.token = token
        self.on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self.token is None:
            if host_name(scope) in LOOPBACK_NAMES:
                await self.app(scope, receive, send)
                return
            self.on_refused(scope.get("path", ""))
            await _json(send, 403, {"error": "forbidden_host", "message":
                                    "without an API token this server answers only to "
                                    "localhost / 127.0.0.1"})
            return
        path = scope.get("path", "")
        if path in PUBLIC_PATHS or request_authorized(scope, self.token):
            await self.app(scope, receive, send)
            return
        self.on_refused(path)
        accept = _header(scope, b"accept") or ""
        if scope["type"] == "http" and scope.get("method") == "GET" and "text/html" in accept:
            await send({"type": "http.response.start", "status": 303,
                        "headers": [(b"location", b"/login"), (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        await _json(send, 401, {"error": "unauthorized",
                                "message": "this server needs 'Authorization: Bearer <token>'"},
                    [(b"www-authenticate", b'Bearer realm="hearth"')])


async def _json(send: Send, status: int, obj: dict[str, str],
                headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(obj).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})
