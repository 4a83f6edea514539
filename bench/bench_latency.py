"""Voice-loop speed and size on this machine: the figures of the voice-loop issue.

For each spoken command ("Hey Jarvis, ...", synthesized with the bundled Piper voice),
the audio is fed at real-time pace through the same loop `hearth listen --realtime`
runs. End of speech is measured on the clip itself (last sample above -40 dBFS), so
the figures are what a person would wait:

  end of speech -> action applied      (goal p50 <= 600 ms, p95 <= 900 ms)
  end of speech -> first reply audio   (goal p50 <= 900 ms)

It also measures idle listening CPU (wake word only), resident memory with all models
loaded, and cold start (`hearth listen` from the shell to listening).

    .venv/bin/python bench/bench_latency.py            # table
    .venv/bin/python bench/bench_latency.py --json     # one JSON object
    .venv/bin/python bench/bench_latency.py --compare  # also the fixed-silence baseline
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from assistant.models import quiet_openmp  # noqa: E402

quiet_openmp()  # as `hearth` sets it, before any runtime loads

COMMANDS = [
    "turn on the kitchen light",
    "turn off the bedroom light",
    "set the thermostat to twenty one degrees",
    "open the blinds",
    "start the vacuum",
    "pause the music",
    "set the kitchen light to fifty percent",
    "switch on the coffee maker",
    "turn on the desk lamp",
    "close the blinds",
    "turn off the TV",
    "set the volume to thirty percent",
]


def progress(msg: str) -> None:
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def speech_end_ms(audio: np.ndarray, threshold_db: float = -40.0) -> float:
    """Where the speech in a clip really ends: the last 10 ms frame above the threshold."""
    frames = audio[: len(audio) // 160 * 160].reshape(-1, 160).astype(np.float32) / 32768.0
    rms_db = 20 * np.log10(np.sqrt((frames**2).mean(axis=1)) + 1e-9)
    loud = np.nonzero(rms_db > threshold_db)[0]
    return float((loud[-1] + 1) * 10) if len(loud) else 0.0


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run_commands(settings: Any, clips: list[tuple[str, np.ndarray]], label: str) -> dict[str, Any]:
    from assistant.audio.sinks import NullSink
    from assistant.audio.sources import samples_source
    from assistant.events import Event, to_dict
    from assistant.runtime import Hearing, Runtime

    events: list[Event] = []
    rows = []
    with Runtime(settings, emit=events.append, hearing=Hearing(speak=True), sink=NullSink()) as va:
        for i, (text, audio) in enumerate(clips):
            events.clear()
            end = speech_end_ms(audio)
            va.listen(samples_source(audio, realtime=True, tail_silence_ms=1500))
            evs = [to_dict(e) for e in events]
            action = next((e for e in evs if e["type"] == "action"), None)
            tts = next((e for e in evs if e["type"] == "tts_start"), None)
            stt = next((e for e in evs if e["type"] == "transcript"), None)
            ended = next((e for e in evs if e["type"] == "speech_end"), None)
            row = {
                "command": text,
                "transcript": stt["text"] if stt else None,
                "end_reason": ended["reason"] if ended else None,
                "action_ms": round(action["t_wall_ms"] - end, 1) if action else None,
                "first_audio_ms": round(tts["t_wall_ms"] - end, 1) if tts else None,
                "stt_ms": stt["stt_ms"] if stt else None,
            }
            rows.append(row)
            progress(f"[{label} {i + 1}/{len(clips)}] {text!r}: action {row['action_ms']} ms, "
                     f"first audio {row['first_audio_ms']} ms ({row['end_reason']})")
    acted = [float(r["action_ms"]) for r in rows if r["action_ms"] is not None]
    spoken = [float(r["first_audio_ms"]) for r in rows if r["first_audio_ms"] is not None]
    return {
        "label": label,
        "commands": len(rows),
        "acted": len(acted),
        "action_p50_ms": round(pct(acted, 50), 1),
        "action_p95_ms": round(pct(acted, 95), 1),
        "first_audio_p50_ms": round(pct(spoken, 50), 1),
        "first_audio_p95_ms": round(pct(spoken, 95), 1),
        "rows": rows,
    }


def idle_cpu(settings: Any, seconds: float) -> dict[str, Any]:
    """CPU of the wake path on audio with no wake word (room noise), as % of one core."""
    from assistant.audio.chunk import chunked
    from assistant.audio.files import read_audio
    from assistant.runtime import Hearing, Runtime

    noise_file = Path(os.environ.get("HEARTH_EVAL_DATA", REPO.parent / "shared/eval-data")) / \
        "noise/doing_the_dishes.wav"
    if noise_file.exists():
        base = read_audio(noise_file)
        source = "kitchen noise (eval-data)"
    else:
        base = (np.random.default_rng(0).normal(0, 300, 16000 * 10)).astype(np.int16)
        source = "synthetic noise"
    reps = int(np.ceil(seconds * 16000 / len(base)))
    audio = np.tile(base, reps)[: int(seconds * 16000)]
    with Runtime(settings, hearing=Hearing(speak=False)) as va:
        chunks = list(chunked(audio))
        t0 = time.process_time()
        va.listen(iter(chunks))
        cpu = time.process_time() - t0
    return {"audio_s": seconds, "cpu_s": round(cpu, 2), "core_percent": round(100 * cpu / seconds, 2),
            "source": source}


def memory_all_models(settings: Any) -> dict[str, Any]:
    """RSS of a fresh process with every model loaded and one spoken command handled."""
    out = subprocess.run([sys.executable, __file__, "--memory-probe"], capture_output=True, check=True,
                         env={**os.environ, "HEARTH_DATA_DIR": str(settings.data_dir)})
    return dict(json.loads(out.stdout.decode().strip().splitlines()[-1]))


def _memory_probe() -> None:
    from assistant.audio.sinks import NullSink
    from assistant.audio.sources import samples_source
    from assistant.config import load_settings
    from assistant.models import bundled_path
    from assistant.runtime import Hearing, Runtime

    settings = load_settings()
    loaded = ["wake", "vad", "stt", "tts"]
    with Runtime(settings, hearing=Hearing(speak=True), sink=NullSink()) as va:
        try:
            from llama_cpp import Llama

            llm = Llama(model_path=str(settings.llm.model or bundled_path("smollm2-135m-instruct-q4_1")),
                        n_ctx=settings.llm.context, n_threads=settings.llm.threads, verbose=False)
            llm("Hello", max_tokens=1)
            loaded.append("llm")
        except ImportError:
            pass
        assert va.tts is not None
        import soxr

        from assistant.audio.chunk import to_int16

        raw = va.tts.speak_all("Hey Jarvis, turn on the kitchen light.").astype(np.float32) / 32768.0
        va.listen(samples_source(to_int16(soxr.resample(raw, va.tts.sample_rate, 16000)),
                                 tail_silence_ms=1500))
        print(json.dumps({"rss_mb": round(_rss_mb(), 1), "peak_rss_mb": round(_peak_mb(), 1),
                          "models": loaded}))


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cold_start(runs: int) -> dict[str, Any]:
    """`hearth listen` from the shell until it is listening: the wall time of a run on
    0.1 s of silence, which loads every model the loop needs and exits."""
    from assistant.audio.files import write_wav

    hearth = Path(sys.executable).with_name("hearth")
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "silence.wav"
        write_wav(wav, np.zeros(1600, np.int16))
        env = {**os.environ, "HEARTH_DATA_DIR": tmp}
        for _ in range(runs):
            t0 = time.monotonic()
            subprocess.run([str(hearth), "listen", "--input", str(wav), "--json",
                            "--output", str(Path(tmp) / "r.wav")], check=True, env=env,
                           capture_output=True)
            times.append(time.monotonic() - t0)
    return {"runs": runs, "median_s": round(float(np.median(times)), 2),
            "max_s": round(max(times), 2)}


def plot(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    every = [r[k] for res in results for r in res["rows"] for k in ("action_ms", "first_audio_ms")
             if r[k] is not None]
    bins = np.linspace(0, max([*every, 1000.0]) * 1.05, 30)  # the same bins for every setting
    for res in results:
        acted = [r["action_ms"] for r in res["rows"] if r["action_ms"] is not None]
        spoken = [r["first_audio_ms"] for r in res["rows"] if r["first_audio_ms"] is not None]
        axes[0].hist(acted, bins=bins, alpha=0.6, label=res["label"])
        axes[1].hist(spoken, bins=bins, alpha=0.6, label=res["label"])
    axes[0].axvline(600, color="k", ls="--", lw=1)
    axes[1].axvline(900, color="k", ls="--", lw=1)
    axes[0].set_title("end of speech → action (ms)")
    axes[1].set_title("end of speech → first reply audio (ms)")
    for ax in axes:
        ax.legend()
        ax.set_ylabel("commands")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--compare", action="store_true",
                        help="also run the baseline that always waits for the 700 ms silence")
    parser.add_argument("--idle-seconds", type=float, default=120.0)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--plot", type=Path, default=REPO / "out" / "latency.png")
    parser.add_argument("--memory-probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        _memory_probe()
        return 0

    from assistant.config import load_settings

    with tempfile.TemporaryDirectory() as data:
        settings = load_settings(data_dir=data)
        from assistant.tts.piper import PiperTts

        progress("synthesizing the commands with the Piper voice ...")
        import soxr

        from assistant.audio.chunk import to_int16

        tts = PiperTts(settings.tts)
        clips = []
        for text in COMMANDS:
            raw = tts.speak_all(f"Hey Jarvis, {text}.").astype(np.float32) / 32768.0
            audio = to_int16(soxr.resample(raw, tts.sample_rate, 16000))
            clips.append((text, np.concatenate([np.zeros(8000, np.int16), audio])))

        results = [run_commands(settings, clips, "early end")]
        if args.compare:
            baseline = settings.model_copy(update={"vad": settings.vad.model_copy(
                update={"early_silence_ms": 0})})
            results.append(run_commands(baseline, clips, "fixed 700 ms silence"))
        progress(f"idle listening CPU over {args.idle_seconds:.0f} s of audio ...")
        idle = idle_cpu(settings, args.idle_seconds)
        progress("memory with all models loaded ...")
        memory = memory_all_models(settings)
        progress(f"cold start ({args.cold_runs} runs) ...")
        cold = cold_start(args.cold_runs)
    plot(results, args.plot)
    report = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "latency": results,
        "idle": idle,
        "memory": memory,
        "cold_start": cold,
        "plot": str(args.plot),
    }
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"{'setting':24} {'acted':>7} {'action p50':>11} {'p95':>7} {'1st audio p50':>14} {'p95':>7}")
    for r in results:
        print(f"{r['label']:24} {r['acted']:>3}/{r['commands']:<3} {r['action_p50_ms']:>9.0f}ms "
              f"{r['action_p95_ms']:>5.0f}ms {r['first_audio_p50_ms']:>12.0f}ms "
              f"{r['first_audio_p95_ms']:>5.0f}ms")
    print(f"idle listening: {idle['core_percent']}% of one core ({idle['source']}, {idle['audio_s']:.0f} s)")
    print(f"resident memory, all models loaded ({', '.join(memory['models'])}): {memory['rss_mb']} MB "
          f"(peak {memory['peak_rss_mb']} MB)")
    print(f"cold start (hearth listen, shell to done): median {cold['median_s']} s, max {cold['max_s']} s")
    print(f"histogram: {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
