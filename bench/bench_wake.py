"""Wake-word benchmark: misses, false wakes per hour, near misses, CPU, DET curves.

Runs the clips built by bench/wake_data.py through the detector the daemon builds
(:func:`assistant.wake.factory.build_wake_detector`: the configured thresholds,
patience, refractory period and second stage). openWakeWord's per-frame scores are
computed once per clip and cached (.npy in the cache folder); the second stage's
transcripts are cached by the hash of the audio window, so threshold sweeps and
re-runs are cheap.

    .venv/bin/python bench/bench_wake.py [--config FILE] [--json] [--models hey_jarvis alexa]

Reports, per model, at the configured operating point, before (first stage only) and
after (with the second stage): miss rate per condition (clean, 20/10/5 dB SNR), false
wakes per hour over the non-wake set (hours used, exact Poisson 95% upper bound),
near-miss wake rates, CPU seconds per hour of audio; writes a DET curve PNG per model
to out/ (miss rate vs false wakes/hour across thresholds, default point marked).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

REPO_ROOT = Path(__file__).resolve().parent.parent
for p in (REPO_ROOT, REPO_ROOT / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from wake_data import DEFAULT_OUT, Clip, read_manifest  # noqa: E402
from wake_report import plot_det, print_report  # noqa: E402

from assistant.audio.chunk import CHUNK_SAMPLES, SAMPLE_RATE, AudioChunk, Samples  # noqa: E402
from assistant.config import Settings, WakeModelSettings, load_settings, wake_model  # noqa: E402
from assistant.settings import WAKE_ENGINES  # noqa: E402
from assistant.wake.base import WakeDetector  # noqa: E402
from assistant.wake.factory import with_engine  # noqa: E402
from assistant.wake.verify import Verdict, accept, wake_phrase  # noqa: E402

CONDITIONS = ("clean", "snr20", "snr10", "snr5")
FRAME_S = CHUNK_SAMPLES / SAMPLE_RATE
NEAR_MISS = {"hey_jarvis": "near_miss_jarvis"}
"""Each model's own near-miss set: reported separately, left out of its false wakes/hour."""
Scores = npt.NDArray[np.float32]


def log(msg: str, end: str = "\n") -> None:
    sys.stderr.write(msg + end)
    sys.stderr.flush()


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


# --- scores: computed once per clip ----------------------------------------------------


def model_key(models: Sequence[WakeModelSettings], engine: str) -> str:
    """Cache key for an engine and a set of model files (a changed file gets new scores)."""
    from assistant.wake.microwakeword import model_files
    from assistant.wake.openwakeword import model_file

    h = hashlib.sha1(engine.encode())
    for m in models:
        f = model_file(m) if engine == "openwakeword" else model_files(m)[0]
        st = f.stat()
        h.update(f"{m.name}:{f}:{st.st_size}:{st.st_mtime_ns};".encode())
    return f"{engine}-{h.hexdigest()[:12]}"


def clip_file(folder: Path, clip: Clip, suffix: str) -> Path:
    return folder / (clip.id.replace("/", "__").replace("@", "_at_") + suffix)


def read_samples(clip: Clip) -> Samples:
    from assistant.audio.files import read_audio

    return read_audio(clip.path)


def chunks_of(samples: Samples) -> list[AudioChunk]:
    from assistant.audio.chunk import chunked

    return list(chunked(samples))


_WORKER: dict[str, Any] = {}


def _init_worker(models: list[dict[str, Any]], engine: str) -> None:
    from assistant.wake.factory import ENGINES

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _WORKER["det"] = ENGINES[engine]([WakeModelSettings(**m) for m in models], 2.0)
    _WORKER["names"] = [m["name"] for m in models]


def _score_clip(job: tuple[dict[str, Any], str]) -> tuple[str, float, float]:
    clip, out = Clip(**job[0]), Path(job[1])
    det: WakeDetector = _WORKER["det"]
    names: list[str] = _WORKER["names"]
    t0 = time.process_time()
    det.new_stream()
    rows = []
    for chunk in chunks_of(read_samples(clip)):
        s = det.scores(chunk)
        rows.append([s.get(n, 0.0) for n in names])
    arr = np.asarray(rows, dtype=np.float32).reshape(-1, len(names))
    tmp = out.with_suffix(".tmp.npy")
    np.save(tmp, arr)
    tmp.replace(out)
    return clip.id, time.process_time() - t0, clip.seconds


