"""The cloud path against a real OpenAI-compatible server: llama-cpp-python's server with the
bundled SmolLM2 GGUF on 127.0.0.1, talked to by the real ``openai`` client through a counting
TCP proxy that records every byte. Proves by watching the wire that under ``local_only`` not
one byte reaches the server, and that under ``allow`` exactly the redacted, audited text does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llama_server import CountingProxy, LlamaServer, llama_cpp_missing

from assistant.config import Settings, load_settings
from assistant.events import Event, ReplySentence
from assistant.privacy.audit import AuditLog
from assistant.runtime import Runtime

pytestmark = pytest.mark.real

_MISSING = llama_cpp_missing()

HOUSEHOLD = ("Alice Smith", "Robert Smith | Bob")

VARIED_BATCH = [
    "turn on the kitchen light",
    "who wrote Middlemarch",
    "what is the capital of France",
    "tell me a joke about Alice",
    "what medication helps a headache",
    "what is a good savings account for Bob",
    "make the living room cosy for a film night",
    "email alice@example.com the recipe for pancakes",
    "my card 4111 1111 1111 1111 was declined, why",
    "call 07700 900461 and say I'm late",
    "blorp fizzle wumpus",
    "explain how rainbows form",
    "set the thermostat to 21 degrees",
    "yes",
    "what's the weather like at 221B Baker Street",
]


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    if _MISSING:
        pytest.skip(_MISSING)
    log = tmp_path_factory.mktemp("llama") / "server.log"
    server = LlamaServer(log=log)
    try:
        server.wait_ready()
        _warm_up(server)
        yield server
    finally:
        server.stop()


def _warm_up(server: LlamaServer) -> None:
    import urllib.request

    body = json.dumps({"model": "x", "max_tokens": 4,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()
    req = urllib.request.Request(f"{server.url}/chat/completions", body,
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        r.read()


@pytest.fixture
def proxy(llama_server: LlamaServer) -> Iterator[CountingProxy]:
    p = CountingProxy(llama_server.port)
    yield p
    p.close()


def settings_for(tmp_path: Path, url: str, mode: str) -> Settings:
    base = load_settings(data_dir=str(tmp_path))
    return base.model_copy(update={
        "privacy": base.privacy.model_copy(update={"mode": mode, "household": HOUSEHOLD}),
        # generous: a 135M model on 2 shared cores; the point here is the wire, not speed
        "cloud": base.cloud.model_copy(update={
            "url": url, "first_token_timeout_s": 60.0, "total_timeout_s": 90.0,
            "max_tokens": 16, "temperature": 0.0}),
    })


@pytest.mark.parametrize("mode", ["local_only", "ask"])
def test_not_one_byte_leaves_unless_allowed(
    mode: str, proxy: CountingProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """local_only: nothing, ever. ask: nothing until a spoken yes (none is given here,
    and the "yes" in the batch answers nothing because every question was followed by
    another utterance first)."""
    monkeypatch.setenv("HEARTH_CLOUD_URL", proxy.url)  # the env cannot open a door either
    results = []
    with Runtime(settings_for(tmp_path, proxy.url, mode)) as a:
        for text in VARIED_BATCH:
            result = a.ask(text)
            results.append(result)
            assert not result.decision.left_device
    assert proxy.bytes_total == 0 and proxy.connections == []
    assert not (tmp_path / "audit.sqlite").exists()
    handled = {r.text: r.decision.handled_by for r in results}
    assert handled["turn on the kitchen light"] == "local"
    if mode == "ask":
        assert handled["what medication helps a headache"] == "refused"
        assert handled["who wrote Middlemarch"] == "confirm"
    else:
        assert handled["who wrote Middlemarch"] == "unhandled"


def test_allow_sends_exactly_the_redacted_text_and_it_matches_the_audit_log(
    proxy: CountingProxy, tmp_path: Path
) -> None:
    queries = [
        ("tell me a joke about Alice", "tell me a joke about <PERSON_1>"),
        ("what is a good pancake recipe to email to alice@example.com",
         "what is a good pancake recipe to email to <EMAIL_1>"),
        ("explain how rainbows form", "explain how rainbows form"),
    ]
    heard: list[tuple[float, str]] = []
    def sink(event: Event) -> None:
        if isinstance(event, ReplySentence):
            heard.append((time.monotonic(), event.text))

    with Runtime(settings_for(tmp_path, proxy.url, "allow"), emit=sink) as a:
        for text, _ in queries:
            result = a.ask(text)
            assert result.decision.handled_by == "cloud", result.decision.reason
            assert result.decision.left_device and result.reply.strip()
            assert "<PERSON_1>" not in result.reply and "<EMAIL_1>" not in result.reply
        # local commands never touch the wire, even in allow mode
        before = proxy.bytes_up
        assert a.ask("turn on the kitchen light").decision.handled_by == "local"
        assert a.ask("what medication helps a headache").decision.handled_by == "refused"
        assert proxy.bytes_up == before
    assert heard  # sentences were handed out as they came
    wire = [r for r in proxy.requests() if r[0].startswith(b"POST")]
    with AuditLog(tmp_path / "audit.sqlite") as log:
        rows = log.entries()
        assert log.verify() == []
    assert len(wire) == len(rows) == len(queries)
    for (line, headers, body), row, (_, redacted) in zip(wire, rows, queries, strict=True):
        assert line.startswith(b"POST /v1/chat/completions")
        assert body == row.payload  # the audit log holds the exact bytes that went out
        assert int(headers["content-length"]) == row.payload_bytes == len(body)
        sent: dict[str, Any] = json.loads(body)
        assert sent["messages"][-1] == {"role": "user", "content": redacted}
        assert row.text == redacted and row.outcome == "ok" and row.rule == "rule:general-knowledge"
        assert row.ttft_ms is not None and row.latency_ms is not None
        assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    everything_sent = b"".join(c.up for c in proxy.connections)
    for secret in (b"Alice", b"alice@example.com", b"Smith", b"Kitchen Light", b"light.kitchen"):
        assert secret not in everything_sent
    assert b"x-stainless" not in everything_sent.lower()


def test_the_next_local_command_works_after_the_server_goes_away(tmp_path: Path) -> None:
    if _MISSING:
        pytest.skip(_MISSING)
    server = LlamaServer()
    try:
        server.wait_ready()
        url = server.url
    finally:
        server.stop()  # the endpoint is now down
    s = settings_for(tmp_path, url, "allow")
    s = s.model_copy(update={"cloud": s.cloud.model_copy(update={"first_token_timeout_s": 2.0})})
    with Runtime(s) as a:
        t0 = time.monotonic()
        result = a.ask("who wrote Middlemarch")
        assert time.monotonic() - t0 < 4.0
        assert result.reply == "I can't reach the cloud right now."
        assert a.ask("turn on the kitchen light").decision.handled_by == "local"
