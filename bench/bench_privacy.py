#!/usr/bin/env python3
"""The privacy path's cost and reach.

1. **prepare** — added latency of the policy decision + redaction + payload building per
   utterance (goal p50 <= 5 ms), on the redaction test set plus a mixed batch.
2. **route** — a mixed batch of what people say (home commands, general knowledge, health,
   money, personal errands, chit-chat) through the whole text turn in explain mode (nothing
   is sent): how much is handled on the device, kept local by the policy, or escalated,
   under each privacy mode.
3. **stream** (bench/privacy_stream.py) — against a scripted server and a real
   OpenAI-compatible server (llama-cpp-python + the bundled SmolLM2 on 127.0.0.1): time
   from the start of a turn to the first sentence of a cloud answer, minus the server's own
   time to first token measured by a raw HTTP client with the identical request body (goal
   <= 400 ms). Also minus the raw client's time to the same first sentence, which is the
   latency Hearth itself adds.

    .venv/bin/python bench/bench_privacy.py [--json] [--rounds N] [--queries N] [--no-server]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _common import REPO_ROOT, Progress, dump_json, pct, percentile, table
from privacy_stream import (
    GOAL_FIRST_SENTENCE_OVERHEAD_MS,
    bench_stream,
    bench_stream_scripted,
    privacy_settings,
)

from assistant.home.demo import DemoHome
from assistant.privacy.minimise import build_payload
from assistant.privacy.policy import CloudRequest, evaluate
from assistant.privacy.redact import Redactor
from assistant.runtime import Runtime

REDACTION_SET = REPO_ROOT / "tests" / "data" / "redaction_set.jsonl"
GOAL_PREPARE_P50_MS = 5.0

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
        settings = privacy_settings(Path(tmp), household=household)
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
            settings = privacy_settings(Path(tmp), mode=mode, url="http://127.0.0.1:9/v1",
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
