"""The HTTP edge of the cloud client: the transport that lets a request through only with
a ticket for exactly that payload, after the audit row is committed, and the request body;
the client itself (and the mapping of its failures) is in :mod:`assistant.llm.cloud`,
the one module that imports ``openai``."""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Any

from assistant.errors import CloudError
from assistant.llm.endpoint import AuditContext, CloudEndpoint
from assistant.privacy.audit import AuditLog
from assistant.privacy.minimise import CloudPayload

if TYPE_CHECKING:
    import httpx2


# ------------------------------------------------------------------ the gate ---------


class _Unaudited(CloudError):
    code = "cloud_unaudited"


class _Explained(Exception):
    """Raised by the gate in explain mode: the request was built, and stops here."""


class _Cancelled(Exception):
    """The caller gave up before the request went out."""


class _Ticket:
    """Permission for one request with one payload, and what happened to it."""

    def __init__(self, payload: CloudPayload, context: AuditContext | None) -> None:
        self.payload = payload
        self.context = context
        self.lock = threading.Lock()
        self.cancelled = False
        self.row_id: int | None = None
        self.body: bytes | None = None
        self.url: str | None = None
        self.sent_at: float | None = None


class _AuditGate:
    """An httpx transport that writes the audit row, then (and only then) sends."""

    def __init__(self, inner: httpx2.BaseTransport, audit: AuditLog | None, model: str, *,
                 send_auth: bool = True) -> None:
        self._inner = inner
        self._audit = audit
        self._model = model
        self._send_auth = send_auth
        self._local = threading.local()

    def arm(self, ticket: _Ticket) -> None:
        self._local.ticket = ticket

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        ticket: _Ticket | None = getattr(self._local, "ticket", None)
        self._local.ticket = None  # one ticket, one request: no retry or second call rides on it
        if ticket is None:
            raise _Unaudited("refusing to send a request that is not in the audit log")
        body = request.read()
        self._check(body, ticket.payload)
        for name in [h for h in request.headers if h.lower().startswith("x-stainless")
                     or (h.lower() == "authorization" and not self._send_auth)]:
            del request.headers[name]
        ticket.body, ticket.url = body, str(request.url)
        if ticket.context is None:
            raise _Explained
        if self._audit is None:
            raise _Unaudited("no audit log is open")
        with ticket.lock:
            if ticket.cancelled:
                raise _Cancelled
            ticket.row_id = self._audit.begin(
                rule=ticket.context.rule,
                mode=ticket.context.mode,
                consent=ticket.context.consent,
                endpoint=str(request.url),
                model=self._model,
                text=ticket.payload.user_text,
                payload=body,
            )
            ticket.sent_at = time.monotonic()
        return self._inner.handle_request(request)

    @staticmethod
    def _check(body: bytes, payload: CloudPayload) -> None:
        try:
            sent = json.loads(body)
        except ValueError:
            raise _Unaudited("refusing to send a body that is not the audited JSON") from None
        if sent.get("messages") != [dict(m) for m in payload.messages] or sent.get("tools", []) != [
            dict(t) for t in payload.tools
        ]:
            raise _Unaudited("refusing to send messages that differ from the audited payload")

    def close(self) -> None:
        self._inner.close()


def _request(endpoint: CloudEndpoint, payload: CloudPayload) -> dict[str, Any]:
    """The chat request for ``payload`` — one builder, so ``--explain`` shows what is sent."""
    request: dict[str, Any] = {
        "model": endpoint.model,
        "messages": [dict(m) for m in payload.messages],
        "stream": True,
        "max_tokens": endpoint.max_tokens,
        "temperature": endpoint.temperature,
    }
    if payload.tools:
        request["tools"] = [dict(t) for t in payload.tools]
    return request
