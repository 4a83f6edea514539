"""Read any sound file Hearth may be given and bring it to 16 kHz mono int16.

WAV (8/16/24/32-bit, float), FLAC and OGG at any rate and channel count are
converted; a missing, empty, truncated or non-audio file is one clear AudioError.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf
import soxr

from assistant.audio.chunk import SAMPLE_RATE, Samples, to_int16
from assistant.errors import AudioError


def _check_riff(path: Path) -> None:
    """libsndfile reads a truncated WAV silently; compare the header with the file."""
    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return
        size = path.stat().st_size
        while True:
            hdr = f.read(8)
            if len(hdr) < 8:
                return
            cid, clen = hdr[:4], struct.unpack("<I", hdr[4:])[0]
            if cid == b"data":
                if clen in (0, 0xFFFFFFFF):  # streamed WAV: length unknown, trust the file
                    return
                if f.tell() + clen > size:
                    have = size - f.tell()
                    raise AudioError(
                        f"{path}: WAV file is truncated ({have} of {clen} data bytes)",
                        code="audio_truncated",
                    )
                return
            f.seek(clen + (clen & 1), 1)


def to_mono_16k(data: npt.NDArray[np.float32], rate: int) -> Samples:
    """Mix down to mono and resample to 16 kHz."""
    mono = data.mean(axis=1) if data.ndim == 2 else data
    if rate != SAMPLE_RATE:
        mono = soxr.resample(mono, rate, SAMPLE_RATE, quality="HQ")
    return to_int16(np.asarray(mono, dtype=np.float32))


def read_audio(path: Path | str) -> Samples:
    """The whole file as 16 kHz mono int16."""
    path = Path(path)
    if not path.exists():
        raise AudioError(f"audio file not found: {path}", code="audio_missing")
    if path.is_dir():
        raise AudioError(f"{path} is a folder, not an audio file", code="audio_invalid")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: the file is empty", code="audio_empty")
    _check_riff(path)
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        detail = str(exc).split(":", 1)[-1].strip() or "unknown format"
        raise AudioError(f"{path}: not a readable audio file ({detail})", code="audio_invalid") from None
    if data.shape[0] == 0:
        raise AudioError(f"{path}: the file holds no audio", code="audio_empty")
    if not np.isfinite(data).all():
        raise AudioError(f"{path}: the audio holds invalid samples", code="audio_invalid")
    return to_mono_16k(data, int(rate))


def write_wav(path: Path | str, samples: Samples, rate: int = SAMPLE_RATE) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), samples, rate, subtype="PCM_16")
