"""Wake-word benchmark: misses, false wakes per hour, near misses, CPU, DET curves.

Runs the clips built by bench/wake_data.py through the detector the daemon builds
(:func:`assistant.wake.factory.build_wake_detector`: the configured thresholds,
patience, refractory period and second stage). openWakeWord's per-frame scores are
patience, refractory period and second stage), for every wake engine in the same run
(openWakeWord and microWakeWord). Each engine's per-frame scores are computed once per
clip and cached (.npy in the cache folder); the second stage's transcripts are cached by
the hash of the audio window, so threshold sweeps and re-runs are cheap
(bench/wake_replay.py).

    .venv/bin/python bench/bench_wake.py [--config FILE] [--json] [--engines ...] [--models ...]

Reports, per model, at the configured operating point, before (first stage only) and
after (with the second stage): miss rate per condition (clean, 20/10/5 dB SNR), false
wakes per hour over the non-wake set (hours used, exact Poisson 95% upper bound),
near-miss wake rates, CPU seconds per hour of audio; writes a DET curve PNG per engine
and model to out/ (miss rate vs false wakes/hour across thresholds, default point
marked); ends with the goals side by side (bench/wake_report.py).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
for p in (REPO_ROOT, REPO_ROOT / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from wake_data import DEFAULT_OUT, Clip, read_manifest  # noqa: E402
from wake_replay import (  # noqa: E402
    Outcome,
    VerifyCache,
    cpu_per_hour,
    log,
    model_key,
    run_daemon_path,
    score_all,
    sweep,
    sweep_verified,
)
from wake_report import plot_det, print_report  # noqa: E402

from assistant.config import Settings, WakeModelSettings, load_settings, wake_model  # noqa: E402
from assistant.settings import WAKE_ENGINES  # noqa: E402
from assistant.wake.factory import with_engine  # noqa: E402

CONDITIONS = ("clean", "snr20", "snr10", "snr5")
NEAR_MISS = {"hey_jarvis": "near_miss_jarvis"}
"""Each model's own near-miss set: reported separately, left out of its false wakes/hour."""


def poisson_upper(k: int, exposure: float, conf: float = 0.95) -> float:
    """Exact one-sided upper bound on a Poisson rate (k events in ``exposure``): the mean
    at which seeing k or fewer events has probability 1 - conf (bisection on the CDF)."""
    def cdf(mu: float) -> float:
        term = total = math.exp(-mu)
        for i in range(1, k + 1):
            term *= mu / i
            total += term
        return total

    lo, hi = 0.0, k + 10.0 * math.sqrt(k + 1) + 10.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if cdf(mid) > 1 - conf:
            lo = mid
        else:
            hi = mid
    return hi / exposure


def summarize(model: str, outcomes: dict[str, Outcome], clips: list[Clip], key: str) -> dict[str, Any]:
    """Miss rates, false wakes/hour and near-miss rates from per-clip outcomes."""
    def count(o: Outcome) -> int:
        return o.wakes if key == "wakes" else o.candidates

    miss: dict[str, dict[str, float]] = {}
    for cond in CONDITIONS:
        pos = [c for c in clips if c.kind == "positive" and c.wake == model and c.condition == cond]
        if pos:
            missed = sum(1 for c in pos if count(outcomes[c.id]) == 0)
            miss[cond] = {"clips": len(pos), "missed": missed, "rate": missed / len(pos)}
    by_group: dict[str, dict[str, float]] = {}
    for c in clips:
        if c.kind == "positive" and c.wake == model:
            g = by_group.setdefault(f"{c.group}/{c.condition}", {"clips": 0, "missed": 0})
            g["clips"] += 1
            g["missed"] += 1 if count(outcomes[c.id]) == 0 else 0
    for g in by_group.values():
        g["rate"] = g["missed"] / g["clips"]
    own_near = NEAR_MISS.get(model)
    negs = [c for c in clips if c.kind == "negative" and c.group != own_near]
    hours = sum(c.seconds for c in negs) / 3600
    k = sum(count(outcomes[c.id]) for c in negs)
    fa: dict[str, Any] = {"hours": hours, "wakes": k, "per_hour": k / hours if hours else 0.0,
          "per_hour_upper95": poisson_upper(k, hours) if hours else math.inf}
    all_negs = [c for c in clips if c.kind == "negative"]
    all_h = sum(c.seconds for c in all_negs) / 3600
    k_all = sum(count(outcomes[c.id]) for c in all_negs)
    fa["with_near_misses"] = {"hours": all_h, "wakes": k_all, "per_hour": k_all / all_h,
                              "per_hour_upper95": poisson_upper(k_all, all_h)}
    groups: dict[str, dict[str, float]] = {}
    for c in all_negs:
        g = groups.setdefault(c.group, {"clips": 0, "hours": 0.0, "wakes": 0, "clips_woken": 0})
        g["clips"] += 1
        g["hours"] += c.seconds / 3600
        g["wakes"] += count(outcomes[c.id])
        g["clips_woken"] += 1 if count(outcomes[c.id]) else 0
    near = {g: {"clips": v["clips"], "woken": v["clips_woken"], "rate": v["clips_woken"] / v["clips"]}
            for g, v in groups.items() if g.startswith("near_miss")}
    return {"miss": miss, "miss_by_source": by_group, "false_wakes": fa, "near_miss": near,
            "groups": groups}


