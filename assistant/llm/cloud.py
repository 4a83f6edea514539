"""The cloud client: any OpenAI-compatible chat endpoint, reachable only through the audit log.

Why it is shaped this way:

* **No path around the audit log.** The ``openai`` client is built here with an HTTP
  transport (:class:`_AuditGate`) that refuses every request unless the caller armed it
  with a ticket for exactly that payload; the gate writes and commits the audit row —
  with the exact body bytes about to go on the wire — and only then lets the request
  through. The client object is never handed out, so :meth:`AuditedCloud.stream` is the
  only door, and even code that digs the client out gets ``cloud_unaudited``.
* **Never a hang.** The request runs in a worker thread; the caller waits on a queue
  with deadlines (connect, first token, total), so a server that accepts and then says
  nothing, or drips bytes, costs at most the configured timeout. Every failure becomes
  a :class:`~assistant.errors.CloudError` with a stable code.
* **Speak while it streams.** :class:`CloudStream` yields whole sentences as soon as
  each one is complete.
* **Data minimisation at the HTTP level.** No retries (one request, one audit row), no
  proxies from the environment, and the SDK's ``X-Stainless-*`` platform headers
  (OS, architecture, Python version) are stripped before sending.
"""

from __future__ import annotations

import json
import os
import queue
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from assistant.errors import CloudError
from assistant.limits import CLOUD_REPLY_CHARS
from assistant.privacy.audit import AuditLog
from assistant.privacy.minimise import CloudPayload
from assistant.privacy.settings import CloudSettings

if TYPE_CHECKING:
    import httpx2

ENV_URL = "HEARTH_CLOUD_URL"
ENV_MODEL = "HEARTH_CLOUD_MODEL"
ENV_API_KEY = "HEARTH_CLOUD_API_KEY"
DEFAULT_MODEL = "default"

ERROR_CODES = (
    "cloud_unreachable",
    "cloud_timeout",
    "cloud_refused",
    "cloud_rate_limited",
    "cloud_server_error",
    "cloud_bad_response",
    "cloud_unaudited",
    "cloud_unavailable",
)
"""Every code a :class:`CloudError` from this module can carry."""


@dataclass(frozen=True)
class CloudEndpoint:
    """Where the cloud is and how long to wait for it (settings, filled in from the env)."""

    url: str
    model: str = DEFAULT_MODEL
    api_key: str | None = field(default=None, repr=False)
    connect_timeout_s: float = 2.0
    first_token_timeout_s: float = 4.0
    total_timeout_s: float = 20.0
    max_tokens: int = 200
    temperature: float = 0.3


def resolve_endpoint(
    settings: CloudSettings, env: Mapping[str, str] | None = None
) -> CloudEndpoint | None:
    """The configured endpoint, or None when neither the config nor the env names one.

    Values in the config win; ``HEARTH_CLOUD_URL``/``_MODEL``/``_API_KEY`` fill in the gaps.
    """
    env = os.environ if env is None else env
    url = settings.url or env.get(ENV_URL) or None
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise CloudError(
            f"{ENV_URL} must start with http:// or https://, not {url!r}", code="cloud_unavailable"
        )
    key = settings.api_key.get_secret_value() if settings.api_key else env.get(ENV_API_KEY)
    return CloudEndpoint(
        url=url.rstrip("/"),
        model=settings.model or env.get(ENV_MODEL) or DEFAULT_MODEL,
        api_key=key or None,
        connect_timeout_s=settings.connect_timeout_s,
        first_token_timeout_s=settings.first_token_timeout_s,
        total_timeout_s=settings.total_timeout_s,
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
    )


@dataclass(frozen=True)
class AuditContext:
    """Why a request may leave: recorded with it."""

    rule: str
    mode: str
    consent: str
    """``policy`` (mode allow) or ``spoken_yes`` (mode ask, the user said yes)."""


@dataclass
class ToolCall:
    """A home action the cloud proposed (validated locally before anything happens)."""

    id: str = ""
    name: str = ""
    arguments: str = ""


# ------------------------------------------------------------------ sentences --------

