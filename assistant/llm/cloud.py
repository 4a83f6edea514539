"""The cloud client: any OpenAI-compatible chat endpoint, reachable only through the audit log.

Why it is shaped this way:

* **No path around the audit log.** The ``openai`` client is built with an HTTP transport
  (:mod:`assistant.llm.gate`) that refuses every request unless the caller armed it
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

import queue
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from types import TracebackType
from typing import Any

from assistant.errors import CloudError
from assistant.limits import CLOUD_REPLY_CHARS
from assistant.llm.endpoint import (  # re-exported: the client's public names
    DEFAULT_MODEL,
    ENV_API_KEY,
    ENV_MODEL,
    ENV_URL,
    ERROR_CODES,
    AuditContext,
    CloudEndpoint,
    ToolCall,
    resolve_endpoint,
)
from assistant.llm.gate import _AuditGate, _Cancelled, _Explained, _request, _Ticket
from assistant.llm.sentences import SentenceSplitter
from assistant.privacy.audit import AuditLog
from assistant.privacy.minimise import CloudPayload

__all__ = ["DEFAULT_MODEL", "ENV_API_KEY", "ENV_MODEL", "ENV_URL", "ERROR_CODES", "AuditContext",
           "AuditedCloud", "CloudEndpoint", "CloudStream", "SentenceSplitter", "ToolCall",
           "render_request", "resolve_endpoint"]


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