def det_points(model: str, per_th: dict[float, dict[str, Outcome]], clips: list[Clip],
               key: str) -> dict[str, list[tuple[float, float, float]]]:
    """Per condition: (threshold, false wakes/hour, miss rate)."""
    out: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for th, outcomes in sorted(per_th.items()):
        s = summarize(model, outcomes, clips, key)
        for cond, m in s["miss"].items():
            out[cond].append((th, s["false_wakes"]["per_hour"], m["rate"]))
    return out


# --- main ------------------------------------------------------------------------------


def parse_overrides(items: Sequence[str] | None, kind: type, engine: str) -> dict[str, Any]:
    """``NAME=VALUE`` (every engine) or ``ENGINE:NAME=VALUE`` (that engine only)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, _, value = item.partition("=")
        if not value:
            raise SystemExit(f"bench_wake: expected [ENGINE:]NAME=VALUE, got {item!r}")
        only, _, name = key.rpartition(":")
        if only in ("", engine):
            out[name] = kind(value)
    return out


def engine_models(args: argparse.Namespace, settings: Settings, engine: str) -> list[WakeModelSettings]:
    """The engine's configured entries for ``--models``, with the command line's overrides."""
    over = {"threshold": parse_overrides(args.threshold, float, engine),
            "candidate_threshold": parse_overrides(args.candidate_threshold, float, engine),
            "patience": parse_overrides(args.patience, int, engine)}
    models = []
    for name in args.models:
        upd = {key: values[name] for key, values in over.items() if name in values}
        models.append(wake_model(with_engine(settings, engine), name).model_copy(update=upd))
    return models


def evaluate(args: argparse.Namespace, settings: Settings, engine: str, clips: list[Clip],
             cache: VerifyCache) -> dict[str, Any]:
    """Every figure for one engine: per model, before/after the second stage, DET curves."""
    settings = with_engine(settings, engine)
    models = engine_models(args, settings, engine)
    use_second = settings.wake.verifier.enabled and not args.no_second_stage
    scores = score_all(clips, models, engine, args.data / "scores" / model_key(models, engine),
                       args.workers, args.quiet)
    columns = [m.name for m in models]
    out: dict[str, Any] = {"models": {}}
    for model in models:
        log(f"{engine} {model.name}: threshold {model.threshold} (candidates "
            f"{model.candidate_threshold}), patience {model.patience}, "
            f"second stage {'on' if use_second and model.verify else 'off'}")
        relevant = [c for c in clips if c.kind == "negative" or c.wake == model.name]
        first = run_daemon_path(settings, model, relevant, scores, columns, None, args.quiet)
        after = (run_daemon_path(settings, model, relevant, scores, columns, cache, args.quiet)
                 if use_second and model.verify else first)
        # the fast replay must agree with the real path at the operating point
        fast = sweep(model, relevant, scores, columns, [model.threshold], settings.wake.refractory_s,
                     quiet=True)[model.threshold]
        mismatch = [cid for cid, o in first.items() if o.wakes != fast[cid].wakes]
        if mismatch:
            raise SystemExit(f"bench_wake: fast replay disagrees with the detector on {len(mismatch)} "
                             f"clips (e.g. {mismatch[0]})")
        s_before = summarize(model.name, first, relevant, "wakes")
        s_after = summarize(model.name, after, relevant, "wakes")
        checked = summarize(model.name, after, relevant, "candidates")["false_wakes"]["with_near_misses"]
        curves = {"first stage": det_points(model.name, sweep(
            model, relevant, scores, columns, args.det_thresholds, settings.wake.refractory_s,
            args.quiet), relevant, "wakes")}
        if use_second and model.verify and args.det_verified_thresholds:
            curves["second stage"] = det_points(model.name, sweep_verified(
                settings, model, relevant, scores, columns, args.det_verified_thresholds, cache,
                args.quiet), relevant, "wakes")
        hours = s_before["false_wakes"]["hours"]
        points = {f"first stage alone, t={model.threshold}":
                  (s_before["false_wakes"]["per_hour"], s_before["miss"].get("clean", {}).get("rate", 0.0))}
        if after is not first:
            points[f"default: candidates from {model.candidate_threshold or model.threshold}, "
                   "second stage"] = (s_after["false_wakes"]["per_hour"],
                                      s_after["miss"].get("clean", {}).get("rate", 0.0))
        png = args.plots / f"wake_det_{engine}_{model.name}.png"
        if any(s_before["miss"]):
            plot_det(f"{engine} {model.name}", curves, points, hours, png)
        out["models"][model.name] = {
            "threshold": model.threshold, "candidate_threshold": model.candidate_threshold,
            "patience": model.patience,
            "refractory_s": settings.wake.refractory_s,
            "second_stage": bool(after is not first),
            "second_stage_checks_per_hour_of_negatives": checked["wakes"] / checked["hours"],
            "before": s_before, "after": s_after,
            "det_png": str(png) if any(s_before["miss"]) else None,
            "det": {k: {c: [list(p) for p in v] for c, v in cur.items()} for k, cur in curves.items()},
        }
    log(f"measuring {engine}'s CPU per model")
    out["cpu_s_per_hour"] = cpu_per_hour(models, engine, clips, args.cpu_seconds)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_OUT, help="cache folder built by wake_data.py")
    p.add_argument("--config", type=Path, help="settings file (default: the packaged configs)")
    p.add_argument("--engines", nargs="+", choices=WAKE_ENGINES, default=list(WAKE_ENGINES),
                   help="wake engines to compare in this run (default: all)")
    p.add_argument("--models", nargs="+", default=["hey_jarvis", "alexa"],
                   help="wake models to evaluate (positives exist for hey_jarvis and alexa)")
    p.add_argument("--threshold", action="append", metavar="[ENGINE:]NAME=T",
                   help="override a model's threshold (for one engine with the ENGINE: prefix)")
    p.add_argument("--candidate-threshold", action="append", metavar="[ENGINE:]NAME=T",
                   help="override a model's candidate_threshold (with the second stage)")
    p.add_argument("--patience", action="append", metavar="[ENGINE:]NAME=N",
                   help="override a model's patience")
    p.add_argument("--no-second-stage", action="store_true", help="first stage only")
    p.add_argument("--min-similarity", type=float, help="override wake.verifier.min_similarity")
    p.add_argument("--det-thresholds", type=float, nargs="*",
                   default=[0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99,
                            0.995],
                   help="first-stage thresholds for the DET curves (first stage only)")
    p.add_argument("--det-verified-thresholds", type=float, nargs="*",
                   default=[0.01, 0.02, 0.05, 0.1, 0.2, 0.5],
                   help="candidate thresholds for the DET curve with the second stage (each may "
                   "need Whisper on new windows; cached)")
    p.add_argument("--cpu-seconds", type=float, default=600, help="audio used for the CPU figures")
    p.add_argument("--plots", type=Path, default=REPO_ROOT / "out", help="folder for the DET PNGs")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = p.parse_args(argv)

    settings = load_settings(args.config)
    if args.min_similarity is not None:
        verifier = settings.wake.verifier.model_copy(update={"min_similarity": args.min_similarity})
        wake = settings.wake.model_copy(update={"verifier": verifier})
        settings = settings.model_copy(update={"wake": wake})
    try:
        clips = read_manifest(args.data)
    except FileNotFoundError as exc:
        log(f"bench_wake: {exc}")
        return 2
    t_start = time.monotonic()
    cache = VerifyCache(args.data / "verify-cache.json", settings.wake.verifier.min_similarity,
                        _settings=settings).load()
    report: dict[str, Any] = {"data": str(args.data), "engines": {}, "negatives_hours": 0.0,
                              "loadavg": os.getloadavg()}
    for engine in args.engines:
        report["engines"][engine] = result = evaluate(args, settings, engine, clips, cache)
        for m in result["models"].values():
            report["negatives_hours"] = m["before"]["false_wakes"]["hours"]
    calls = [v for v in cache.texts.values()]
    if calls:
        per_call = float(np.mean([c[1] for c in calls]))
        report["second_stage_call"] = {
            "calls_measured": len(calls),
            "cpu_s_mean": per_call,
            "wall_s_mean": float(np.mean([c[2] for c in calls])),
            "wall_s_p95": float(np.percentile([c[2] for c in calls], 95)),
        }
        for result in report["engines"].values():
            for r in result["models"].values():
                if r["second_stage"]:
                    r["second_stage_cpu_s_per_hour_of_negatives"] = (
                        r["second_stage_checks_per_hour_of_negatives"] * per_call)
    report["elapsed_s"] = round(time.monotonic() - t_start, 1)
    report["loadavg_end"] = os.getloadavg()
    if args.json:
        print(json.dumps(report))
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
