"""Hostile and unlucky input (issue 17): is every input bounded, is the cost the same under
any hash seed, and does a hostile turn in one room hold up another?

1. **seeds** — for each ``PYTHONHASHSEED``, one process times understanding (``hearth
   ask``'s path, models loaded once) on texts built to be expensive: hassil's wildcard
   sentences repeated up to understanding's caps, the issue's 30 KB input, a long list of
   devices. Goal: the same answers and about the same time under every seed.
2. **entry** — how long each entry point takes to refuse an oversized input: ``hearth
   ask`` with 30 KB and 100 KB of text (process start to exit), ``/api/ask`` with 50 KB,
   a Wyoming ``transcript`` of 50 KB (the issue's 16 s stall).
3. **rooms** — a real ``hearth serve``: ``/api/ask`` latency for a plain command alone,
   then while a second client (another room) keeps sending the most expensive transcript
   the limits still accept (a list of devices at understanding's cap: split into parts,
   each through the local LLM). Goal: the plain command's p50 unchanged.

    .venv/bin/python bench/bench_hostile.py [--seeds 1,2,3,4,5] [--rounds 20] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
from pathlib import Path
from typing import Any

from _common import REPO_ROOT, dump_json, percentile, table
from served import HEARTH, ServerProcess

from assistant.limits import TEXT_CHARS, UNDERSTAND_CHARS, UNDERSTAND_WORDS

WILDCARD = "remind me to call mom in ten minutes "
DEVICES = "turn on the kitchen light and the hallway light and the bedroom fan and the tv "
PLAIN = "turn on the kitchen light"


def hostile_texts() -> dict[str, str]:
    """Name -> text: the worst shapes found, at and past understanding's caps."""
    def upto(base: str, chars: int) -> str:
        words = (base * (chars // len(base) + 2)).split()
        out: list[str] = []
        while words and len(" ".join([*out, words[0]])) <= chars and len(out) < UNDERSTAND_WORDS:
            out.append(words.pop(0))
        return " ".join(out)

    return {
        "plain": PLAIN,
        "wildcards at the cap": upto(WILDCARD, UNDERSTAND_CHARS),
        "devices at the cap": upto(DEVICES, UNDERSTAND_CHARS),
        "wildcards, 2,000 chars": (WILDCARD * 80)[:TEXT_CHARS],
        "the issue's 30 KB": (WILDCARD * 900)[:30_000],
    }


_CHILD = """
import json, sys, time
from assistant.runtime import Runtime
from assistant.config import load_settings
texts = json.loads(sys.stdin.read())
out = {}
with Runtime(load_settings()) as a:
    a.ask("turn on the light in the hall", dry_run=True)  # warm: the LLM loads on a miss
    for name, text in texts.items():
        times, answer = [], None
        for _ in range(3):
            t0 = time.perf_counter()
            r = a.ask(text, dry_run=True)
            times.append((time.perf_counter() - t0) * 1000)
            answer = [r.decision.handled_by, r.decision.intent, r.reply]
        out[name] = {"ms": sorted(times)[1], "answer": answer}
print(json.dumps(out))
"""


def bench_seeds(seeds: list[str], data: Path) -> dict[str, Any]:
    texts = hostile_texts()
    per_seed: dict[str, Any] = {}
    for seed in seeds:
        env = {**os.environ, "PYTHONHASHSEED": seed, "HEARTH_DATA_DIR": str(data / f"seed{seed}"),
               "PYTHONPATH": str(REPO_ROOT)}
        proc = subprocess.run([sys.executable, "-c", _CHILD], input=json.dumps(texts), text=True,
                              capture_output=True, env=env, timeout=1800, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"bench: seed {seed} failed:\n{proc.stderr[-2000:]}")
        per_seed[seed] = json.loads(proc.stdout.splitlines()[-1])
        sys.stderr.write(f"seed {seed} done (load {os.getloadavg()[0]:.2f})\n")
    first = per_seed[seeds[0]]
    same = all(per_seed[s][n]["answer"] == first[n]["answer"] for s in seeds for n in texts)
    return {"seeds": per_seed, "same_answers": same, "texts": {n: len(t) for n, t in texts.items()}}


def _timed_cli(*args: str, data: Path) -> tuple[float, int, str]:
    env = {**os.environ, "HEARTH_DATA_DIR": str(data)}
    t0 = time.monotonic()
    proc = subprocess.run([HEARTH, *args], capture_output=True, text=True, env=env, timeout=600,
                          check=False)
    return (time.monotonic() - t0) * 1000, proc.returncode, proc.stderr.strip()[:100]


async def _wyoming(port: int, kind: str, data: dict[str, Any], until: tuple[str, ...],
                   token: str) -> tuple[float, str]:
    from wyoming.event import Event, async_read_event, async_write_event

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await async_write_event(Event("auth", {"token": token}), writer)
        t0 = time.monotonic()
        await async_write_event(Event(kind, data), writer)
        while True:
            ev = await asyncio.wait_for(async_read_event(reader), 300)
            if ev is None or ev.type in until:
                return (time.monotonic() - t0) * 1000, ev.type if ev else "closed"
    finally:
        writer.close()


class Server(ServerProcess):
    TOKEN = "bench-hostile-token"

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        super().__init__(folder, 0)
        self.config.write_text(self.config.read_text().replace(
            "[server]\n", f'[server]\ntoken = "{self.TOKEN}"\n', 1))

    def ask(self, text: str) -> tuple[float, int]:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/ask", data=json.dumps({"text": text,
                                                                      "dry_run": True}).encode(),
            headers={"content-type": "application/json", "authorization": f"Bearer {self.TOKEN}"})
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=300) as res:
                res.read()
                code = res.status
        except urllib.error.HTTPError as exc:
            code = exc.code
        return (time.monotonic() - t0) * 1000, code

    def transcript(self, text: str) -> tuple[float, str]:
        return asyncio.run(_wyoming(self.wyoming_port, "transcript", {"text": text},
                                    ("handled", "not-handled", "error"), self.TOKEN))


