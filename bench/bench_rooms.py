"""Do two rooms asking at once each finish in about the time they take alone?

A real ``hearth serve`` (a subprocess on 127.0.0.1) and two satellites connected over
Wyoming with their tokens, each its own room and conversation: each sends transcripts to
Hearth's intent handler (``transcript`` -> ``handled``, as a satellite that does its own
speech-to-text would) and waits for the answer before the next; speech-to-text, shared
and locked, is left out so the rooms' understanding is what is measured. The commands
miss the sentence templates and take the local LLM path (checked: a turn answered any
other way is counted and reported). First each room
alone, then both at once; the goal is that a turn with the other room busy takes at most
1.3x its time alone (median). Before, one lock held every room for the whole turn.

    .venv/bin/python bench/bench_rooms.py --rounds 6 --json
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import dump_json, percentile, table
from served import ServerProcess
from wyoming.asr import Transcript
from wyoming.client import AsyncTcpClient
from wyoming.event import Event

GOAL_RATIO = 1.3
SATELLITES = ("sat1", "sat2")  # served.ServerProcess configures them with their tokens
ROOMS = {
    # each room says different devices, so neither room's turn is the other's follow-up
    "kitchen": ("the coffee machine should be on", "brighten up the kitchen a little",
                "switch the coffee thing on"),
    "office": ("the office lamp needs to be on", "make it brighter in the bathroom",
               "the desk lamp should be off"),
}


Answer = tuple[float, str, dict[str, float]]
"""A turn's ms from sending the transcript to the answer, who handled it, and its stages' ms."""


async def ask(client: AsyncTcpClient, text: str) -> Answer:
    """One turn, timed from here and by the server's stages (``timings_ms``)."""
    t0 = time.perf_counter()
    await client.write_event(Transcript(text=text).event())
    while True:
        event = await asyncio.wait_for(client.read_event(), 120)
        if event is None:
            raise SystemExit("bench: the server closed the connection")
        if event.type in ("handled", "not-handled"):
            ms = (time.perf_counter() - t0) * 1000.0
            hearth = (event.data.get("context") or {}).get("hearth") or {}
            return ms, str(hearth.get("handled_by", event.type)), dict(hearth.get("timings_ms") or {})


async def room(port: int, name: str, texts: tuple[str, ...], rounds: int,
               start: asyncio.Event | None = None) -> list[Answer]:
    client = AsyncTcpClient("127.0.0.1", port)
    await client.connect()
    await client.write_event(Event("info", {"satellite": {"name": name}, "token": f"{name}-token-123"}))
    try:
        if start is not None:
            await start.wait()
        return [await ask(client, text) for _ in range(rounds) for text in texts]
    finally:
        await client.disconnect()


async def measure(port: int, rounds: int) -> dict[str, Any]:
    """``rounds`` times: each room alone, then both at once (interleaved, so a change in
    the machine's load falls on both sides of the comparison)."""
    sats = dict(zip(ROOMS, SATELLITES, strict=True))
    alone: dict[str, list[Answer]] = {name: [] for name in ROOMS}
    together: dict[str, list[Answer]] = {name: [] for name in ROOMS}
    for _ in range(rounds):
        for name, texts in ROOMS.items():
            alone[name] += await room(port, sats[name], texts, 1)
        start = asyncio.Event()
        tasks = [asyncio.create_task(room(port, sats[name], texts, 1, start))
                 for name, texts in ROOMS.items()]
        await asyncio.sleep(0.5)  # both connected
        start.set()
        for name, turns in zip(ROOMS, await asyncio.gather(*tasks), strict=True):
            together[name] += turns
    out: dict[str, Any] = {"rooms": {}}
    for name in ROOMS:
        a = [ms for ms, _, _ in alone[name]]
        t = [ms for ms, _, _ in together[name]]
        off_path = sum(h != "local_llm" for _, h, _ in (*alone[name], *together[name]))
        out["rooms"][name] = {
            "turns": len(a) + len(t), "not_local_llm": off_path,
            "alone_median_ms": round(statistics.median(a), 1),
            "alone_p90_ms": round(percentile(a, 90), 1),
            "together_median_ms": round(statistics.median(t), 1),
            "together_p90_ms": round(percentile(t, 90), 1),
            "ratio_median": round(statistics.median(t) / statistics.median(a), 2),
            "stages_median_ms": {"alone": _stages(alone[name]), "together": _stages(together[name])},
        }
    worst = max(r["ratio_median"] for r in out["rooms"].values())
    out["worst_ratio"] = worst
    out["goal_ratio"] = GOAL_RATIO
    out["meets_goal"] = worst <= GOAL_RATIO
    return out


def _stages(turns: list[Answer]) -> dict[str, float]:
    """Each server stage's median ms over ``turns`` (where the time of a turn goes)."""
    names = sorted({k for _, _, timings in turns for k in timings})
    return {k: round(statistics.median(t.get(k, 0.0) for _, _, t in turns), 1) for k in names}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=4,
                    help="times each room says its commands alone and at once")
    ap.add_argument("--llm-parallel", type=int, default=None,
                    help="llm.parallel for the server (default: the config's, 1)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="hearth-bench-rooms-") as tmp:
        server = ServerProcess(Path(tmp), len(SATELLITES))
        if args.llm_parallel is not None:
            text = server.config.read_text()
            server.config.write_text(text.replace("[llm]\n", f"[llm]\nparallel = {args.llm_parallel}\n", 1))
        server.start()
        try:
            load_before = Path("/proc/loadavg").read_text().split()[:3]
            result = asyncio.run(measure(server.wyoming_port, args.rounds))
            result["loadavg_before"] = load_before
            result["llm_parallel"] = args.llm_parallel
            result["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
        finally:
            server.stop()
    if args.json:
        dump_json(result)
    else:
        rows = [[name, r["turns"], r["not_local_llm"], r["alone_median_ms"],
                 r["together_median_ms"], r["ratio_median"]] for name, r in result["rooms"].items()]
        print(table(["room", "turns", "not LLM path", "alone ms (median)", "together ms (median)",
                     "ratio"], rows))
        print(f"worst ratio {result['worst_ratio']} (goal <= {GOAL_RATIO}); load average "
              f"{' '.join(result['loadavg_before'])} before, {' '.join(result['loadavg_after'])} after")
    return 0 if result["meets_goal"] else 1


if __name__ == "__main__":
    sys.exit(main())