def score_all(clips: list[Clip], models: list[WakeModelSettings], engine: str, folder: Path,
              workers: int, quiet: bool) -> dict[str, Scores]:
    folder.mkdir(parents=True, exist_ok=True)
    todo = [c for c in clips if not clip_file(folder, c, ".npy").exists()]
    if todo:
        hours = sum(c.seconds for c in todo) / 3600
        log(f"scoring {len(todo)} clips ({hours:.2f} h) with {engine} on {workers} processes")
        todo.sort(key=lambda c: -c.seconds)
        jobs = [(c.__dict__, str(clip_file(folder, c, ".npy"))) for c in todo]
        t0 = time.monotonic()
        done_h = 0.0
        margs = [m.model_dump(mode="json") for m in models]
        with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                                 initargs=(margs, engine)) as pool:
            for i, (_cid, _cpu, secs) in enumerate(pool.map(_score_clip, jobs, chunksize=4)):
                done_h += secs / 3600
                if not quiet and ((i + 1) % 50 == 0 or i + 1 == len(jobs)):
                    log(f"\r  [{i + 1:>5}/{len(jobs)}] {done_h:.2f}/{hours:.2f} h "
                        f"({time.monotonic() - t0:.0f} s)   ", end="")
        if not quiet:
            log("")
    return {c.id: np.load(clip_file(folder, c, ".npy")) for c in clips}


# --- the first stage, replayed ------------------------------------------------------------


class ReplayEngine(WakeDetector):
    """The decision rules of :class:`WakeDetector` over cached openWakeWord scores."""

    def __init__(self, models: list[WakeModelSettings], refractory_s: float, columns: list[str]) -> None:
        super().__init__(models, refractory_s=refractory_s)
        self.columns = columns
        self._rows: Scores = np.zeros((0, len(columns)), np.float32)
        self._i = 0

    def load(self, scores: Scores) -> None:
        self._rows, self._i = scores, 0

    def _score(self, samples: Samples) -> dict[str, float]:
        row = self._rows[self._i]
        self._i += 1
        return {n: float(row[j]) for j, n in enumerate(self.columns) if n in self.models}

    def _reset_engine(self) -> None:
        """Cached scores cannot forget; the rules' own state is reset by the base class."""


def first_stage_hits(scores: npt.NDArray[np.float32], threshold: float, patience: int,
                     refractory_s: float) -> list[int]:
    """Frames on which :meth:`WakeDetector.process` fires for one model (same rules, vectorised
    where it can be). Checked against the real path at the operating point."""
    above = scores >= threshold
    if not above.any():
        return []
    quiet = math.ceil(refractory_s / FRAME_S - 1e-9)
    hits: list[int] = []
    streak = 0
    quiet_until = -1
    i = 0
    n = len(scores)
    while i < n:
        if i <= quiet_until:
            streak = 0
            i += 1
            continue
        streak = streak + 1 if above[i] else 0
        if streak >= patience:
            hits.append(i)
            streak = 0
            quiet_until = i + quiet
        i += 1
    return hits


# --- the second stage, cached -----------------------------------------------------------


@dataclass
class VerifyCache:
    """Transcripts of wake windows keyed by the window's audio hash (so any path that
    asks about the same audio shares one Whisper call); the verdict is recomputed from
    the text so ``min_similarity`` can be tuned offline."""

    path: Path
    min_similarity: float
    texts: dict[str, list[Any]] = field(default_factory=dict)
    calls: int = 0
    call_cpu_s: float = 0.0
    call_wall_s: float = 0.0
    _whisper: Any = None
    _settings: Settings | None = None
    _dirty: int = 0

    def load(self) -> VerifyCache:
        if self.path.exists():
            self.texts = json.loads(self.path.read_text(encoding="utf-8"))
        return self

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.texts), encoding="utf-8")
        tmp.replace(self.path)
        self._dirty = 0

    def text(self, samples: Samples) -> str:
        assert self._settings is not None
        ctx = self._settings.wake.verifier.context_s
        key = hashlib.sha1(samples.tobytes() + f"ctx={ctx}".encode()).hexdigest()
        got = self.texts.get(key)
        if got is None:
            if self._whisper is None:
                from assistant.wake.verify import WhisperPhraseVerifier

                assert self._settings is not None
                vs = self._settings.wake.verifier
                self._whisper = WhisperPhraseVerifier(self._settings.stt, context_s=vs.context_s)
                self._whisper.warm_up()
            c0, w0 = time.process_time(), time.perf_counter()
            text = self._whisper.transcribe(samples)
            cpu, wall = time.process_time() - c0, time.perf_counter() - w0
            self.calls += 1
            self.call_cpu_s += cpu
            self.call_wall_s += wall
            got = [text, round(cpu, 4), round(wall, 4)]
            self.texts[key] = got
            self._dirty += 1
            if self._dirty >= 50:
                self.save()
        return str(got[0])

    def verify(self, model: WakeModelSettings, samples: Samples, peak: float) -> Verdict:
        if wake_phrase(model) is None:
            return Verdict(True, "")
        text = self.text(samples)
        return Verdict(accept(model, text, peak, self.min_similarity), text)


# --- evaluation ---------------------------------------------------------------------


@dataclass
class Outcome:
    """Per clip: first-stage candidates and accepted wakes for one model."""

    candidates: int = 0
    wakes: int = 0