def bench_server(rounds: int, data: Path) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for size in (30_000, 100_000):
        ms, rc, err = _timed_cli("ask", (WILDCARD * 3000)[:size], data=data / "cli")
        entry[f"hearth ask, {size // 1000} KB"] = {"ms": ms, "result": f"exit {rc}: {err}"}
    server = Server(data / "server")
    server.start()
    try:
        server.ask(PLAIN)  # warm
        ms, code = server.ask((WILDCARD * 2000)[:50_000])
        entry["/api/ask, 50 KB"] = {"ms": ms, "result": f"HTTP {code}"}
        ms, kind = server.transcript((WILDCARD * 2000)[:50_000])
        entry["Wyoming transcript, 50 KB"] = {"ms": ms, "result": kind}
        worst = hostile_texts()["devices at the cap"]  # the slowest accepted text (part 1)
        hostile_ms = [server.transcript(worst)[0] for _ in range(3)]
        alone = [server.ask(PLAIN)[0] for _ in range(rounds)]
        stop = threading.Event()
        hostile_ms.clear()

        def attack() -> None:
            while not stop.is_set():
                hostile_ms.append(server.transcript(worst)[0])

        attacker = threading.Thread(target=attack, daemon=True)
        attacker.start()
        time.sleep(1.0)
        beside: list[float] = []
        for _ in range(rounds):
            beside.append(server.ask(PLAIN)[0])
            time.sleep(0.1)
        stop.set()
        attacker.join(300)
    finally:
        server.stop()
    return {"entry": entry, "rooms": {
        "alone_p50_ms": percentile(alone, 50), "alone_p95_ms": percentile(alone, 95),
        "beside_hostile_p50_ms": percentile(beside, 50), "beside_hostile_p95_ms": percentile(beside, 95),
        "hostile_turn_p50_ms": percentile(hostile_ms, 50), "hostile_turns": len(hostile_ms),
        "rounds": rounds}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2,3,4,5")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--skip-seeds", action="store_true")
    parser.add_argument("--skip-server", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()
    out: dict[str, Any] = {"load_before": load_before}
    with tempfile.TemporaryDirectory(prefix="hearth-bench-hostile-") as tmp:
        if not args.skip_seeds:
            out["seeds"] = bench_seeds(args.seeds.split(","), Path(tmp))
            if not args.json:
                _print_seeds(out["seeds"])
        if not args.skip_server:
            out["server"] = bench_server(args.rounds, Path(tmp))
            if not args.json:
                _print_server(out["server"])
    out["load_after"] = os.getloadavg()
    if args.json:
        dump_json(out)
    else:
        print(f"\nload average before {load_before[0]:.2f}, after {out['load_after'][0]:.2f}")
    return 0


def _print_seeds(s: dict[str, Any]) -> None:
    seeds = list(s["seeds"])
    print("1. understanding time (ms, median of 3) per PYTHONHASHSEED")
    print(table(["text", "chars", *[f"seed {x}" for x in seeds]],
                [[n, c, *[s["seeds"][x][n]["ms"] for x in seeds]] for n, c in s["texts"].items()]))
    print(f"   same answers under every seed: {s['same_answers']}", flush=True)


def _print_server(server: dict[str, Any]) -> None:
    e, r = server["entry"], server["rooms"]
    print("\n2. refusing oversized input")
    print(table(["entry", "ms", "result"], [[k, v["ms"], v["result"]] for k, v in e.items()]))
    print(f"\n3. /api/ask '{PLAIN}' ({r['rounds']} rounds): alone p50 {r['alone_p50_ms']:.0f} ms, "
          f"p95 {r['alone_p95_ms']:.0f} ms; beside a room sending the worst accepted transcript "
          f"p50 {r['beside_hostile_p50_ms']:.0f} ms, p95 {r['beside_hostile_p95_ms']:.0f} ms "
          f"(hostile turns: {r['hostile_turns']}, p50 {r['hostile_turn_p50_ms']:.0f} ms)",
          flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
