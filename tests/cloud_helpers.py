"""A tiny fault-injecting HTTP server for the cloud tests: an OpenAI-compatible chat
endpoint that answers as scripted, or misbehaves as told (errors, silence, drips,
resets); the streamed chunks it sends; and the cloud tests' runtimes, set up to reach
such a server. (A real model server: tests/llama_server.py.)

Everything listens on 127.0.0.1 only. Used by tests/test_cloud*.py and bench/privacy_stream.py.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from assistant.config import Settings, load_settings
from assistant.privacy.audit import AuditLog
from assistant.runtime import Runtime


def sse(chunks: list[dict[str, Any]]) -> bytes:
    return (
        b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
    )


def chunk(
    content: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    finish: str | None = None,
) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    if content is not None:
        delta["content"] = content
    if tool_calls is not None:
        delta["tool_calls"] = tool_calls
    return {
        "id": "x",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "fault",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def tool_call_chunks(
    service: str, entity_id: str, data: dict[str, Any] | None = None, text: str = ""
) -> list[dict[str, Any]]:
    args = json.dumps(
        {"service": service, "entity_id": entity_id, **({"data": data} if data else {})}
    )
    out = [chunk(text)] if text else []
    out.append(
        chunk(
            tool_calls=[
                {
                    "index": 0,
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "home_action", "arguments": args[:10]},
                }
            ]
        )
    )
    out.append(chunk(tool_calls=[{"index": 0, "function": {"arguments": args[10:]}}]))
    out.append(chunk(finish="tool_calls"))
    return out


Behaviour = Callable[[BaseHTTPRequestHandler, threading.Event], None]


def _json_error(status: int, message: str) -> Behaviour:
    def run(h: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        body = json.dumps({"error": {"message": message, "type": "fault", "code": status}}).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        if status == 429:
            h.send_header("Retry-After", "1")
        h.end_headers()
        h.wfile.write(body)

    return run


def _raw(status: int, content_type: str, body: bytes) -> Behaviour:
    def run(h: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return run


def _silent(h: BaseHTTPRequestHandler, stop: threading.Event) -> None:
    stop.wait(60)


def _headers_then_silence(h: BaseHTTPRequestHandler, stop: threading.Event) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "text/event-stream")
    h.end_headers()
    h.wfile.flush()
    stop.wait(60)


def _drip(h: BaseHTTPRequestHandler, stop: threading.Event) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "text/event-stream")
    h.end_headers()
    while not stop.wait(0.2):
        try:
            h.wfile.write(b": keep-alive\n\n")
            h.wfile.flush()
        except OSError:
            return


def _reset(h: BaseHTTPRequestHandler, stop: threading.Event) -> None:
    h.close_connection = True
    h.connection.shutdown(socket.SHUT_RDWR)


def scripted(chunks: list[dict[str, Any]], delays: list[float] | None = None) -> Behaviour:
    """A valid streaming reply: ``chunks`` as SSE events, with optional delays before each."""

    def run(h: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.end_headers()
        for i, c in enumerate(chunks):
            if delays and stop.wait(delays[i]):
                return
            h.wfile.write(b"data: " + json.dumps(c).encode() + b"\n\n")
            h.wfile.flush()
        h.wfile.write(b"data: [DONE]\n\n")
        h.wfile.flush()

    return run


FAULTS: dict[str, Behaviour] = {
    "refused": _json_error(403, "this key may not use this model"),
    "unauthorized": _json_error(401, "bad api key"),
    "rate_limited": _json_error(429, "slow down"),
    "server_error": _json_error(500, "the model crashed"),
    "bad_gateway": _json_error(502, "upstream down"),
    "invalid_json": _raw(200, "application/json", b"{this is not json"),
    "invalid_sse": _raw(200, "text/event-stream", b"data: {not json at all\n\n"),
    "slow": _silent,
    "headers_then_silence": _headers_then_silence,
    "drip": _drip,
    "reset": _reset,
}
"""Fault name -> what the server does with a chat request."""


class FaultServer:
    """An HTTP server on 127.0.0.1 whose chat endpoint misbehaves as told (``behaviour``)."""

    def __init__(self, behaviour: Behaviour | str) -> None:
        self.behaviour: Behaviour = FAULTS[behaviour] if isinstance(behaviour, str) else behaviour
        self.stop = threading.Event()
        self.bodies: list[bytes] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length", "0"))
                outer.bodies.append(self.rfile.read(n))
                with suppress(OSError):
                    outer.behaviour(self, outer.stop)
                self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/v1"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def fault_server(behaviour: Behaviour | str) -> Iterator[FaultServer]:
    server = FaultServer(behaviour)
    try:
        yield server
    finally:
        server.close()


# --- the cloud tests' assistants -----------------------------------------------------

FIRST_TOKEN_S = 1.0
SLACK_S = 4.0
"""A turn is also templates and the home, on a shared 2-core box: generous, but no hang."""
QUESTION = "who wrote Middlemarch? ask alice@example.com"
REDACTED = "who wrote Middlemarch? ask <EMAIL_1>"


def settings_for(
    tmp_path: Path, url: str | None, *, mode: str = "allow", **privacy: Any
) -> Settings:
    base = load_settings(data_dir=str(tmp_path))
    return base.model_copy(update={
        "llm": base.llm.model_copy(update={"enabled": False}),  # the cloud stage on its own
        "privacy": base.privacy.model_copy(update={"mode": mode, **privacy}),
        "cloud": base.cloud.model_copy(update={
            "url": url, "first_token_timeout_s": FIRST_TOKEN_S, "connect_timeout_s": 0.5,
            "total_timeout_s": 3.0, "model": "fault-model"}),
    })


def audit_rows(tmp_path: Path) -> list[Any]:
    with AuditLog(tmp_path / "audit.sqlite") as log:
        return log.entries()


def cli_config(tmp_path: Path) -> str:
    """A config for ``hearth --config``: the packaged policy, no local LLM."""
    from assistant.resources import configs_dir

    cfg = tmp_path / "hearth.toml"
    cfg.write_text(f'[privacy]\npolicy = "{configs_dir() / "privacy.toml"}"\n'
                   "[llm]\nenabled = false\n")
    return str(cfg)


def assert_local_still_works(a: Runtime) -> None:
    result = a.ask("turn on the kitchen light")
    assert result.decision.handled_by == "local"
    assert a.home.get_state("light.kitchen").state == "on"
    a.ask("turn off the kitchen light")


class Assistants:
    """Runtimes for the cloud tests, each on its own server ``url`` (see :func:`settings_for`),
    all closed together."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.made: list[Runtime] = []

    def __call__(self, url: str | None, **kw: Any) -> Runtime:
        a = Runtime(settings_for(self.tmp_path, url, **kw))
        self.made.append(a)
        return a

    def __enter__(self) -> Assistants:
        return self

    def __exit__(self, *_exc: object) -> None:
        for a in self.made:
            a.close()
