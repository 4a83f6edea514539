"""Hear fast and right: Hearth beside a Home Assistant-style pipeline, in one run.

Each spoken command is fed at real-time pace through two voice loops sharing one set of
models, clip by clip, so both see the same machine load:

  hearth    the default loop: words transcribed while the person speaks, the turn ends
            at a short pause when they already are a complete command, later when they
            sound unfinished
  baseline  Home Assistant's way: 0.7 s of silence, then faster-whisper's own
            ``transcribe`` on the whole utterance (stock 30 s window), same model, same
            prompt, same beam

The clips: real recordings (the two spoken commands of wyoming-faster-whisper's tests and
every third real coffee order of the development half of Picovoice's benchmark — the
held-out half is bench_coffee's, run once), the bundled Piper voice and
espeak-ng voices at several speeds, and commands with a 0.6 s pause mid-sentence ("turn
on … the hallway light"). With ``--noise`` the eval data's kitchen recording is mixed in
at 20/10/5 dB. End of speech is taken from the clean clip itself (last 10 ms above
-40 dBFS). Reported per loop: end of speech -> action and -> first reply audio (p50,
p95), cut-offs (acted before the person finished, or acted on part of a paused command),
the right action, word error on the commands whose words are known, coffee orders fully
right, and a histogram.

    .venv/bin/python bench/bench_hearing.py                 # clean clips, table
    .venv/bin/python bench/bench_hearing.py --noise --json  # also 20/10/5 dB, JSON
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from assistant.models import quiet_openmp  # noqa: E402

quiet_openmp()  # before any model runtime loads: spinning OpenMP threads cost seconds here
from _common import eval_data_dir  # noqa: E402
from bench_coffee import expected, mix  # noqa: E402
from bench_latency import pct, progress, speech_end_ms  # noqa: E402

# (words as spoken, the entity that must be acted on)
COMMANDS = [
    ("turn on the kitchen light", "light.kitchen"),
    ("turn off the bedroom light", "light.bedroom"),
    ("set the thermostat to 21 degrees", "climate.thermostat"),
    ("open the blinds", "cover.living_room_blinds"),
    ("start the vacuum", "vacuum.robot"),
    ("set the kitchen light to 50%", "light.kitchen"),
    ("switch on the coffee maker", "switch.coffee_maker"),
    ("turn on the desk lamp", "light.desk_lamp"),
    ("close the blinds", "cover.living_room_blinds"),
    ("turn off the TV", "switch.tv"),
]
ESPEAK = [("en-us", 160, 50), ("en-gb", 175, 40), ("en-us+f3", 140, 60)]
PAUSED = [  # said in two parts with 0.6 s of silence between
    ("turn on", "the hallway light", "light.hallway"),
    ("set the bedroom light to", "30%", "light.bedroom"),
    ("turn off the", "floor lamp", "light.floor_lamp"),
    ("switch on the", "coffee maker", "switch.coffee_maker"),
]
CONTINUED = [  # complete as text at the 0.3 s pause, then more: the first part said with a comma
    ("turn off the light", "in the bedroom", "light.bedroom"),
    ("switch on the coffee maker", "in the kitchen", "switch.coffee_maker"),
    ("open the blinds", "in the living room", "cover.living_room_blinds"),
    ("turn on the light", "in the hallway", "light.hallway"),
]
REAL_COMMANDS = {"living_room_light_en.wav": ("turn on the living room light", "light.living_room_ceiling"),
                 "turn_on_the_living_room_lamp.wav": ("turn on the living room lamp", "light.floor_lamp")}


def words(text: str) -> list[str]:
    return re.sub(r"[^\w' ]", " ", text.lower().replace("%", " percent")).split()


def word_errors(ref: str, hyp: str) -> tuple[int, int]:
    """(edits, reference words): Levenshtein distance over words."""
    r, h = words(ref), words(hyp)
    row = list(range(len(h) + 1))
    for i, rw in enumerate(r, 1):
        prev, row[0] = row[0], i
        for j, hw in enumerate(h, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (rw != hw))
    return row[len(h)], len(r)


def make_clips(settings: Any, data: Path, coffee_every: int) -> list[dict[str, Any]]:
    """Every clip: audio (16 kHz int16, 300 ms lead), where speech ends, what it must do."""
    import subprocess

    import soxr

    from assistant.audio.chunk import to_int16
    from assistant.audio.files import read_audio
    from assistant.tts.piper import PiperTts

    tts = PiperTts(settings.tts)
    lead = np.zeros(4800, np.int16)

    def piper(text: str) -> np.ndarray:
        raw = tts.speak_all(text).astype(np.float32) / 32768.0
        return to_int16(soxr.resample(raw, tts.sample_rate, 16000))

    def espeak(text: str, voice: str, speed: int, pitch: int, folder: Path) -> np.ndarray:
        out = folder / "e.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(out),
                        text], check=True, capture_output=True)
        return read_audio(out)

    clips: list[dict[str, Any]] = []

    def add(kind: str, audio: np.ndarray, text: str | None, entity: str | None, **extra: Any) -> None:
        audio = np.concatenate([lead, audio])
        clips.append({"kind": kind, "audio": audio, "end_ms": speech_end_ms(audio), "text": text,
                      "entity": entity, **extra})

    for name, (text, entity) in REAL_COMMANDS.items():
        add("real", read_audio(data / "speech" / "wyoming_faster_whisper" / name), text, entity)
    coffee = data / "commands" / "coffee_orders"
    labels = json.loads((coffee / "labels.json").read_text())
    development = sorted(labels)[::2]  # bench_coffee's dev half; its odd-numbered half is held out
    for name in development[::coffee_every]:
        add("real coffee", read_audio(coffee / name), None, "switch.coffee_maker",
            coffee=expected(labels[name]))
    for text, entity in COMMANDS:
        add("piper", piper(text + "."), text, entity)
    with tempfile.TemporaryDirectory() as tmp:
        for i, (text, entity) in enumerate(COMMANDS):
            voice, speed, pitch = ESPEAK[i % len(ESPEAK)]
            add(f"espeak {voice}", espeak(text, voice, speed, pitch, Path(tmp)), text, entity)
    for first, rest, entity in PAUSED:
        audio = np.concatenate([piper(first), np.zeros(9600, np.int16), piper(rest + ".")])
        add("piper, 0.6 s pause", audio, f"{first} {rest}", entity, paused=True)
    gap = np.zeros(4800, np.int16)
    with tempfile.TemporaryDirectory() as tmp:
        for first, rest, entity in CONTINUED:
            add("piper, continued", np.concatenate([piper(first + ","), gap, piper(rest + ".")]),
                f"{first} {rest}", entity, paused=True)
            for voice, speed, pitch in ESPEAK:
                parts = [espeak(first + ",", voice, speed, pitch, Path(tmp)), gap,
                         espeak(rest, voice, speed, pitch, Path(tmp))]
                add(f"espeak {voice}, continued", np.concatenate(parts), f"{first} {rest}", entity,
                    paused=True)
    return clips


class StockWhisper:
    """Home Assistant's way: faster-whisper's ``transcribe`` on the whole utterance."""

    def __init__(self, model: Any, prompt: str | None, beam: int) -> None:
        self.model, self.prompt, self.beam = model, prompt, beam

    def transcribe(self, samples: np.ndarray) -> str:
        from assistant.audio.chunk import to_float
        from assistant.stt.whisper import strip_wake_phrase

        segments, _ = self.model.transcribe(to_float(samples), language="en", beam_size=self.beam,
                                            initial_prompt=self.prompt, without_timestamps=True)
        return strip_wake_phrase(" ".join(s.text.strip() for s in segments).strip())


def run_clip(loop: Any, va: Any, events: list[Any], clip: dict[str, Any],
             audio: np.ndarray) -> dict[str, Any]:
    from assistant.audio.sources import samples_source
    from assistant.events import to_dict

    va.understander.forget()
    events.clear()
    cache = getattr(loop.reply.tts, "cache", None)
    hits = cache.hits if cache is not None else 0
    loop.run(samples_source(audio, realtime=True, tail_silence_ms=1800), wake_required=False)
    evs = [to_dict(e) for e in events]
    first = {t: next((e for e in evs if e["type"] == t), None)
             for t in ("action", "tts_start", "transcript", "speech_end", "intent")}
    # wall time starts when the first 80 ms chunk has arrived: the person finished speaking
    # (as a microphone would deliver it) at wall time end_ms - 80
    end = clip["end_ms"] - 80.0
    action, tts, stt = first["action"], first["tts_start"], first["transcript"]
    text = stt["text"] if stt else ""
    intent = first["intent"]
    right = action is not None and action["entity_id"] == clip["entity"]
    if "coffee" in clip:
        right = right and intent is not None and intent["slots"] == clip["coffee"]
    row = {"kind": clip["kind"], "said": clip["text"], "heard": text, "right": right,
           "end_reason": first["speech_end"]["reason"] if first["speech_end"] else None,
           "action_ms": round(action["t_wall_ms"] - end, 1) if action else None,
           "first_audio_ms": round(tts["t_wall_ms"] - end, 1) if tts else None,
           "tts_first_ms": tts["tts_ms"] if tts else None,  # Piper's time to the first piece
           "reply_cached": cache is not None and cache.hits > hits,  # a piece said before
           "stt_ms": stt["stt_ms"] if stt else None,
           "partials": sum(e["type"] == "transcript_partial" for e in evs),
           "transcripts": sum(e["type"] == "transcript" for e in evs)}
    row.update(breakdown(evs, clip["end_ms"], end))
    # a cut-off: acted before the person finished, or on part of a paused command (heard in
    # pieces, or without its last word: the turn ended at the pause, however late it acted)
    row["cut_off"] = bool(action and action["t_wall_ms"] < end) or (
        bool(clip.get("paused")) and (row["transcripts"] > 1 or (
            action is not None and words(clip["text"])[-1] not in words(text))))
    if clip["text"]:
        row["word_errors"], row["words"] = word_errors(clip["text"], text)
    return row


def breakdown(evs: list[dict[str, Any]], end_audio_ms: float, end_wall_ms: float) -> dict[str, Any]:
    """Where one clip's time went after the end of speech: how late the VAD placed the end,
    when the turn was ended, how long understanding took to act, and the decodes."""
    ended = next((e for e in evs if e["type"] == "speech_end"), None)
    action = next((e for e in evs if e["type"] == "action"), None)
    if ended is None:
        return {}
    out = {"vad_end_ms": round(ended["t_audio_ms"] - end_audio_ms, 1),
           "turn_end_ms": round(ended["t_wall_ms"] - end_wall_ms, 1),
           "understand_ms": round(action["t_wall_ms"] - ended["t_wall_ms"], 1) if action else None}
    # the partial decodes finished after the end of speech: (ms after it, ms of audio cut
    # before the end, decode ms)
    out["late_decodes"] = [(round(e["t_wall_ms"] - end_wall_ms), round(end_audio_ms - e["t_audio_ms"]),
                            e["stt_ms"]) for e in evs if e["type"] == "transcript_partial"
                           and e["t_wall_ms"] > end_wall_ms]
    return out


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    acted = [r["action_ms"] for r in rows if r["action_ms"] is not None]
    spoken = [r["first_audio_ms"] for r in rows if r["first_audio_ms"] is not None]
    piper = [r["tts_first_ms"] for r in rows if r.get("tts_first_ms") is not None]
    made = [r["first_audio_ms"] for r in rows if r["first_audio_ms"] is not None and not r["reply_cached"]]
    errs = sum(r.get("word_errors", 0) for r in rows)
    n_words = sum(r.get("words", 0) for r in rows)
    coffee = [r for r in rows if r["kind"] == "real coffee"]
    paused = [r for r in rows if "pause" in r["kind"]]
    continued = [r for r in rows if "continued" in r["kind"]]
    return {"clips": len(rows), "right": sum(r["right"] for r in rows),
            "action_p50_ms": round(pct(acted, 50), 1), "action_p95_ms": round(pct(acted, 95), 1),
            "first_audio_p50_ms": round(pct(spoken, 50), 1),
            "first_audio_p95_ms": round(pct(spoken, 95), 1),
            "piper_first_p50_ms": round(pct(piper, 50), 1), "piper_first_p95_ms": round(pct(piper, 95), 1),
            "replies_cached": sum(r["reply_cached"] for r in rows),
            "first_audio_made_p50_ms": round(pct(made, 50), 1) if made else None,
            "cut_offs": sum(r["cut_off"] for r in rows),
            "paused_right": f"{sum(r['right'] and not r['cut_off'] for r in paused)}/{len(paused)}",
            "continued_right": f"{sum(r['right'] and not r['cut_off'] for r in continued)}/{len(continued)}",
            "continued_cut_off": sum(r["cut_off"] for r in continued),
            "wer_percent": round(100.0 * errs / n_words, 1) if n_words else None,
            "coffee_right": f"{sum(r['right'] for r in coffee)}/{len(coffee)}"}


def plot(results: dict[str, dict[str, list[dict[str, Any]]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    rows = {loop: [r for cond in conds.values() for r in cond] for loop, conds in results.items()}
    bins = np.arange(-500.0, 5001.0, 100.0)  # slower than 5 s counts in the last bin

    def ms(rs: list[dict[str, Any]], key: str) -> list[float]:
        return [min(float(r[key]), 4999.0) for r in rs if r[key] is not None]

    for loop, rs in rows.items():
        axes[0].hist(ms(rs, "action_ms"), bins=bins, alpha=0.6, label=loop)
        axes[1].hist(ms(rs, "first_audio_ms"), bins=bins, alpha=0.6, label=loop)
    for ax, goal, title in ((axes[0], 300, "end of speech → action (ms)"),
                            (axes[1], 500, "end of speech → first reply audio (ms)")):
        ax.axvline(goal, color="k", ls="--", lw=1)
        ax.set_title(title)
        ax.set_ylabel("commands")
        ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--noise", action="store_true", help="also with kitchen noise at 20/10/5 dB")
    ap.add_argument("--coffee-every", type=int, default=3,
                    help="every Nth real coffee order of the development half (never the held-out half)")
    ap.add_argument("--limit", type=int, help="only the first N clips (a quick look)")
    ap.add_argument("--only", choices=["hearth", "baseline"], help="run one loop")
    ap.add_argument("--plot", type=Path, default=REPO / "out" / "hearing.png")
    ap.add_argument("--idle-seconds", type=float, default=0.0,
                    help="also idle listening CPU (wake word on kitchen noise) over this much audio")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--kinds", help="only clips whose kind contains this (e.g. 'continued')")
    ap.add_argument("--rising-tone", type=float, help="vad.rising_tone_st_s for Hearth (0 = off)")
    ap.add_argument("--tone-holds-commands", choices=["yes", "no"],
                    help="vad.rising_tone_holds_commands: a complete command said rising waits")
    ap.add_argument("--continued-silence", type=int, help="vad.continued_silence_ms for Hearth")
    args = ap.parse_args()
    data = eval_data_dir()

    from assistant.audio.files import read_audio
    from assistant.audio.sinks import NullSink
    from assistant.config import load_settings
    from assistant.events import Event
    from assistant.loop import VoiceLoop
    from assistant.runtime import Hearing, Runtime
    from assistant.vad.silero import FRAME_MS, SileroVad

    with tempfile.TemporaryDirectory() as home:
        settings = load_settings(data_dir=home)
        progress("making the clips (Piper, espeak-ng, real recordings) ...")
        tone: dict[str, Any] = {}
        if args.tone_holds_commands is not None:
            tone["rising_tone_holds_commands"] = args.tone_holds_commands == "yes"
        if args.continued_silence is not None:
            tone["continued_silence_ms"] = args.continued_silence
        if args.rising_tone is not None:
            tone["rising_tone_st_s"] = args.rising_tone
        settings = settings.model_copy(update={"vad": settings.vad.model_copy(update=tone)})
        clips = [c for c in make_clips(settings, data, args.coffee_every)
                 if args.kinds is None or args.kinds in c["kind"]][: args.limit]
        noise = read_audio(data / "noise" / "doing_the_dishes.wav")
        events: list[Event] = []
        with Runtime(settings, emit=events.append, sink=NullSink(),
                     hearing=Hearing(use_wake=False, speak=True)) as va:
            assert va.tts is not None
            base_settings = settings.model_copy(update={
                "vad": settings.vad.model_copy(update={"early_silence_ms": 0, "silence_ms": 700,
                                                       "incomplete_silence_ms": 700}),
                "stt": settings.stt.model_copy(update={"partial_every_ms": 0})})
            stock = StockWhisper(va.stt.model, va.stt.prompt, settings.stt.beam_size)
            loops = {"hearth": va.loop,
                     "baseline": VoiceLoop(base_settings, pipeline=va.pipeline, stt=stock, vad=SileroVad(),
                                           frame_ms=FRAME_MS, wake=None, tts=va.tts, sink=NullSink(),
                                           emit=events.append)}
            if args.only:
                loops = {args.only: loops[args.only]}
            conditions: list[float | None] = [None, 20.0, 10.0, 5.0] if args.noise else [None]
            results: dict[str, dict[str, list[dict[str, Any]]]] = {n: {} for n in loops}
            for snr in conditions:
                cond = "clean" if snr is None else f"kitchen {snr:.0f} dB"
                for i, clip in enumerate(clips):
                    audio = clip["audio"] if snr is None else mix(clip["audio"], noise, snr, seed=i)
                    for name, loop in loops.items():
                        row = run_clip(loop, va, events, clip, audio)
                        results[name].setdefault(cond, []).append(row)
                        progress(f"[{cond} {i + 1}/{len(clips)} {name}] {clip['kind']}: {row['heard']!r} "
                                 f"action {row['action_ms']} ms ({row['end_reason']})"
                                 f"{' RIGHT' if row['right'] else ' WRONG'}"
                                 f"{' CUT OFF' if row['cut_off'] else ''}")
    load = Path("/proc/loadavg").read_text().split()[:3]
    idle = None
    if args.idle_seconds:
        from bench_latency import idle_cpu

        progress(f"idle listening CPU over {args.idle_seconds:.0f} s of kitchen noise ...")
        with tempfile.TemporaryDirectory() as home:
            idle = idle_cpu(load_settings(data_dir=home), args.idle_seconds)
    summary = {name: {cond: summarize(rows) for cond, rows in conds.items()}
               for name, conds in results.items()}
    plot(results, args.plot)
    report = {"load_average_at_end": load, "summary": summary, "idle": idle, "plot": str(args.plot),
              "rows": results}
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"{'loop':9} {'audio':15} {'right':>7} {'act p50':>8} {'p95':>6} {'1st audio p50':>13} "
          f"{'p95':>6} {'cut-offs':>8} {'paused ok':>9} {'WER':>6} {'coffee':>7}")
    for name, conds in summary.items():
        for cond, s in conds.items():
            print(f"{name:9} {cond:15} {s['right']:>3}/{s['clips']:<3} {s['action_p50_ms']:>6.0f}ms "
                  f"{s['action_p95_ms']:>4.0f}ms {s['first_audio_p50_ms']:>11.0f}ms "
                  f"{s['first_audio_p95_ms']:>4.0f}ms {s['cut_offs']:>8} {s['paused_right']:>9} "
                  f"{s['wer_percent']:>5}% {s['coffee_right']:>7}  continued ok {s['continued_right']}"
                  f"  Piper's first piece {s['piper_first_p50_ms']:.0f}/{s['piper_first_p95_ms']:.0f} ms"
                  f"  replies from the cache {s['replies_cached']} (1st audio p50 of the others "
                  f"{s['first_audio_made_p50_ms']} ms)")
    print(f"load average at the end: {' '.join(load)}; histogram: {args.plot}")
    if idle is not None:
        print(f"idle listening: {idle['core_percent']}% of one core ({idle['source']}, "
              f"{idle['audio_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