_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "sr",
        "jr",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "approx",
        "no",
        "fig",
        "mt",
        "ft",
        "lt",
        "col",
        "gen",
        "sgt",
    ]
)
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*\s+|\n+")
_ENDS_SENTENCE = re.compile(r"(?:[!?…]|(?<=[^\W\d_])\.)[\"'”’)\]]*$")
"""A sentence end at the very end of the buffer: ! ? … or a period after a letter (so
"3." of "3.5" waits for the next token)."""


def _abbreviation(candidate: str) -> bool:
    """Does ``candidate`` end in "Dr." or "e.g." or an initial, rather than a sentence?"""
    words = candidate.rstrip(".!?…\"'”’)]").rsplit(None, 1)
    last = words[-1].lower() if words else ""
    return last in _ABBREVIATIONS or len(last) == 1


class SentenceSplitter:
    """Cuts streamed text into sentences as soon as each one is complete."""

    def __init__(self, max_chars: int = 240) -> None:
        self._buffer = ""
        self._max_chars = max_chars

    def feed(self, text: str) -> list[str]:
        self._buffer += text
        out: list[str] = []
        start = 0
        for m in _BOUNDARY.finditer(self._buffer):
            candidate = self._buffer[start : m.end()].strip()
            if m.group(0)[0] == "." and _abbreviation(candidate):
                continue
            if candidate:
                out.append(candidate)
            start = m.end()
        self._buffer = self._buffer[start:]
        tail = self._buffer.strip()
        if tail and _ENDS_SENTENCE.search(tail) and not (tail.endswith(".") and _abbreviation(tail)):
            out.append(tail)  # complete now: don't wait for the next token to show a space
            self._buffer = ""
        if len(self._buffer) > self._max_chars:
            cut = max(
                self._buffer.rfind(", ", 0, self._max_chars),
                self._buffer.rfind(" ", 0, self._max_chars),
            )
            if cut > 0:
                out.append(self._buffer[: cut + 1].strip())
                self._buffer = self._buffer[cut + 1 :]
        return out

    def flush(self) -> str | None:
        rest, self._buffer = self._buffer.strip(), ""
        return rest or None


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


# ------------------------------------------------------------------ errors -----------


def _to_cloud_error(exc: BaseException, endpoint: CloudEndpoint) -> CloudError:
    import openai

    if isinstance(exc, CloudError):
        return exc
    where = endpoint.url
    if isinstance(exc, openai.APITimeoutError):
        return CloudError(f"the cloud at {where} timed out", code="cloud_timeout")
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__
        if isinstance(cause, CloudError):
            return cause
        return CloudError(f"cannot reach the cloud at {where}", code="cloud_unreachable")
    if isinstance(exc, openai.RateLimitError):
        return CloudError(
            f"the cloud at {where} is rate-limiting us (429)", code="cloud_rate_limited"
        )
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status >= 500:
            return CloudError(f"the cloud at {where} failed ({status})", code="cloud_server_error")
        return CloudError(
            f"the cloud at {where} refused the request ({status})", code="cloud_refused"
        )
    if isinstance(exc, openai.APIError):
        return CloudError(
            f"the cloud at {where} reported an error: {exc}", code="cloud_server_error"
        )
    if isinstance(exc, (ValueError, KeyError, TypeError, AttributeError)):
        return CloudError(
            f"the cloud at {where} sent a reply that is not valid: {type(exc).__name__}",
            code="cloud_bad_response",
        )
    return CloudError(
        f"the cloud at {where} failed: {type(exc).__name__}: {exc}", code="cloud_unreachable"
    )


# ------------------------------------------------------------------ the stream -------


