"""Is it the voice or Hearth's feeding? microWakeWord's peak score on "Hey Jarvis" clips.

microWakeWord's hey_jarvis wakes on Piper speech but hardly ever on espeak-ng. A wrong
front end on Hearth's side (sample format, scaling, chunk size) would look the same, so
this feeds each clip four ways and prints each one's peak, next to openWakeWord's:

- ``hearth``: Hearth's engine (assistant.wake.microwakeword) on 80 ms chunks;
- ``package``: the package's own loop, as its README and tests do it (10 ms, int16 bytes);
- ``-20 dB`` / ``+12 dB``: the level changed (the front end's gain control should absorb it);
- deliberate mistakes, each of which a mismatch on Hearth's side could be: ``float32``
  bytes, big-endian bytes, audio at 8 kHz played as 16 kHz.

    .venv/bin/python bench/wake_frontend.py [--reference DIR]   # DIR: WAVs the package's
                                                                # own tests use (16 kHz)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
for p in (REPO_ROOT, REPO_ROOT / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from voices import ESPEAK_VOICES, Piper, espeak, to_i16  # noqa: E402

from assistant.audio.chunk import Samples, chunked  # noqa: E402
from assistant.audio.files import read_audio  # noqa: E402
from assistant.config import WakeModelSettings  # noqa: E402

MODEL = WakeModelSettings(name="hey_jarvis", threshold=0.97)


def peak_hearth(audio: Samples) -> float:
    from assistant.wake.microwakeword import MicroWakeWord

    det = MicroWakeWord([MODEL])
    det.new_stream()
    return max(det.scores(c)["hey_jarvis"] for c in chunked(audio))


def peak_package(raw: bytes) -> float:
    """The package's own streaming loop (its README), on whatever bytes it is given."""
    from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures, Model

    mww, features = MicroWakeWord.from_builtin(Model.HEY_JARVIS), MicroWakeWordFeatures()
    best = 0.0
    for i in range(0, len(raw), 320):
        for f in features.process_streaming(raw[i : i + 320]):
            best = max(best, mww.process_streaming_prob(f) or 0.0)
    return best


def peak_oww(audio: Samples) -> float:
    from assistant.wake.openwakeword import OpenWakeWord

    det = OpenWakeWord([MODEL])
    det.new_stream()
    return max(det.scores(c)["hey_jarvis"] for c in chunked(audio))


def gain(audio: Samples, db: float) -> bytes:
    return to_i16(audio.astype(np.float32) / 32768.0 * 10 ** (db / 20)).astype("<i2").tobytes()


WAYS: dict[str, Callable[[Samples], float]] = {
    "openWakeWord": peak_oww,
    "hearth": peak_hearth,
    "package": lambda a: peak_package(a.astype("<i2").tobytes()),
    "-20 dB": lambda a: peak_package(gain(a, -20)),
    "+12 dB": lambda a: peak_package(gain(a, 12)),
    "float32": lambda a: peak_package((a.astype(np.float32) / 32768.0).tobytes()),
    "big-endian": lambda a: peak_package(a.astype(">i2").tobytes()),
    "8 kHz": lambda a: peak_package(a[::2].astype("<i2").tobytes()),
}


def clips(reference: Path | None) -> list[tuple[str, Samples]]:
    pad = np.zeros(16000, np.int16)
    out: list[tuple[str, Samples]] = []
    if reference is not None:
        out += [(f"reference {p.name}", np.concatenate([pad, read_audio(p), pad]))
                for p in sorted(reference.glob("*.wav"))]
    piper = Piper()
    for ls in (0.8, 1.0, 1.2):
        out.append((f"piper length {ls}", np.concatenate(
            [pad, to_i16(piper.say("Hey Jarvis.", length_scale=ls) * 0.5), pad])))
    with tempfile.TemporaryDirectory() as tmp:
        for voice in ESPEAK_VOICES:
            speech = espeak("Hey Jarvis.", Path(tmp) / "e.wav", voice=voice, speed=160, pitch=50)
            out.append((f"espeak {voice}", np.concatenate([pad, to_i16(speech * 0.5), pad])))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reference", type=Path, help="a folder of 16 kHz WAVs of 'Hey Jarvis'")
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    print(f"{'clip':28}" + "".join(f"{w:>13}" for w in WAYS))
    for name, audio in clips(args.reference):
        print(f"{name:28}" + "".join(f"{fn(audio):13.3f}" for fn in WAYS.values()), flush=True)
    print("microWakeWord's hey_jarvis wakes at 0.97 (its manifest's probability_cutoff); "
          "openWakeWord's at 0.5")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
