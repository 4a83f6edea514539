"""The privacy bench's third part, **stream**: time from the start of a turn to the first
sentence of a cloud answer, against a scripted server whose timing is known exactly and
against a real OpenAI-compatible server (llama-cpp-python + the bundled SmolLM2 on
127.0.0.1), minus the server's own time to first token measured by a raw HTTP client with
the identical request body (goal <= 400 ms). Run by bench/bench_privacy.py."""

from __future__ import annotations

import http.client
import json
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from _common import Progress, percentile

from assistant.config import Settings, load_settings
from assistant.events import Event, EventSink, ReplySentence
from assistant.llm.cloud import SentenceSplitter
from assistant.runtime import Runtime

GOAL_FIRST_SENTENCE_OVERHEAD_MS = 400.0

QUESTIONS = [
    "who wrote Middlemarch",
    "what is the capital of France",
    "explain how rainbows form",
    "tell me a joke about cats",
    "why is the sky blue",
    "what is a good recipe for pancakes",
    "how many legs does a spider have",
    "what is the tallest mountain in the world",
    "who painted the Mona Lisa",
    "what is photosynthesis",
]



def privacy_settings(data_dir: Path, *, mode: str = "allow", url: str | None = None,
              household: tuple[str, ...] = (), local_llm: bool = False) -> Settings:
    """The privacy benches' settings: a privacy mode, a cloud at ``url`` (long timeouts,
    short greedy answers), the local LLM on or off."""
    base = load_settings(data_dir=str(data_dir))
    return base.model_copy(update={
        "llm": base.llm.model_copy(update={"enabled": local_llm}),
        "privacy": base.privacy.model_copy(update={"mode": mode, "household": household}),
        "cloud": base.cloud.model_copy(update={"url": url, "first_token_timeout_s": 60.0,
                                                "total_timeout_s": 120.0, "max_tokens": 48,
                                                "temperature": 0.0}),
    })


def _summary(rows: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Each measure's p50 and p95 over the turns."""
    return {name: {"p50": round(percentile([r[name] for r in rows], 50), 1),
                   "p95": round(percentile([r[name] for r in rows], 95), 1)} for name in rows[0]}


def _flush_prompt_cache(url: str) -> None:
    """llama.cpp reuses the previous request's prompt; a different one makes the next
    request pay for its whole prompt, so Hearth and the raw client are timed alike."""
    body = json.dumps({"model": "x", "max_tokens": 1, "messages": [
        {"role": "user", "content": f"flush {time.perf_counter()}"}]}).encode()
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port, timeout=120)
    conn.request("POST", u.path, body, {"Content-Type": "application/json"})
    conn.getresponse().read()
    conn.close()


