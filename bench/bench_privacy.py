#!/usr/bin/env python3
"""The privacy path's cost and reach.

1. **prepare** — added latency of the policy decision + redaction + payload building per
   utterance (goal p50 <= 5 ms), on the redaction test set plus a mixed batch.
2. **route** — a mixed batch of what people say (home commands, general knowledge, health,
   money, personal errands, chit-chat) through the whole text turn in explain mode (nothing
   is sent): how much is handled on the device, kept local by the policy, or escalated,
   under each privacy mode.
3. **stream** — against a real OpenAI-compatible server (llama-cpp-python + the bundled
   SmolLM2 on 127.0.0.1): time from the start of a turn to the first sentence of a cloud
   answer, minus the server's own time to first token measured by a raw HTTP client with
   the identical request body (goal <= 400 ms). Also minus the raw client's time to the
   same first sentence, which is the latency Hearth itself adds.

    .venv/bin/python bench/bench_privacy.py [--json] [--rounds N] [--queries N] [--no-server]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from _common import REPO_ROOT, Progress, dump_json, pct, percentile, table

sys.path.insert(0, str(REPO_ROOT / "tests"))

from assistant.config import Settings, load_settings
from assistant.home.demo import DemoHome
from assistant.llm.cloud import SentenceSplitter
from assistant.privacy.minimise import build_payload
from assistant.privacy.policy import CloudRequest, evaluate
from assistant.privacy.redact import Redactor
from assistant.runtime import Runtime

REDACTION_SET = REPO_ROOT / "tests" / "data" / "redaction_set.jsonl"
GOAL_PREPARE_P50_MS = 5.0
GOAL_FIRST_SENTENCE_OVERHEAD_MS = 400.0

MIXED: list[tuple[str, str]] = [
    # (category, utterance)
    ("home", "turn on the kitchen light"),
    ("home", "turn off the lights in the bedroom"),
    ("home", "set the thermostat to 21 degrees"),
    ("home", "dim the living room lights"),
    ("home", "open the blinds"),
    ("home", "what's the temperature outside"),
    ("home", "start the vacuum"),
    ("home", "pause the music"),
    ("home", "turn the bedroom light blue"),
    ("home", "unlock the front door"),
    ("home", "is the garage door open"),
    ("home", "turn up the volume"),
    ("home", "switch on the coffee maker"),
    ("home", "close the garage door"),
    ("home-multi", "make the living room cosy for a film night"),
    ("home-multi", "get the house ready for bed"),
    ("home-multi", "it's too dark in here, can you help"),
    ("home-multi", "set things up for a dinner party in the kitchen"),
    ("knowledge", "who wrote Middlemarch"),
    ("knowledge", "what is the capital of Australia"),
    ("knowledge", "explain how rainbows form"),
    ("knowledge", "how many moons does Jupiter have"),
    ("knowledge", "give me a recipe for pancakes"),
    ("knowledge", "what's the difference between a crocodile and an alligator"),
    ("knowledge", "tell me a joke about cats"),
    ("knowledge", "translate good morning into Spanish"),
    ("knowledge", "when did the Berlin Wall fall"),
    ("knowledge", "why is the sky blue"),
    ("personal", "write a birthday message for Alice, she turns 40 on March 3rd"),
    ("personal", "what's a polite way to ask Bob to pay me back"),
    ("personal", "help me write an email to priya.patel@example.com about the party"),
    ("personal", "what is the best way to get from 221B Baker Street to Heathrow Airport"),
    ("personal", "draft a text to Charlie saying I'll be late, my number is 07700 900461"),
    ("health", "what medication helps a migraine"),
    ("health", "is my blood pressure of 150 over 95 too high"),
    ("health", "what are the symptoms of diabetes"),
    ("health", "book a doctor's appointment for Alice"),
    ("money", "what is a good savings account"),
    ("money", "is my card 4111 1111 1111 1111 a visa"),
    ("money", "how much tax do I pay on my salary"),
    ("money", "should I pay off my mortgage early"),
    ("chat", "I'm bored"),
    ("chat", "sing me a song"),
    ("chat", "blorp fizzle wumpus"),
    ("chat", "thank you"),
    ("chat", "good night"),
]

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


def _settings(data_dir: Path, *, mode: str = "allow", url: str | None = None,
              household: tuple[str, ...] = (), local_llm: bool = False) -> Settings:
    base = load_settings(data_dir=str(data_dir))
    return base.model_copy(update={
        "llm": base.llm.model_copy(update={"enabled": local_llm}),
        "privacy": base.privacy.model_copy(update={"mode": mode, "household": household}),
        "cloud": base.cloud.model_copy(update={"url": url, "first_token_timeout_s": 60.0,
                                                "total_timeout_s": 120.0, "max_tokens": 48,
                                                "temperature": 0.0}),
    })


def _redaction_texts() -> tuple[list[str], tuple[str, ...]]:
    texts: list[str] = []
    household: tuple[str, ...] = ()
    for line in REDACTION_SET.read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        if "config" in obj:
            household = tuple(obj["config"]["household"])
        else:
            texts.append(obj["text"])
    return texts, household


# ------------------------------------------------------------------ 1. prepare ----------


def bench_prepare(rounds: int, quiet: bool) -> dict[str, Any]:
    texts, household = _redaction_texts()
    texts += [t for _, t in MIXED]
    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(Path(tmp), household=household)
        p = settings.privacy
        home = DemoHome(REPO_ROOT / "configs" / "demo_home.yaml", Path(tmp) / "home.sqlite")
        redactor = Redactor(household=p.household, contacts=p.contacts, places=p.places,
                            names_from_context=p.names_from_context)
        policy_ms: list[float] = []
        redact_ms: list[float] = []
        total_ms: list[float] = []
        progress = Progress(rounds * len(texts), "policy + redaction", quiet=quiet)
        for _ in range(rounds):
            for text in texts:
                t0 = time.perf_counter()
                decision = evaluate(CloudRequest(text), p)
                t1 = time.perf_counter()
                red = redactor.redact(text, decision.redact or p.redact)
                t2 = time.perf_counter()
                build_payload(red.text, decision, home, p, area="living_room")
                t3 = time.perf_counter()
                policy_ms.append((t1 - t0) * 1000)
                redact_ms.append((t2 - t1) * 1000)
                total_ms.append((t3 - t0) * 1000)
                progress.step()
        home.close()

    def stats(values: list[float]) -> dict[str, float]:
        return {"p50": round(percentile(values, 50), 3), "p95": round(percentile(values, 95), 3),
                "p99": round(percentile(values, 99), 3), "max": round(max(values), 3)}

    total = stats(total_ms)
    return {"utterances": len(texts), "rounds": rounds, "policy_ms": stats(policy_ms),
            "redaction_ms": stats(redact_ms), "total_ms": total,
            "goal_p50_ms": GOAL_PREPARE_P50_MS, "meets_goal": total["p50"] <= GOAL_PREPARE_P50_MS}


# ------------------------------------------------------------------ 2. route ------------

OUTCOME = {"local": "on device", "local_llm": "on device", "clarify": "on device",
           "refused": "kept local by policy", "unhandled": "kept local by policy",
           "cloud": "escalated", "confirm": "asked first"}


def bench_route(quiet: bool, local_llm: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    progress = Progress(3 * len(MIXED), "mixed batch (explain: nothing sent)", quiet=quiet)
    for mode in ("local_only", "ask", "allow"):
        with tempfile.TemporaryDirectory() as tmp:
            # explain builds each request with the real client and stops it at the audit
            # gate, so this URL is never contacted
            settings = _settings(Path(tmp), mode=mode, url="http://127.0.0.1:9/v1",
                                 household=("Alice Smith", "Robert Smith | Bob"),
                                 local_llm=local_llm)
            counts: Counter[str] = Counter()
            by_category: dict[str, Counter[str]] = {}
            with Runtime(settings, explain=True) as a:
                for category, text in MIXED:
                    result = a.ask(text, dry_run=True)
                    trace = result.privacy
                    d = result.decision
                    if d.handled_by == "confirm" and d.pending:
                        outcome = "on device"  # a local sensitive action waiting for a yes
                    elif trace is None:
                        outcome = "on device"  # templates answered, even if only "sorry"
                    else:
                        outcome = OUTCOME[d.handled_by]
                    counts[outcome] += 1
                    by_category.setdefault(category, Counter())[outcome] += 1
                    progress.step()
            n = len(MIXED)
            out[mode] = {
                "counts": dict(counts),
                "share_pct": {k: round(pct(v, n), 1) for k, v in counts.items()},
                "by_category": {c: dict(v) for c, v in by_category.items()},
            }
    out["utterances"] = len(MIXED)
    out["local_llm"] = local_llm
    return out


# ------------------------------------------------------------------ 3. stream -----------


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
    from cloud_helpers import chunk, fault_server

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
        settings = _settings(Path(tmp), mode="allow", url=server.url, local_llm=local_llm)
        with Runtime(settings) as a:
            heard: list[float] = []
            a.cloud.add_listener(lambda _s: heard.append(time.perf_counter()))
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

    def col(name: str) -> dict[str, float]:
        values = [r[name] for r in rows]
        return {"p50": round(percentile(values, 50), 1), "p95": round(percentile(values, 95), 1)}

    summary = {k: col(k) for k in rows[0]}
    return {"turns": len(rows), "local_llm": local_llm, "server": f"scripted: first token after "
            f"{SCRIPTED_TTFT_S * 1000:.0f} ms, a token every {SCRIPTED_TOKEN_S * 1000:.0f} ms, "
            f"first sentence = {SCRIPTED_REPLY.index('.') + 1} tokens", **summary,
            "goal_ms": GOAL_FIRST_SENTENCE_OVERHEAD_MS,
            "meets_goal": summary["minus_server_ttft_ms"]["p50"] <= GOAL_FIRST_SENTENCE_OVERHEAD_MS}


def bench_stream(queries: int, quiet: bool, log: Path | None) -> dict[str, Any]:
    from cloud_helpers import LlamaServer, llama_cpp_missing

    missing = llama_cpp_missing()
    if missing:
        return {"skipped": missing}
    server = LlamaServer(log=log)
    rows: list[dict[str, float]] = []
    try:
        server.wait_ready()
        with tempfile.TemporaryDirectory() as tmp:
            settings = _settings(Path(tmp), mode="allow", url=server.url)
            settings = settings.model_copy(update={
                "cloud": settings.cloud.model_copy(update={"max_tokens": 32})})
            with Runtime(settings) as a:
                heard: list[float] = []
                a.cloud.add_listener(lambda _s: heard.append(time.perf_counter()))
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

    def col(name: str) -> dict[str, float]:
        values = [r[name] for r in rows]
        return {"p50": round(percentile(values, 50), 1), "p95": round(percentile(values, 95), 1)}

    summary = {k: col(k) for k in rows[0]}
    return {
        "turns": len(rows), "model": "SmolLM2-135M-Instruct Q4_1 (llama-cpp-python server)",
        **summary,
        "goal_ms": GOAL_FIRST_SENTENCE_OVERHEAD_MS,
        "meets_goal": summary["minus_server_ttft_ms"]["p50"] <= GOAL_FIRST_SENTENCE_OVERHEAD_MS,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--rounds", type=int, default=20, help="passes over the prepare batch")
    parser.add_argument("--queries", type=int, default=10, help="cloud turns against the server")
    parser.add_argument("--no-server", action="store_true", help="skip the real-server part")
    parser.add_argument("--no-local-llm", action="store_true",
                        help="route without the local LLM (templates, then the cloud)")
    parser.add_argument("--server-log", type=Path, help="keep the llama server's log here")
    args = parser.parse_args(argv)
    for name in ("HEARTH_CLOUD_URL", "HEARTH_CLOUD_MODEL", "HEARTH_CLOUD_API_KEY"):
        os.environ.pop(name, None)

    result: dict[str, Any] = {"prepare": bench_prepare(args.rounds, args.json)}
    result["route"] = bench_route(args.json, not args.no_local_llm)
    result["stream_scripted"] = bench_stream_scripted(max(args.queries, 10), args.json, False)
    if not args.no_local_llm:
        result["stream_scripted_with_local_llm"] = bench_stream_scripted(
            max(args.queries, 10), args.json, True)
    result["stream"] = ({"skipped": "--no-server"} if args.no_server
                        else bench_stream(args.queries, args.json, args.server_log))
    result["load_average"] = os.getloadavg()
    if args.json:
        dump_json(result)
        return 0

    p = result["prepare"]
    print(f"1. policy + redaction + payload, {p['utterances']} utterances x {p['rounds']} rounds")
    print(table(["step", "p50 ms", "p95 ms", "p99 ms", "max ms"],
                [(name, *(f"{p[key][q]:.3f}" for q in ("p50", "p95", "p99", "max")))
                 for name, key in (("policy", "policy_ms"), ("redaction", "redaction_ms"),
                                   ("total", "total_ms"))]))
    print(f"   load average during the run: {', '.join(f'{x:.1f}' for x in result['load_average'])}"
          f" on {os.cpu_count()} cores")
    print(f"   goal p50 <= {GOAL_PREPARE_P50_MS:g} ms -> {'met' if p['meets_goal'] else 'NOT met'}")
    r = result["route"]
    print(f"\n2. mixed batch of {r['utterances']} utterances (explain mode: nothing sent; "
          f"local LLM {'on' if r['local_llm'] else 'off'})")
    outcomes = ["on device", "kept local by policy", "asked first", "escalated"]
    print(table(["mode", *outcomes],
                [(mode, *(f"{r[mode]['share_pct'].get(o, 0.0):.1f}%" for o in outcomes))
                 for mode in ("local_only", "ask", "allow")]))
    for key in ("stream_scripted", "stream_scripted_with_local_llm"):
        if key not in result:
            continue
        s = result[key]
        print(f"\n3a. first cloud sentence, {s['server']}; local LLM "
              f"{'on (it runs first and passes)' if s['local_llm'] else 'off'}")
        names = [("turn start -> first sentence", "hearth_first_sentence_ms"),
                 ("first sentence - server TTFT", "minus_server_ttft_ms"),
                 ("hearth: turn start -> request at server", "before_send_ms"),
                 ("hearth: sentence sent -> sentence out", "after_receive_ms"),
                 ("hearth overhead (sum)", "hearth_overhead_ms")]
        print(table(["measure", "p50 ms", "p95 ms"],
                    [(label, f"{s[k]['p50']:.1f}", f"{s[k]['p95']:.1f}") for label, k in names]))
        print(f"   {s['turns']} turns; goal (first sentence - server TTFT) <= "
              f"{GOAL_FIRST_SENTENCE_OVERHEAD_MS:g} ms -> {'met' if s['meets_goal'] else 'NOT met'}")
    s = result["stream"]
    print("\n3b. first cloud sentence vs the server's own timing, real llama server")
    if "skipped" in s:
        print(f"   skipped: {s['skipped']}")
    else:
        names = [("turn start -> first sentence", "hearth_first_sentence_ms"),
                 ("server TTFT (raw client)", "raw_ttft_ms"),
                 ("server first sentence (raw client)", "raw_first_sentence_ms"),
                 ("first sentence - server TTFT", "minus_server_ttft_ms"),
                 ("first sentence - raw first sentence", "minus_raw_first_sentence_ms")]
        print(table(["measure", "p50 ms", "p95 ms"],
                    [(label, f"{s[k]['p50']:.1f}", f"{s[k]['p95']:.1f}") for label, k in names]))
        print(f"   {s['turns']} turns on {s['model']}; goal (first sentence - server TTFT) <= "
              f"{GOAL_FIRST_SENTENCE_OVERHEAD_MS:g} ms -> {'met' if s['meets_goal'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