def run_daemon_path(settings: Settings, model: WakeModelSettings, clips: list[Clip],
                    scores: dict[str, Scores], columns: list[str], cache: VerifyCache | None,
                    quiet: bool) -> dict[str, Outcome]:
    """Every clip through the detector the daemon builds (openWakeWord replaced by its cached
    scores; Whisper by its cached transcripts)."""
    from assistant.wake.factory import build_wake_detector
    from assistant.wake.second_stage import VerifiedWakeDetector

    engines: list[ReplayEngine] = []

    def replay(models: list[WakeModelSettings], refractory_s: float) -> WakeDetector:
        engines.append(ReplayEngine(models, refractory_s, columns))  # at the factory's thresholds
        return engines[-1]

    settings = _with_model(settings, model)
    det = build_wake_detector(settings, [model.name], first_stage=replay, verifier=cache,
                              second_stage=cache is not None)
    engine = engines[0]
    out: dict[str, Outcome] = {}
    t0 = time.monotonic()
    for i, clip in enumerate(clips):
        sc = scores[clip.id]
        col = columns.index(model.name)
        o = Outcome()
        out[clip.id] = o
        lowest = model.threshold if cache is None else min(
            model.threshold, model.candidate_threshold or model.threshold)
        if not (sc[:, col] >= lowest).any():
            continue  # no frame reaches the threshold: provably no candidate, skip the audio
        engine.load(sc)
        det.new_stream()
        if isinstance(det, VerifiedWakeDetector):
            det.verdicts.clear()
        for chunk in chunks_of(read_samples(clip))[: len(sc)]:
            if det.process(chunk) is not None:
                o.wakes += 1
        o.candidates = len(det.verdicts) if isinstance(det, VerifiedWakeDetector) else o.wakes
        if not quiet and (i + 1) % 200 == 0:
            log(f"\r  {model.name}: {i + 1}/{len(clips)} clips ({time.monotonic() - t0:.0f} s)   ", end="")
    if not quiet:
        log(f"\r  {model.name}: {len(clips)}/{len(clips)} clips ({time.monotonic() - t0:.0f} s)   ")
    if cache is not None:
        cache.save()
    return out


def _with_model(settings: Settings, model: WakeModelSettings) -> Settings:
    others = tuple(m for m in settings.wake.models if m.name != model.name)
    wake = settings.wake.model_copy(update={"models": (model, *others)})
    return settings.model_copy(update={"wake": wake})


def sweep(model: WakeModelSettings, clips: list[Clip], scores: dict[str, Scores], columns: list[str],
          thresholds: Iterable[float], refractory_s: float, quiet: bool) -> dict[float, dict[str, Outcome]]:
    """First-stage outcomes per threshold, with the fast replay of the rules."""
    col = columns.index(model.name)
    result: dict[float, dict[str, Outcome]] = {}
    for th in thresholds:
        per: dict[str, Outcome] = {}
        for clip in clips:
            hits = first_stage_hits(scores[clip.id][:, col], th, model.patience, refractory_s)
            per[clip.id] = Outcome(candidates=len(hits), wakes=len(hits))
        result[th] = per
    if not quiet:
        log(f"  swept {model.name} over {len(result)} thresholds")
    return result


def sweep_verified(settings: Settings, model: WakeModelSettings, clips: list[Clip],
                   scores: dict[str, Scores], columns: list[str], thresholds: Iterable[float],
                   cache: VerifyCache, quiet: bool) -> dict[float, dict[str, Outcome]]:
    """Outcomes per candidate threshold through the whole detector (``threshold``, where the
    second stage only vetoes the near miss, stays as configured; Whisper runs on new windows
    only)."""
    return {th: run_daemon_path(settings, model.model_copy(update={"candidate_threshold": th}), clips,
                                scores, columns, cache, quiet) for th in thresholds}


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


# --- CPU -------------------------------------------------------------------------------


def cpu_per_hour(models: list[WakeModelSettings], engine: str, clips: list[Clip],
                 seconds: float) -> dict[str, float]:
    """CPU seconds per hour of audio for each model alone (features + classifier) and all."""
    from assistant.wake.factory import ENGINES

    sample: list[Samples] = []
    total = 0.0
    for c in clips:
        if c.kind == "negative" and c.group == "slurp_espeak":
            s = read_samples(c)
            sample.append(s)
            total += len(s) / SAMPLE_RATE
            if total >= seconds:
                break
    audio = np.concatenate(sample)[: int(seconds * SAMPLE_RATE)]
    chunks = chunks_of(audio)
    out: dict[str, float] = {}
    sets = [[m] for m in models] + ([models] if len(models) > 1 else [])
    for ms in sets:
        det = ENGINES[engine](ms, 2.0)
        t0 = time.process_time()
        for ch in chunks:
            det.scores(ch)
        cpu = time.process_time() - t0
        out["+".join(m.name for m in ms)] = cpu / (len(audio) / SAMPLE_RATE) * 3600
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