class CloudStream(Iterator[str]):
    """One audited request: iterate for sentences as they arrive.

    After iteration: ``text`` (the whole reply), ``tool_calls``, ``ttft_ms``,
    ``latency_ms``, ``audit_id``, ``outcome``. Failures raise :class:`CloudError`
    (iteration ends) and are recorded as the row's outcome.
    """

    def __init__(self, cloud: AuditedCloud, payload: CloudPayload, context: AuditContext) -> None:
        self._cloud = cloud
        self._endpoint = cloud.endpoint
        self._ticket = _Ticket(payload, context)
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._splitter = SentenceSplitter()
        self._ready: list[str] = []
        self._parts: list[str] = []
        self._calls: dict[int, ToolCall] = {}
        self._chars = 0
        self._finished = False
        self._stream: Any = None
        self.t_start = time.monotonic()
        self.ttft_ms: float | None = None
        self.latency_ms: float | None = None
        self.outcome: str | None = None
        self._worker = threading.Thread(target=self._work, name="hearth-cloud", daemon=True)
        self._worker.start()

    # the worker thread: talk to the server, put what arrives on the queue
    def _work(self) -> None:
        ep = self._endpoint
        try:
            self._cloud._gate.arm(self._ticket)
            stream = self._cloud._client.chat.completions.create(
                **_request(ep, self._ticket.payload))
            self._stream = stream
            for chunk in stream:
                if self._ticket.cancelled:
                    break
                for choice in chunk.choices or ():
                    delta = choice.delta
                    if delta is None:
                        continue
                    calls = [
                        (
                            c.index,
                            c.id,
                            c.function.name if c.function else None,
                            c.function.arguments if c.function else None,
                        )
                        for c in (delta.tool_calls or ())
                    ]
                    if delta.content or calls:
                        self._queue.put(("delta", (delta.content or "", calls)))
            self._queue.put(("end", None))
        except _Cancelled:
            self._queue.put(("end", None))
        except BaseException as exc:
            self._queue.put(("error", exc))
        finally:
            stream = self._stream
            if stream is not None:
                with suppress(Exception):  # closing a dead connection may fail too
                    stream.close()

    @property
    def audit_id(self) -> int | None:
        return self._ticket.row_id

    @property
    def sent(self) -> bool:
        """True once the request was recorded and handed to the network."""
        return self._ticket.row_id is not None

    @property
    def body(self) -> bytes | None:
        """The exact request body that was audited (and sent)."""
        return self._ticket.body

    @property
    def text(self) -> str:
        return "".join(self._parts).strip()

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [self._calls[i] for i in sorted(self._calls)]

    def __iter__(self) -> CloudStream:
        return self

    def __next__(self) -> str:
        while not self._ready:
            if self._finished:
                raise StopIteration
            self._pump()
        return self._ready.pop(0)

    def _deadline(self) -> tuple[float, str]:
        ep = self._endpoint
        if self.ttft_ms is None:
            return self.t_start + ep.first_token_timeout_s, "first_token"
        return self.t_start + ep.total_timeout_s, "total"

    def _pump(self) -> None:
        deadline, which = self._deadline()
        try:
            kind, value = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            if which == "total":
                self._end("truncated", detail=f"stopped after {self._endpoint.total_timeout_s:g} s")
                return
            self._fail(
                CloudError(
                    f"no reply from the cloud at {self._endpoint.url} within "
                    f"{self._endpoint.first_token_timeout_s:g} s",
                    code="cloud_timeout",
                )
            )
        if kind == "delta":
            content, calls = value
            if self.ttft_ms is None:
                self.ttft_ms = (time.monotonic() - self.t_start) * 1000
            self._chars += len(content) + sum(len(c[3] or "") for c in calls)
            if self._chars > CLOUD_REPLY_CHARS:  # a server that ignores max_tokens
                self._end("truncated", detail=f"reply over {CLOUD_REPLY_CHARS} characters")
                return
            if content:
                self._parts.append(content)
                self._ready.extend(self._splitter.feed(content))
            for index, call_id, name, arguments in calls:
                call = self._calls.setdefault(index, ToolCall())
                call.id = call_id or call.id
                call.name += name or ""
                call.arguments += arguments or ""
        elif kind == "end":
            if not self._parts and not self._calls:
                self._fail(
                    CloudError(
                        f"the cloud at {self._endpoint.url} sent an empty or unreadable reply",
                        code="cloud_bad_response",
                    )
                )
            self._end("ok")
        else:
            self._fail(_to_cloud_error(value, self._endpoint))

    def _end(self, outcome: str, detail: str | None = None) -> None:
        rest = self._splitter.flush()
        if rest:
            self._ready.append(rest)
        self._finish(outcome, detail)

    def _fail(self, error: CloudError) -> None:
        self._finish(error.code, str(error))
        raise error

    def _finish(self, outcome: str, detail: str | None) -> None:
        if self._finished:
            return
        self._finished = True
        self.outcome = outcome
        self.latency_ms = (time.monotonic() - self.t_start) * 1000
        with self._ticket.lock:
            self._ticket.cancelled = True  # a request not yet sent never will be
            row = self._ticket.row_id
        if outcome != "ok":
            self._abort_worker()
        if row is not None:
            self._cloud._audit.complete(
                row,
                outcome=outcome,
                latency_ms=self.latency_ms,
                ttft_ms=self.ttft_ms,
                detail=detail,
            )

    def _abort_worker(self) -> None:
        stream = self._stream
        if stream is not None:
            with suppress(Exception):  # best effort: the worker also stops at its read timeout
                stream.close()

    def close(self) -> None:
        """Stop early (e.g. the user interrupted); the row records ``abandoned``."""
        if not self._finished:
            self._finish("abandoned", None)

    def fail(self, outcome: str, detail: str) -> None:
        """End with an error of Hearth's own after the request left (its row records it)."""
        self._finish(outcome, detail)


