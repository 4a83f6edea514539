"""Build the wake-word benchmark audio into a cache folder (default out/wake-data/).

Positives: "Hey Jarvis" synthesized with the bundled Piper voice (varied length/noise
scales) and espeak-ng (voices, variants, speeds, pitches), half of them running on into
a command; the 329 real "Alexa" recordings. Each set clean and mixed with the noise
files at 20/10/5 dB SNR.

Negatives (false wakes per hour): SLURP sentences spoken by espeak-ng (the bulk of the
hours, in long streams; some mixed with noise) and by Piper, real speech from the eval
data, music and noise, and the real near misses ("Jarvis" alone, "computer",
"smart mirror"), reported separately.

Eval-data files are referenced in place, never copied; generated audio stays in the cache
(out/ is gitignored). Each part is cached: re-running only builds what is missing.

    .venv/bin/python bench/wake_data.py [--out out/wake-data] [--espeak-hours 3.3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from _common import REPO_ROOT, eval_data_dir  # puts the repository on sys.path
from voices import (
    ESPEAK_VARIANTS,
    ESPEAK_VOICES,
    FloatAudio,
    NoisePool,
    Piper,
    active_power,
    decode_damaged,
    dither,
    espeak,
    to_i16,
)

from assistant.audio.chunk import SAMPLE_RATE
from assistant.audio.files import read_audio, write_wav
from assistant.errors import AudioError

DEFAULT_OUT = REPO_ROOT / "out" / "wake-data"
CONDITIONS = ("clean", "snr20", "snr10", "snr5")
SNR_DB = {"snr20": 20.0, "snr10": 10.0, "snr5": 5.0}
WAKE_WORDS = ("jarvis", "alexa", "mycroft", "rhasspy")
"""Sentences holding any of these are not negatives."""

WAKE_TEXTS = ("Hey Jarvis", "Hey Jarvis.", "Hey, Jarvis!", "Hey Jarvis?", "hey jarvis")


def log(msg: str) -> None:
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


@dataclass
class Clip:
    """One benchmark file. ``wake`` is the model that should fire (None for negatives)."""

    id: str
    path: str
    kind: str  # "positive" | "negative"
    group: str
    condition: str = "clean"
    wake: str | None = None
    seconds: float = 0.0
    source: str = ""
    text: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


# --- text ------------------------------------------------------------------------


def slurp_sentences(eval_data: Path) -> list[str]:
    """Every SLURP sentence that holds no wake word, in a fixed shuffled order."""
    out: list[str] = []
    for name in ("test", "devel"):
        path = eval_data / "slu" / "slurp" / f"{name}.jsonl"
        with path.open(encoding="utf-8") as f:
            for line in f:
                s = str(json.loads(line)["sentence"]).strip()
                if s and not any(w in s.lower() for w in WAKE_WORDS):
                    out.append(s)
    order = np.random.default_rng(7).permutation(len(out))
    return [out[i] for i in order]


def iot_commands(eval_data: Path) -> list[str]:
    """Home commands (SLURP scenario iot) to follow "Hey Jarvis" in half the positives."""
    out: list[str] = []
    with (eval_data / "slu" / "slurp" / "test.jsonl").open(encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            s = str(d["sentence"]).strip()
            if str(d.get("scenario")) == "iot" and not any(w in s.lower() for w in WAKE_WORDS):
                out.append(s)
    return out


# --- the parts ---------------------------------------------------------------------


class Builder:
    def __init__(self, out: Path, eval_data: Path, *, force: bool = False, workers: int = 2) -> None:
        self.out = out
        self.eval = eval_data
        self.force = force
        self.workers = workers
        (out / "parts").mkdir(parents=True, exist_ok=True)
        self._noise: NoisePool | None = None
        self._piper: Piper | None = None

    @property
    def noise(self) -> NoisePool:
        if self._noise is None:
            self._noise = NoisePool(sorted((self.eval / "noise").iterdir()))
        return self._noise

    @property
    def piper(self) -> Piper:
        if self._piper is None:
            self._piper = Piper()
        return self._piper

    def part(self, name: str, build: Callable[[], list[Clip]]) -> list[Clip]:
        """A cached part: its clip list is written only once all its audio exists."""
        path = self.out / "parts" / f"{name}.jsonl"
        if path.exists() and not self.force:
            clips = [Clip(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()]
            if all(Path(c.path).exists() for c in clips):
                log(f"{name}: cached ({len(clips)} clips, {sum(c.seconds for c in clips) / 3600:.2f} h)")
                return clips
        t0 = time.monotonic()
        clips = build()
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(asdict(c)) + "\n" for c in clips), encoding="utf-8")
        tmp.replace(path)
        log(f"{name}: built {len(clips)} clips, {sum(c.seconds for c in clips) / 3600:.2f} h "
            f"in {time.monotonic() - t0:.0f} s")
        return clips

    def _write(self, rel: str, audio: FloatAudio) -> tuple[str, float]:
        path = self.out / rel
        write_wav(path, to_i16(audio))
        return str(path), len(audio) / SAMPLE_RATE

    def _noisy_copies(self, clean: list[tuple[Clip, FloatAudio, float]], folder: str,
                      rng: np.random.Generator) -> list[Clip]:
        """The clean clips mixed at each SNR (same speech, random noise segments)."""
        out: list[Clip] = []
        for cond, snr in SNR_DB.items():
            for clip, audio, power in clean:
                noise_name, mixed = self.noise.mix(audio, snr, rng, ref_power=power)
                path, secs = self._write(f"{folder}/{cond}/{Path(clip.path).stem}.wav", mixed)
                out.append(Clip(**{**asdict(clip), "id": f"{clip.id}@{cond}", "path": path,
                                   "condition": cond, "seconds": secs,
                                   "extra": {**clip.extra, "noise": noise_name, "snr_db": snr}}))
            log(f"  mixed at {cond}")
        return out

    # positives -------------------------------------------------------------------

    def hey_jarvis(self, n_piper: int, n_espeak: int) -> list[Clip]:
        rng = np.random.default_rng(1)
        commands = iot_commands(self.eval)
        clean: list[tuple[Clip, FloatAudio, float]] = []
        tmp = self.out / "tmp"
        tmp.mkdir(exist_ok=True)
        t0 = time.monotonic()
        for i in range(n_piper + n_espeak):
            wake = WAKE_TEXTS[int(rng.integers(len(WAKE_TEXTS)))]
            with_cmd = bool(rng.random() < 0.5)
            text = (wake.rstrip(".!?") + ", " + commands[int(rng.integers(len(commands)))]
                    if with_cmd else wake)
            if i < n_piper:
                ls = float(rng.uniform(0.75, 1.35))
                ns = float(rng.uniform(0.3, 0.9))
                nw = float(rng.uniform(0.4, 1.0))
                speech = self.piper.say(text, length_scale=ls, noise_scale=ns, noise_w_scale=nw)
                extra: dict[str, Any]
                source, extra = "piper", {"length_scale": round(ls, 3), "noise_scale": round(ns, 3),
                                          "noise_w_scale": round(nw, 3)}
            else:
                variant = ESPEAK_VARIANTS[int(rng.integers(len(ESPEAK_VARIANTS)))]
                voice = ESPEAK_VOICES[int(rng.integers(len(ESPEAK_VOICES)))] + (
                    f"+{variant}" if variant else "")
                speed = int(rng.integers(120, 221))
                pitch = int(rng.integers(20, 81))
                speech = espeak(text, tmp / f"hj{i}.wav", voice=voice, speed=speed, pitch=pitch)
                source, extra = "espeak", {"voice": voice, "speed": speed, "pitch": pitch}
            speech = speech * float(10 ** (rng.uniform(-12, 0) / 20) * 0.9 / max(
                float(np.abs(speech).max()), 1e-6))  # levels from -13 to -1 dBFS peak
            pre = np.zeros(int(SAMPLE_RATE * rng.uniform(0.5, 1.5)), np.float32)
            post = np.zeros(SAMPLE_RATE, np.float32)
            audio = np.concatenate([pre, speech, post])
            audio = audio + dither(len(audio), rng)
            path, secs = self._write(f"pos/hey_jarvis/clean/{i:04d}.wav", audio)
            clip = Clip(id=f"hey_jarvis/{i:04d}", path=path, kind="positive", group=f"hey_jarvis_{source}",
                        wake="hey_jarvis", seconds=secs, source=source, text=text,
                        extra={**extra, "speech_start_s": round(len(pre) / SAMPLE_RATE, 3),
                               "speech_s": round(len(speech) / SAMPLE_RATE, 3)})
            clean.append((clip, audio, active_power(speech)))
            if (i + 1) % 20 == 0 or i + 1 == n_piper + n_espeak:
                log(f"  hey_jarvis positives {i + 1}/{n_piper + n_espeak} "
                    f"({time.monotonic() - t0:.0f} s)")
        return [c for c, _, _ in clean] + self._noisy_copies(clean, "pos/hey_jarvis", rng)

    def alexa(self) -> list[Clip]:
        rng = np.random.default_rng(2)
        clean: list[tuple[Clip, FloatAudio, float]] = []
        files = sorted((self.eval / "wake" / "alexa").glob("*.flac"), key=lambda p: int(p.stem))
        unreadable: list[str] = []
        for f in files:
            path, group = str(f), "alexa_real"
            try:
                audio = read_audio(f).astype(np.float32) / 32768.0
            except AudioError:  # a few source files are damaged (FLAC "lost sync")
                unreadable.append(f.name)
                audio = decode_damaged(f)  # what ffmpeg still gets out of them, glitches and all
                path, _ = self._write(f"pos/alexa/damaged/{f.stem}.wav", audio)
                group = "alexa_damaged"
            clip = Clip(id=f"alexa/{f.stem}", path=path, kind="positive", group=group,
                        wake="alexa", seconds=len(audio) / SAMPLE_RATE, source="real", text="Alexa")
            clean.append((clip, audio, active_power(audio)))
        log(f"  read {len(clean)} real alexa clips; {len(unreadable)} damaged ones decoded by ffmpeg "
            f"(group alexa_damaged): {', '.join(unreadable)}")
        return [c for c, _, _ in clean] + self._noisy_copies(clean, "pos/alexa", rng)

    # negatives --------------------------------------------------------------------

    def slurp_espeak(self, hours: float, noisy_share: float) -> list[Clip]:
        sentences = slurp_sentences(self.eval)
        rng = np.random.default_rng(3)
        per_stream = 60
        jobs: list[dict[str, Any]] = []
        total_est = 0.0
        k = 0
        while total_est < hours * 3600:
            batch = [sentences[(k * per_stream + j) % len(sentences)] for j in range(per_stream)]
            variant = ESPEAK_VARIANTS[int(rng.integers(len(ESPEAK_VARIANTS)))]
            voice = ESPEAK_VOICES[int(rng.integers(len(ESPEAK_VOICES)))] + (f"+{variant}" if variant else "")
            speed = int(rng.integers(130, 211))
            noisy = bool(rng.random() < noisy_share)
            jobs.append({"k": k, "text": ".\n".join(batch) + ".", "voice": voice, "speed": speed,
                         "pitch": int(rng.integers(20, 81)), "gap": int(rng.integers(0, 6)),
                         "snr": float(rng.uniform(5, 15)) if noisy else None,
                         "seed": int(rng.integers(1 << 30)), "out": str(self.out), "eval": str(self.eval),
                         "sentences": len(batch)})
            # ~2.9 s per sentence at 160 wpm with pauses; the real length is measured below
            total_est += per_stream * 2.9 * 160 / speed
            k += 1
        clips: list[Clip] = []
        t0 = time.monotonic()
        with ProcessPoolExecutor(max_workers=self.workers) as pool:
            for i, clip in enumerate(pool.map(_espeak_stream, jobs)):
                clips.append(Clip(**clip))
                if (i + 1) % 5 == 0 or i + 1 == len(jobs):
                    hrs = sum(c.seconds for c in clips) / 3600
                    log(f"  espeak streams {i + 1}/{len(jobs)}: {hrs:.2f} h ({time.monotonic() - t0:.0f} s)")
        return clips

    def slurp_piper(self, n_sentences: int) -> list[Clip]:
        sentences = slurp_sentences(self.eval)[::-1][:n_sentences]  # others than espeak's first
        rng = np.random.default_rng(4)
        clips: list[Clip] = []
        per_stream = 40
        t0 = time.monotonic()
        for s in range(0, len(sentences), per_stream):
            pieces: list[FloatAudio] = []
            for text in sentences[s : s + per_stream]:
                pieces.append(self.piper.say(text, length_scale=float(rng.uniform(0.8, 1.25)),
                                             noise_scale=float(rng.uniform(0.4, 0.8))))
                pieces.append(np.zeros(int(SAMPLE_RATE * rng.uniform(0.3, 1.2)), np.float32))
            audio = np.concatenate(pieces)
            audio = audio * (0.5 / max(float(np.abs(audio).max()), 1e-6)) + dither(len(audio), rng)
            n = s // per_stream
            path, secs = self._write(f"neg/slurp_piper/{n:03d}.wav", audio)
            clips.append(Clip(id=f"slurp_piper/{n:03d}", path=path, kind="negative", group="slurp_piper",
                              seconds=secs, source="piper",
                              extra={"sentences": len(sentences[s : s + per_stream])}))
            log(f"  piper streams {n + 1}/{-(-len(sentences) // per_stream)} ({time.monotonic() - t0:.0f} s)")
        return clips

    def references(self) -> list[Clip]:
        """Real recordings used in place: other speech, music/noise, near misses."""
        groups: list[tuple[str, str, Iterator[Path]]] = [
            ("near_miss_jarvis", "real", (self.eval / "wake" / "jarvis").glob("*.wav")),
            ("near_miss_computer", "real", (self.eval / "wake" / "computer").glob("*.wav")),
            ("near_miss_smart_mirror", "real", (self.eval / "wake" / "smart_mirror").glob("*.wav")),
            ("real_speech", "real", (self.eval / "commands" / "coffee_orders").glob("*.wav")),
            ("real_speech", "real", (self.eval / "speech").rglob("*.wav")),
            ("music_noise", "real", (self.eval / "noise").iterdir()),
        ]
        clips: list[Clip] = []
        import soundfile as sf

        for group, source, files in groups:
            for f in sorted(files):
                info = sf.info(str(f))
                clips.append(Clip(id=f"{group}/{f.stem}", path=str(f), kind="negative", group=group,
                                  seconds=float(info.frames) / float(info.samplerate), source=source))
        return clips


def _espeak_stream(job: dict[str, Any]) -> dict[str, Any]:
    """One long espeak-ng stream of SLURP sentences (a worker process)."""
    out = Path(job["out"])
    rng = np.random.default_rng(job["seed"])
    tmp = out / "tmp"
    tmp.mkdir(exist_ok=True)
    audio = espeak(job["text"], tmp / f"neg{job['k']}.wav", voice=job["voice"], speed=job["speed"],
                   pitch=job["pitch"], gap=job["gap"])
    audio = audio * (float(10 ** (rng.uniform(-10, 0) / 20)) * 0.7 / max(float(np.abs(audio).max()), 1e-6))
    audio = audio + dither(len(audio), rng)
    group = "slurp_espeak"
    extra: dict[str, Any] = {"voice": job["voice"], "speed": job["speed"], "pitch": job["pitch"],
                             "sentences": job["sentences"]}
    if job["snr"] is not None:
        pool = NoisePool(sorted((Path(job["eval"]) / "noise").iterdir()))
        noise_name, audio = pool.mix(audio, job["snr"], rng)
        group = "slurp_espeak_noisy"
        extra.update(noise=noise_name, snr_db=round(job["snr"], 1))
    path = out / "neg" / "slurp_espeak" / f"{job['k']:03d}.wav"
    write_wav(path, to_i16(audio))
    return asdict(Clip(id=f"slurp_espeak/{job['k']:03d}", path=str(path), kind="negative", group=group,
                       seconds=len(audio) / SAMPLE_RATE, source="espeak", extra=extra))


def read_manifest(out: Path) -> list[Clip]:
    path = out / "manifest.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run bench/wake_data.py first")
    return [Clip(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="cache folder (default: out/wake-data)")
    p.add_argument("--piper-positives", type=int, default=120, help="Piper 'Hey Jarvis' clips")
    p.add_argument("--espeak-positives", type=int, default=240, help="espeak-ng 'Hey Jarvis' clips")
    p.add_argument("--espeak-hours", type=float, default=3.3,
                   help="hours of espeak-ng SLURP speech (the bulk of the negatives)")
    p.add_argument("--noisy-share", type=float, default=0.15,
                   help="share of the espeak streams mixed with noise/music at 5-15 dB SNR")
    p.add_argument("--piper-sentences", type=int, default=400, help="SLURP sentences spoken by Piper")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--force", action="store_true", help="rebuild every part")
    p.add_argument("--json", action="store_true", help="print a JSON summary instead of a table")
    args = p.parse_args(argv)
    if shutil.which("espeak-ng") is None:
        sys.stderr.write("wake_data: espeak-ng is not installed (apt-get install espeak-ng)\n")
        return 2
    eval_data = eval_data_dir()
    b = Builder(args.out, eval_data, force=args.force, workers=args.workers)
    clips: list[Clip] = []
    clips += b.part("hey_jarvis", lambda: b.hey_jarvis(args.piper_positives, args.espeak_positives))
    clips += b.part("alexa", b.alexa)
    clips += b.part("references", b.references)
    clips += b.part("slurp_piper", lambda: b.slurp_piper(args.piper_sentences))
    clips += b.part("slurp_espeak", lambda: b.slurp_espeak(args.espeak_hours, args.noisy_share))
    shutil.rmtree(args.out / "tmp", ignore_errors=True)
    (args.out / "manifest.jsonl").write_text("".join(json.dumps(asdict(c)) + "\n" for c in clips),
                                             encoding="utf-8")
    summary: dict[str, dict[str, float]] = {}
    for c in clips:
        key = f"{c.kind}/{c.group}/{c.condition}"
        row = summary.setdefault(key, {"clips": 0, "hours": 0.0})
        row["clips"] += 1
        row["hours"] += c.seconds / 3600
    if args.json:
        print(json.dumps({"out": str(args.out), "sets": summary}))
    else:
        print(f"{'set':50} {'clips':>6} {'hours':>7}")
        for key, row in sorted(summary.items()):
            print(f"{key:50} {int(row['clips']):6d} {row['hours']:7.3f}")
        neg = sum(c.seconds for c in clips if c.kind == "negative") / 3600
        print(f"negatives: {neg:.2f} h; manifest: {args.out / 'manifest.jsonl'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
