"""`hearth wake test FILE`: the wake stage's scores over time, for tuning thresholds.

The file runs through the detector the daemon builds (thresholds, patience, refractory
period, second stage), so what it prints is what `hearth listen` would do.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from assistant.config import Settings, wake_names
from assistant.settings import WAKE_ENGINES


def add_commands(sub: Any, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    wake = sub.add_parser("wake", help="wake word tools: test a file, tune thresholds",
                          description="Wake word tools.")
    wsub = wake.add_subparsers(dest="wake_command", metavar="ACTION", required=True)
    test = wsub.add_parser(
        "test", help="print wake scores over time for a sound file",
        description="Run FILE through the wake stage and print each model's score over time, "
        "the first-stage candidates, what the second stage heard, and the wakes.")
    test.add_argument("file", metavar="FILE", help="a sound file (WAV/FLAC/OGG, any rate)")
    test.add_argument("--wake-word", action="append", metavar="NAME",
                      help="model to test (repeatable; default from config: the default wake word)")
    test.add_argument("--wake-engine", choices=WAKE_ENGINES, metavar="NAME",
                      help="wake engine: openwakeword or microwakeword (default from config)")
    test.add_argument("--all", action="store_true", help="every configured wake model")
    test.add_argument("--no-second-stage", action="store_true", help="first stage (the engine) only")
    test.add_argument("--min-score", type=float, default=0.05,
                      help="in text output, show only chunks where some score reaches this (default 0.05)")
    test.add_argument("--json", action="store_true",
                      help="JSON lines: one 'scores' object per 80 ms chunk, 'candidate', 'wake', "
                      "'rejected', then a 'summary'")
    add_common(test)
    test.set_defaults(run=_cmd_wake_test)


def _bar(score: float, width: int = 20) -> str:
    n = round(score * width)
    return "#" * n + "." * (width - n)


def _cmd_wake_test(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.audio.sources import file_source
    from assistant.wake.factory import build_wake_detector, with_engine
    from assistant.wake.second_stage import VerifiedWakeDetector

    settings = with_engine(settings, args.wake_engine)
    chunks = file_source(args.file, tail_silence_ms=1000)  # validates the file before loading models
    names = wake_names(settings) if args.all else args.wake_word
    det = build_wake_detector(settings, names, second_stage=False if args.no_second_stage else None)
    det.new_stream()
    out = sys.stdout
    peak: dict[str, tuple[float, float]] = {}
    wakes: list[dict[str, Any]] = []
    rejected = 0

    def emit(obj: dict[str, Any], text: str) -> None:
        out.write((json.dumps(obj) if args.json else text) + "\n")

    for chunk in chunks:
        seen = len(det.verdicts) if isinstance(det, VerifiedWakeDetector) else 0
        hit = det.process(chunk)
        scores = det.last_scores
        for name in det.models:
            s = scores.get(name, 0.0)
            if s > peak.get(name, (-1.0, 0.0))[0]:
                peak[name] = (s, chunk.end_ms)
        t = chunk.end_ms / 1000
        if args.json:
            out.write(json.dumps({"type": "scores", "t_audio_ms": chunk.end_ms,
                                  "scores": {n: round(scores.get(n, 0.0), 4) for n in det.models}}) + "\n")
        elif any(s >= args.min_score for s in scores.values()):
            cells = "  ".join(f"{n} {scores.get(n, 0.0):.3f} {_bar(scores.get(n, 0.0))}" for n in det.models)
            out.write(f"{t:7.2f}s  {cells}\n")
        if isinstance(det, VerifiedWakeDetector):
            for checked in list(det.verdicts)[seen:]:
                h, v = checked.hit, checked.verdict
                emit({"type": "candidate", "wake_word": h.name, "score": round(h.score, 4),
                      "t_audio_ms": h.t_detect_ms, "heard": v.text, "accepted": v.accepted,
                      "verify_ms": round(v.verify_ms, 1)},
                     f"{t:7.2f}s  candidate {h.name} (score {h.score:.3f} at "
                     f"{(h.t_detect_ms or 0) / 1000:.2f}s): second stage heard {v.text!r} -> "
                     f"{'accept' if v.accepted else 'reject'} ({v.verify_ms:.0f} ms)")
                if not v.accepted:
                    rejected += 1
                    emit({"type": "rejected", "wake_word": h.name, "t_audio_ms": h.t_detect_ms,
                          "heard": v.text}, f"{t:7.2f}s  rejected {h.name}")
        if hit is not None:
            w = {"type": "wake", "wake_word": hit.name, "score": round(hit.score, 4),
                 "t_audio_ms": hit.t_audio_ms, "action": hit.action, "heard": hit.heard}
            wakes.append(w)
            emit(w, f"{t:7.2f}s  WAKE {hit.name} score {hit.score:.3f} action {hit.action}"
                 + (f" heard {hit.heard!r}" if hit.heard is not None else ""))
    summary = {"type": "summary", "wakes": len(wakes), "rejected": rejected,
               "peak": {n: {"score": round(s, 4), "t_audio_ms": at} for n, (s, at) in peak.items()},
               "thresholds": {n: m.threshold for n, m in det.models.items()}}
    if args.json:
        out.write(json.dumps(summary) + "\n")
    else:
        for n, (s, at) in peak.items():
            out.write(f"peak {n}: {s:.3f} at {at / 1000:.2f}s (threshold {det.models[n].threshold})\n")
        out.write(f"wakes: {len(wakes)}" + (f", rejected by the second stage: {rejected}"
                                            if isinstance(det, VerifiedWakeDetector) else "") + "\n")
    return 0