def _raw_timings(url: str, body: bytes) -> tuple[float, float]:
    """Time to first content token and to the first complete sentence, by a bare HTTP client."""
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port, timeout=120)
    splitter = SentenceSplitter()
    t0 = time.perf_counter()
    conn.request("POST", u.path, body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    ttft: float | None = None
    first_sentence: float | None = None
    while True:
        line = resp.readline()
        if not line:
            break
        if not line.startswith(b"data: {"):
            continue
        delta = json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
        if delta and ttft is None:
            ttft = (time.perf_counter() - t0) * 1000
        if delta and first_sentence is None and splitter.feed(delta):
            first_sentence = (time.perf_counter() - t0) * 1000
    end = (time.perf_counter() - t0) * 1000
    if first_sentence is None and splitter.flush():
        first_sentence = end
    conn.close()
    return ttft or end, first_sentence or end


SCRIPTED_TTFT_S = 0.2
SCRIPTED_TOKEN_S = 0.02
SCRIPTED_REPLY = ["Middle", "march", " was", " written", " by", " George", " Eliot", ".",
                  " It", " came", " out", " in", " 1871", "."]


def bench_stream_scripted(queries: int, quiet: bool, local_llm: bool) -> dict[str, Any]:
    """Hearth's own share of the wait, against a server whose timing is known exactly: it
    answers after 200 ms and then streams a token every 20 ms, noting when each write left."""
    from tests.cloud_helpers import chunk, fault_server

    marks: dict[str, float] = {}

    def behaviour(h: Any, stop: Any) -> None:
        marks["received"] = time.perf_counter()
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.end_headers()
        stop.wait(SCRIPTED_TTFT_S)
        for i, token in enumerate(SCRIPTED_REPLY):
            if i:
                stop.wait(SCRIPTED_TOKEN_S)
            h.wfile.write(b"data: " + json.dumps(chunk(token)).encode() + b"\n\n")
            h.wfile.flush()
            if i == 0:
                marks["first_token"] = time.perf_counter()
            if token == "." and "first_sentence" not in marks:
                marks["first_sentence"] = time.perf_counter()
        h.wfile.write(b"data: [DONE]\n\n")

    rows: list[dict[str, float]] = []
    with fault_server(behaviour) as server, tempfile.TemporaryDirectory() as tmp:
        settings = privacy_settings(Path(tmp), mode="allow", url=server.url, local_llm=local_llm)
        heard: list[float] = []
        with Runtime(settings, emit=_sentence_clock(heard)) as a:
            progress = Progress(queries + 1, "cloud turns vs a scripted server", quiet=quiet)
            for n, text in enumerate((QUESTIONS * (2 + queries // len(QUESTIONS)))[:queries + 1]):
                heard.clear()
                marks.clear()
                t0 = time.perf_counter()
                a.ask(text)
                progress.step()
                if n == 0 or not heard:
                    continue  # the first turn opens the audit log and the HTTP client
                rows.append({
                    "hearth_first_sentence_ms": (heard[0] - t0) * 1000,
                    "server_ttft_ms": (marks["first_token"] - t0) * 1000,
                    "minus_server_ttft_ms": (heard[0] - marks["first_token"]) * 1000,
                    "before_send_ms": (marks["received"] - t0) * 1000,
                    "after_receive_ms": (heard[0] - marks["first_sentence"]) * 1000,
                    "hearth_overhead_ms": ((marks["received"] - t0)
                                           + (heard[0] - marks["first_sentence"])) * 1000,
                })

    summary = _summary(rows)
    return {"turns": len(rows), "local_llm": local_llm, "server": f"scripted: first token after "
            f"{SCRIPTED_TTFT_S * 1000:.0f} ms, a token every {SCRIPTED_TOKEN_S * 1000:.0f} ms, "
            f"first sentence = {SCRIPTED_REPLY.index('.') + 1} tokens", **summary,
            "goal_ms": GOAL_FIRST_SENTENCE_OVERHEAD_MS,
            "meets_goal": summary["minus_server_ttft_ms"]["p50"] <= GOAL_FIRST_SENTENCE_OVERHEAD_MS}


def _sentence_clock(heard: list[float]) -> EventSink:
    """An event sink noting when each streamed sentence (``reply_sentence``) arrived."""
    def sink(event: Event) -> None:
        if isinstance(event, ReplySentence):
            heard.append(time.perf_counter())
    return sink


def bench_stream(queries: int, quiet: bool, log: Path | None) -> dict[str, Any]:
    from tests.llama_server import LlamaServer, llama_cpp_missing

    missing = llama_cpp_missing()
    if missing:
        return {"skipped": missing}
    server = LlamaServer(log=log)
    rows: list[dict[str, float]] = []
    try:
        server.wait_ready()
        with tempfile.TemporaryDirectory() as tmp:
            settings = privacy_settings(Path(tmp), mode="allow", url=server.url)
            settings = settings.model_copy(update={
                "cloud": settings.cloud.model_copy(update={"max_tokens": 32})})
            heard: list[float] = []
            with Runtime(settings, emit=_sentence_clock(heard)) as a:
                a.ask("hello there, who are you")  # warm the server and the client
                progress = Progress(queries, "cloud turns vs raw client", quiet=quiet)
                chat_url = f"{server.url}/chat/completions"
                for text in (QUESTIONS * (1 + queries // len(QUESTIONS)))[:queries]:
                    _flush_prompt_cache(chat_url)
                    heard.clear()
                    t0 = time.perf_counter()
                    result = a.ask(text)
                    trace = result.privacy
                    if result.decision.handled_by != "cloud" or not heard or trace is None \
                            or trace.body is None:
                        progress.step()
                        continue
                    hearth_first = (heard[0] - t0) * 1000
                    _flush_prompt_cache(chat_url)
                    raw_ttft, raw_first = _raw_timings(chat_url, trace.body)
                    rows.append({
                        "hearth_first_sentence_ms": hearth_first,
                        "hearth_ttft_ms": trace.ttft_ms or 0.0,
                        "raw_ttft_ms": raw_ttft,
                        "raw_first_sentence_ms": raw_first,
                        "minus_server_ttft_ms": hearth_first - raw_ttft,
                        "minus_raw_first_sentence_ms": hearth_first - raw_first,
                        "prepare_ms": trace.prepare_ms,
                    })
                    progress.step()
    finally:
        server.stop()
    if not rows:
        return {"skipped": "no cloud turn produced a sentence"}

    summary = _summary(rows)
    return {
        "turns": len(rows), "model": "SmolLM2-135M-Instruct Q4_1 (llama-cpp-python server)",
        **summary,
        "goal_ms": GOAL_FIRST_SENTENCE_OVERHEAD_MS,
        "meets_goal": summary["minus_server_ttft_ms"]["p50"] <= GOAL_FIRST_SENTENCE_OVERHEAD_MS,
    }
