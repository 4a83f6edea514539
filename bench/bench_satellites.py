"""How many satellites can stream to one `hearth serve` at once, each with its own wake
word on the server, while their commands are still answered in time?

For each count N the script starts a real server (a subprocess on 127.0.0.1), connects
N satellites over Wyoming (in this process, one asyncio task each) and streams continuous
room noise to all of them in real time, with "Hey Jarvis, turn on the light." spoken
into each every ``--interval`` seconds at a staggered, jittered time (so commands
sometimes overlap, as in a real house). Each satellite measures, on its own clock, end
of speech -> action: from sending the audio chunk that holds the end of speech to
receiving the action event. A command with no action on that room's light is missed.

Also: the server's memory with N satellites (and per extra satellite), its CPU use, and
a soak mode (``--soak-minutes``): two satellites for a long time, memory sampled
throughout, growth and missed turns reported.

    .venv/bin/python bench/bench_satellites.py --counts 1,2,4,6 --seconds 60
    .venv/bin/python bench/bench_satellites.py --soak-minutes 60 --json
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from _common import REPO_ROOT, Progress, dump_json, percentile, table
from served import AREAS, ServerProcess

from assistant.audio.chunk import CHUNK_SAMPLES, SAMPLE_RATE, AudioChunk
from assistant.satellite import Satellite

COMMAND = "Hey Jarvis, turn on the light."
GOAL_P95_MS = 1500.0
NOISE_LEVEL = 30


def log(msg: str) -> None:
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


# --- the satellites' audio ---------------------------------------------------------------------


def command_audio() -> np.ndarray:
    """The spoken command, synthesized once with the bundled Piper voice (16 kHz)."""
    import soxr

    from assistant.audio.chunk import to_int16
    from assistant.config import load_settings
    from assistant.tts.piper import PiperTts

    tts = PiperTts(load_settings().tts)
    audio = tts.speak_all(COMMAND).astype(np.float32) / 32768.0
    return to_int16(soxr.resample(audio, tts.sample_rate, SAMPLE_RATE))


@dataclass
class Schedule:
    """When each command starts (seconds into the stream)."""

    starts: list[float] = field(default_factory=list)


def schedule(seconds: float, interval: float, rng: random.Random, offset: float) -> Schedule:
    starts, t = [], offset
    while t + 4.0 < seconds:  # leave room for the last command's answer
        starts.append(t)
        t += interval * rng.uniform(0.8, 1.2)
    return Schedule(starts)


async def stream(queue: asyncio.Queue[AudioChunk | None], command: np.ndarray,
                 sched: Schedule, seconds: float, rng: np.random.Generator, t0: float) -> None:
    """Real-time audio: quiet room noise with the command spoken at the scheduled times."""
    total = int(seconds * SAMPLE_RATE)
    signal_ = rng.integers(-NOISE_LEVEL, NOISE_LEVEL + 1, total).astype(np.int16)
    for start in sched.starts:
        i = int(start * SAMPLE_RATE)
        j = min(total, i + len(command))
        signal_[i:j] = np.clip(signal_[i:j].astype(np.int32) + command[: j - i], -32768,
                               32767).astype(np.int16)
    for k, pos in enumerate(range(0, total - CHUNK_SAMPLES + 1, CHUNK_SAMPLES)):
        due = t0 + (k + 1) * CHUNK_SAMPLES / SAMPLE_RATE
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await queue.put(AudioChunk(signal_[pos:pos + CHUNK_SAMPLES], pos * 1000.0 / SAMPLE_RATE))
    await queue.put(None)


@dataclass
class SatResult:
    name: str
    area: str
    commands: int
    answered: int
    latencies_ms: list[float]
    errors: list[str]
    wrong: int = 0
    wakes: int = 0
    turns: int = 0
    not_acted: list[str] = field(default_factory=list)
    """What was heard in the turns that did not switch the expected light."""


async def run_satellites(server: ServerProcess, command: np.ndarray, seconds: float,
                         interval: float, seed: int, expected: dict[str, str],
                         progress: Progress | None) -> list[SatResult]:
    rng = random.Random(seed)
    sats, scheds = [], []
    tasks: list[asyncio.Task[Any]] = []
    t0 = time.monotonic() + 1.0
    for i, name in enumerate(server.names):
        area = AREAS[i % len(AREAS)]
        sat = Satellite(f"tcp://127.0.0.1:{server.wyoming_port}", name=name, area=area,
                        token=f"{name}-token-123")
        await sat.connect()
        q: asyncio.Queue[AudioChunk | None] = asyncio.Queue()
        sched = schedule(seconds, interval, rng, offset=rng.uniform(2.0, 2.0 + interval))
        scheds.append(sched)
        sats.append(sat)
        tasks.append(asyncio.create_task(
            stream(q, command, sched, seconds, np.random.default_rng(seed + i), t0)))
        tasks.append(asyncio.create_task(sat.run(q)))

    async def tick() -> None:
        while progress is not None and time.monotonic() < t0 + seconds:
            await asyncio.sleep(1.0)
            progress.step()

    ticker = asyncio.create_task(tick())
    await asyncio.gather(*tasks)
    ticker.cancel()
    results = []
    for i, (sat, sched) in enumerate(zip(sats, scheds, strict=True)):
        await sat.close()
        area = AREAS[i % len(AREAS)]
        good = [t for t in sat.summary.turns
                if any(a["entity_id"] == expected[area] for a in t.actions)]
        lat = [t.end_to_action_ms for t in good if t.end_to_action_ms is not None]
        others = [t for t in sat.summary.turns if t not in good]
        results.append(SatResult(sat.name, area, len(sched.starts), len(good), lat,
                                 sat.summary.errors, sum(bool(t.actions) for t in others),
                                 wakes=sat.summary.wakes, turns=len(sat.summary.turns),
                                 not_acted=[f"{t.transcript!r} -> {t.handled_by}" for t in others]))
    return results


# --- one load level ----------------------------------------------------------------------------


def expected_entities(server: ServerProcess) -> dict[str, str]:
    out = {}
    for area in AREAS:
        res = server.api("/api/ask", {"text": "turn on the light", "area": area, "dry_run": True})
        out[area] = res["actions"][0]["entity_id"]
    return out


def run_level(n: int, args: argparse.Namespace, command: np.ndarray) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hearth-bench-sat-") as tmp:
        server = ServerProcess(Path(tmp), n)
        server.start()
        try:
            expected = expected_entities(server)
            rss_idle = server.rss_mb()
            cpu0, w0 = server.cpu_s(), time.monotonic()
            progress = None if args.quiet else Progress(int(args.seconds), f"{n} satellite(s)")
            results = asyncio.run(run_satellites(server, command, args.seconds, args.interval,
                                                 args.seed + n, expected, progress))
            cpu = (server.cpu_s() - cpu0) / (time.monotonic() - w0)
            rss = server.rss_mb()
            server_turns = [t for t in server.api("/api/turns?limit=1000")
                            if t["source"] != "api"]
            stt_calls = server.metric("hearth_stt_run_seconds_count")
            stt_run = server.metric("hearth_stt_run_seconds_sum")
            stt_wait = server.metric("hearth_stt_wait_seconds_sum")
            wakes = server.metric("hearth_wake_detections_total")
        finally:
            rc = server.stop()
            kept = None
            if args.keep_logs:
                kept = Path(args.keep_logs) / f"server-{n}.log"
                kept.parent.mkdir(parents=True, exist_ok=True)
                kept.write_bytes(server.log.read_bytes())
    lat = [x for r in results for x in r.latencies_ms]
    commands = sum(r.commands for r in results)
    answered = sum(r.answered for r in results)
    server_e2a = [t["stages_ms"]["end_to_action"] for t in server_turns
                  if "end_to_action" in t.get("stages_ms", {})]
    stt = [t["stages_ms"]["stt"] for t in server_turns if "stt" in t.get("stages_ms", {})]
    return {
        "satellites": n, "commands": commands, "answered": answered,
        "missed": commands - answered, "wrong": sum(r.wrong for r in results),
        "p50_ms": round(percentile(lat, 50), 1), "p95_ms": round(percentile(lat, 95), 1),
        "max_ms": round(max(lat), 1) if lat else 0.0,
        "server_p95_ms": round(percentile(server_e2a, 95), 1),
        "stt_p50_ms": round(percentile(stt, 50), 1),
        "stt_calls_per_turn": round(stt_calls / max(1, len(server_turns)), 2),
        "stt_run_mean_ms": round(1000.0 * stt_run / max(1.0, stt_calls), 1),
        "stt_wait_mean_ms": round(1000.0 * stt_wait / max(1.0, stt_calls), 1),
        "wakes": int(wakes),
        "rss_idle_mb": round(rss_idle, 1), "rss_mb": round(rss, 1),
        "cpu_cores": round(cpu, 2), "exit_code": rc,
        "errors": [e for r in results for e in r.errors][:10],
        "server_log": str(kept) if kept else None,
        "ok": bool(lat) and percentile(lat, 95) <= GOAL_P95_MS and answered == commands,
    }


# --- soak ------------------------------------------------------------------------------------


def run_soak(args: argparse.Namespace, command: np.ndarray) -> dict[str, Any]:
    seconds = args.soak_minutes * 60.0
    samples: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="hearth-bench-soak-") as tmp:
        server = ServerProcess(Path(tmp), 2)
        server.start()
        try:
            expected = expected_entities(server)
            start = time.monotonic()

            async def sample() -> None:
                while True:
                    samples.append((time.monotonic() - start, server.rss_mb()))
                    await asyncio.sleep(args.sample_s)

            async def both() -> list[SatResult]:
                sampler = asyncio.create_task(sample())
                progress = None if args.quiet else Progress(int(seconds), "soak, 2 satellites")
                try:
                    return await run_satellites(server, command, seconds, args.interval,
                                                args.seed, expected, progress)
                finally:
                    sampler.cancel()

            results = asyncio.run(both())
            samples.append((time.monotonic() - start, server.rss_mb()))
        finally:
            rc = server.stop()
            if args.keep_logs:
                kept = Path(args.keep_logs) / "server-soak.log"
                kept.parent.mkdir(parents=True, exist_ok=True)
                kept.write_bytes(server.log.read_bytes())
    warm = [m for t, m in samples if t >= min(60.0, seconds / 4)] or [m for _, m in samples]
    first, last, peak = warm[0], warm[-1], max(warm)
    lat = [x for r in results for x in r.latencies_ms]
    commands = sum(r.commands for r in results)
    answered = sum(r.answered for r in results)
    return {
        "minutes": args.soak_minutes, "satellites": 2, "commands": commands,
        "answered": answered, "missed": commands - answered,
        "p50_ms": round(percentile(lat, 50), 1), "p95_ms": round(percentile(lat, 95), 1),
        "rss_after_warmup_mb": round(first, 1), "rss_end_mb": round(last, 1),
        "rss_peak_mb": round(peak, 1), "growth_pct": round(100.0 * (last - first) / first, 2),
        "rss_samples": [(round(t, 1), round(m, 1)) for t, m in samples], "exit_code": rc,
        "rss_growth_last_45_min_pct": _growth(samples, seconds - 45 * 60),
        "wrong": sum(r.wrong for r in results),
        "per_satellite": [{"name": r.name, "commands": r.commands, "wakes": r.wakes,
                           "turns": r.turns, "answered": r.answered, "errors": r.errors[:20],
                           "not_acted": r.not_acted[:50]} for r in results],
    }


def _growth(samples: list[tuple[float, float]], since_s: float) -> float | None:
    """RSS growth (%) from ``since_s`` into the soak to its end: the slope once every
    cache and allocator arena has been touched (a leak keeps climbing; warm-up does not)."""
    later = [m for t, m in samples if t >= since_s]
    if since_s <= 0 or len(later) < 2:
        return None
    return round(100.0 * (later[-1] - later[0]) / later[0], 2)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--counts", default="1,2,4,6", help="satellite counts to try (default 1,2,4,6)")
    p.add_argument("--seconds", type=float, default=60.0, help="stream length per count")
    p.add_argument("--interval", type=float, default=10.0,
                   help="seconds between a satellite's commands (jittered +-20%%)")
    p.add_argument("--soak-minutes", type=float, default=0.0,
                   help="instead: stream from 2 satellites this long and watch memory")
    p.add_argument("--sample-s", type=float, default=10.0, help="soak: memory sampling period")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--keep-logs", metavar="DIR", help="keep each server's log here")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = p.parse_args()

    log("bench: synthesizing the command once (Piper)")
    command = command_audio()
    load = os.getloadavg()
    if args.soak_minutes > 0:
        soak = run_soak(args, command)
        if args.json:
            dump_json({"soak": soak, "loadavg_before": load})
        else:
            print(table(["minutes", "commands", "missed", "p50 ms", "p95 ms", "RSS warm MB",
                         "RSS end MB", "peak MB", "growth %"],
                        [[soak["minutes"], soak["commands"], soak["missed"], soak["p50_ms"],
                          soak["p95_ms"], soak["rss_after_warmup_mb"], soak["rss_end_mb"],
                          soak["rss_peak_mb"], soak["growth_pct"]]]))
            print(f"RSS growth over the last 45 minutes: {soak['rss_growth_last_45_min_pct']} %")
            for sat in soak["per_satellite"]:
                print(f"{sat['name']}: {sat['commands']} commands, {sat['wakes']} wakes, "
                      f"{sat['turns']} turns, {sat['answered']} answered")
                for heard in sat["not_acted"]:
                    print(f"  not acted: {heard}")
        return 0

    rows = []
    for n in [int(x) for x in args.counts.split(",") if x.strip()]:
        rows.append(run_level(n, args, command))
    base = rows[0]
    per_extra = None
    if len(rows) > 1:
        xs = np.array([r["satellites"] for r in rows], dtype=float)
        ys = np.array([r["rss_mb"] for r in rows], dtype=float)
        per_extra = round(float(np.polyfit(xs, ys, 1)[0]), 1)
    best = max((r["satellites"] for r in rows if r["ok"]), default=0)
    out = {"levels": rows, "max_satellites_meeting_goal": best, "goal_p95_ms": GOAL_P95_MS,
           "rss_per_extra_satellite_mb": per_extra, "loadavg_before": load,
           "seconds_per_level": args.seconds, "interval_s": args.interval}
    if args.json:
        dump_json(out)
        return 0
    print(table(["sats", "commands", "missed", "wrong", "p50 ms", "p95 ms", "max ms",
                 "stt run ms", "stt wait ms", "CPU cores", "RSS MB", "goal"],
                [[r["satellites"], r["commands"], r["missed"], r["wrong"], r["p50_ms"],
                  r["p95_ms"], r["max_ms"], r["stt_run_mean_ms"], r["stt_wait_mean_ms"],
                  r["cpu_cores"], r["rss_mb"], "yes" if r["ok"] else "no"] for r in rows]))
    print(f"\nmost satellites with end of speech -> action p95 <= {GOAL_P95_MS:.0f} ms and no "
          f"missed turns: {best}")
    if per_extra is not None:
        print(f"server memory per extra satellite: {per_extra} MB "
              f"(RSS {base['rss_mb']} MB with {base['satellites']})")
    print(f"load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"(other work on this machine skews the figures)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT))
    raise SystemExit(main())
