"""The wake benchmark's machinery: engine scores computed once per clip and cached, the
detector replayed over them, Whisper's transcripts cached, CPU per hour of audio."""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from wake_data import Clip

from assistant.audio.chunk import CHUNK_SAMPLES, SAMPLE_RATE, AudioChunk, Samples
from assistant.config import Settings, WakeModelSettings
from assistant.wake.base import WakeDetector
from assistant.wake.verify import Verdict, accept, wake_phrase

FRAME_S = CHUNK_SAMPLES / SAMPLE_RATE
Scores = npt.NDArray[np.float32]


def log(msg: str, end: str = "\n") -> None:
    import sys

    sys.stderr.write(msg + end)
    sys.stderr.flush()


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
        """Write the cache, keeping what another run saved meanwhile (runs may overlap)."""
        if self.path.exists():
            self.texts = {**json.loads(self.path.read_text(encoding="utf-8")), **self.texts}
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
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
