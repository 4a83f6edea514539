"""``POST /api/ask`` through the app itself (no server process): a bug inside
understanding is the server's error (500, one JSON line), not the client's (400).
(The API against a running ``hearth serve``: test_server.)"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from assistant.config import load_settings
from assistant.events import discard
from assistant.runtime import Runtime
from assistant.server.brain import Rooms
from assistant.server.http import create_app
from assistant.server.hub import EventHub


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    with Runtime(load_settings(data_dir=str(tmp_path), llm={"enabled": False})) as a:
        yield a


def post(app: Any, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """One HTTP request straight to the ASGI app: its status and JSON body."""
    raw = json.dumps(body).encode()
    sent: list[dict[str, Any]] = []
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 1),
             "headers": [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json"),
                         (b"content-length", str(len(raw)).encode())]}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))


def test_a_bug_in_understanding_is_a_500_with_its_code(
        runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    pipeline = Rooms(runtime).pipeline_for(None, discard)
    ctx = SimpleNamespace(settings=runtime.settings, api_pipeline=pipeline, api_area=None,
                          hub=EventHub(10), brain=SimpleNamespace(privacy_report=lambda _t: {}))
    app = create_app(ctx)  # type: ignore[arg-type]
    assert post(app, "/api/ask", {"text": "turn on the kitchen light"})[0] == 200

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("a bug in understanding")

    monkeypatch.setattr(runtime.understander, "decide", broken)
    status, answer = post(app, "/api/ask", {"text": "turn on the kitchen light"})
    assert status == 500 and answer["error"] == "understand_failed"
    assert "RuntimeError: a bug in understanding" in answer["message"]
    assert post(app, "/api/ask", {"text": "turn on the light", "area": "the moon"})[0] == 400
