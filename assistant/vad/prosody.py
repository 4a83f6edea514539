"""Does the voice sound finished? The pitch at the end of the speech, for the end of turn.

A statement ends low: the pitch falls at its last word, below the speaker's usual level
("turn off the light."). A person who is not done keeps it level or lets it rise ("turn
off the light, … in the bedroom"). The words may already be a whole command at that
pause; the tone says whether to act. Pitch per 10 ms by autocorrelation (numpy only:
enough for one voice close to the microphone).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assistant.audio.chunk import SAMPLE_RATE, Samples

FRAME = 640          # 40 ms: two periods of a 50 Hz voice
HOP = 160            # 10 ms
LOWEST_HZ, HIGHEST_HZ = 60.0, 400.0
VOICED = 0.5
"""Normalized autocorrelation at the period above which a frame is voiced."""
LOUD_DB = 35.0
"""Frames more than this below the loudest are breath and room, not voice."""
PEAK_SEARCH = 24
"""Lags after the first good one searched for its peak (a 60 Hz period is 267 samples)."""
FINAL_MS = 150.0
"""The end of the speech whose pitch movement is judged: about the last syllable's vowel.
A continuation often dips and then rises on its last syllable ("the light,"); over 300 ms
the fit took in the dip and read that as falling."""
FINAL_RUN_FRAMES = 5
"""The last vowel is judged alone, when it is voiced this long (50 ms); a shorter one (a
final "t" or a creak after the vowel) gives no judgement: across the gap the fit compared
two syllables (on sentences of our own said with "," and ".", five espeak-ng voices: AUC
0.92, 0.88 over 300 ms across gaps; Piper's 0.5 either way, its voice hardly rises at a
comma; real coffee orders of the tuning half, not asked, read as rising: 4 of 37, 9 across
gaps)."""
OCTAVE_JUMP = 1.6
"""A frame this far above or below the voice just before it is that pitch's double or half."""


@dataclass(frozen=True)
class Tone:
    """How the pitch moves over the end of the speech."""

    slope_st_s: float    # semitones per second over the last vowel, ≤ 150 ms (+ rising)
    voiced_ms: float     # how much voiced speech there was to judge by

    def sounds_unfinished(self, rise_st_s: float) -> bool:
        """Rising at the end: the person is not done (no judgement on little voice)."""
        return self.voiced_ms >= 300.0 and self.slope_st_s > rise_st_s


def pitch(samples: Samples) -> np.ndarray:
    """F0 in Hz per 10 ms hop (NaN where unvoiced or quiet). Two passes: the voice's
    level over all frames, then each frame's period searched within an octave of it
    (a period's double or half is the usual mistake)."""
    x = samples.astype(np.float32) / 32768.0
    if len(x) < FRAME:
        return np.full(0, np.nan)
    n = 1 + (len(x) - FRAME) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(x, FRAME)[::HOP][:n]
    frames = frames - frames.mean(axis=1, keepdims=True)
    energy = (frames ** 2).sum(axis=1)
    loud = energy > energy.max() * 10 ** (-LOUD_DB / 10)
    spectrum = np.fft.rfft(frames * np.hanning(FRAME), 2 * FRAME)
    corr = np.fft.irfft(np.abs(spectrum) ** 2)[:, :FRAME]
    corr = corr / np.maximum(corr[:, :1], 1e-12)
    f0 = _periods(corr, LOWEST_HZ, HIGHEST_HZ, loud)
    if np.isnan(f0).all():
        return f0
    level = float(np.nanmedian(f0))
    f0 = _periods(corr, max(LOWEST_HZ, level / 1.6), min(HIGHEST_HZ, level * 1.6), loud)
    f0 = np.where(f0 > level * 1.5, f0 / 2, f0)  # a creaky end read as twice its pitch
    return _without_octave_jumps(_without_blips(f0))


def _without_octave_jumps(f0: np.ndarray, span: int = 5) -> np.ndarray:
    """A voice does not leap an octave in 10 ms: such a frame is halved or doubled back
    to the median of the voiced frames before it."""
    before: list[float] = []
    for i in np.nonzero(~np.isnan(f0))[0]:
        if before:
            near = float(np.median(before[-span:]))
            if f0[i] > near * OCTAVE_JUMP:
                f0[i] /= 2
            elif f0[i] < near / OCTAVE_JUMP:
                f0[i] *= 2
        before.append(float(f0[i]))
    return f0


def _without_blips(f0: np.ndarray, min_frames: int = 3) -> np.ndarray:
    """Voiced runs shorter than 30 ms are a plosive's burst or a click, not a vowel."""
    voiced = ~np.isnan(f0)
    edges = np.diff(np.concatenate([[0], voiced.astype(np.int8), [0]]))
    for start, stop in zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0], strict=True):
        if stop - start < min_frames:
            f0[start:stop] = np.nan
    return f0


def _periods(corr: np.ndarray, low_hz: float, high_hz: float, loud: np.ndarray) -> np.ndarray:
    lo, hi = int(SAMPLE_RATE / high_hz), int(SAMPLE_RATE / low_hz) + 1
    window = corr[:, lo:hi]
    best = window.max(axis=1)
    # the shortest lag nearly as good as the best: the period, not a multiple of it
    lag = lo + np.argmax(window >= 0.95 * best[:, None], axis=1)
    # then up to that peak's top, between samples (a parabola through the three around it)
    rows = np.arange(len(corr))[:, None]
    near = np.minimum(lag[:, None] + np.arange(PEAK_SEARCH), corr.shape[1] - 2)
    lag = near[rows[:, 0], np.argmax(corr[rows, near], axis=1)]
    left, mid, right = (corr[rows[:, 0], lag + d] for d in (-1, 0, 1))
    bend = left - 2 * mid + right
    shift = np.where(bend < 0, 0.5 * (left - right) / np.where(bend < 0, bend, -1.0), 0.0)
    f0: np.ndarray = SAMPLE_RATE / (lag + np.clip(shift, -0.5, 0.5))
    f0[(best < VOICED) | ~loud] = np.nan
    return f0


def final_tone(samples: Samples) -> Tone:
    """The tone at the end of ``samples`` (the speech up to where it stopped): the slope of
    the last voiced run, at most ``FINAL_MS`` of it."""
    f0 = pitch(samples)
    voiced = np.nonzero(~np.isnan(f0))[0]
    voiced_ms = len(voiced) * 10.0
    if len(voiced) < FINAL_RUN_FRAMES:
        return Tone(0.0, voiced_ms)
    end = start = int(voiced[-1])
    while start > 0 and not np.isnan(f0[start - 1]) and (end - start + 1) * 10.0 < FINAL_MS:
        start -= 1
    if end - start + 1 < FINAL_RUN_FRAMES:
        return Tone(0.0, voiced_ms)
    semitones = 12.0 * np.log2(f0[start:end + 1] / np.median(f0[voiced]))
    slope = float(np.polyfit(np.arange(start, end + 1) * 10.0, semitones, 1)[0]) * 1000.0
    return Tone(round(slope, 1), voiced_ms)