class AuditedCloud:
    """The one door to the cloud: every request is in the audit log before it is sent."""

    def __init__(self, endpoint: CloudEndpoint, audit: AuditLog) -> None:
        self.endpoint = endpoint
        self._audit = audit
        self._gate, self._client = _build_client(endpoint, audit)

    def stream(self, payload: CloudPayload, context: AuditContext) -> CloudStream:
        """Send ``payload`` (audited) and stream the reply sentence by sentence."""
        return CloudStream(self, payload, context)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> AuditedCloud:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def render_request(endpoint: CloudEndpoint, payload: CloudPayload) -> tuple[str, bytes]:
    """The URL and exact body the client would send for ``payload`` — built by the real
    client, stopped at the gate, never sent (``hearth ask --explain``)."""
    gate, client = _build_client(endpoint, None)
    ticket = _Ticket(payload, None)
    try:
        gate.arm(ticket)
        try:
            client.chat.completions.create(**_request(endpoint, payload))
        except Exception as exc:
            if not isinstance(exc, _Explained) and not isinstance(exc.__cause__, _Explained):
                raise _to_cloud_error(exc, endpoint) from None
    finally:
        client.close()
    assert ticket.body is not None and ticket.url is not None
    return ticket.url, ticket.body


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


def _http_module() -> Any:
    """The HTTP library the installed ``openai`` is built on: httpx2 (openai 3) or httpx."""
    try:
        import httpx2

        return httpx2
    except ImportError:
        import httpx  # type: ignore[import-not-found,unused-ignore]

        return httpx


def _build_client(endpoint: CloudEndpoint, audit: AuditLog | None) -> tuple[_AuditGate, Any]:
    try:
        import openai

        http_lib = _http_module()
    except ImportError:
        raise CloudError(
            "the cloud client needs the openai package (pip install 'hearth[cloud]')",
            code="cloud_unavailable",
        ) from None

    class Gate(_AuditGate, http_lib.BaseTransport):  # type: ignore[misc,name-defined,unused-ignore]
        pass

    inner = http_lib.HTTPTransport(trust_env=False, retries=0)
    gate = Gate(inner, audit, endpoint.model, send_auth=endpoint.api_key is not None)
    timeout = http_lib.Timeout(
        connect=endpoint.connect_timeout_s,
        read=endpoint.first_token_timeout_s,
        write=endpoint.connect_timeout_s,
        pool=endpoint.connect_timeout_s,
    )
    http = http_lib.Client(transport=gate, trust_env=False, timeout=timeout, follow_redirects=False)
    client = openai.OpenAI(
        base_url=endpoint.url,
        api_key=endpoint.api_key or "unused",  # the SDK wants one; the gate drops it unsent
        max_retries=0,
        timeout=timeout,
        http_client=http,
        default_headers={"User-Agent": "hearth"},
    )
    return gate, client
