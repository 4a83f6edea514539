"""The tone at the end of the speech: pitch tracking on made voices whose pitch is known."""

from __future__ import annotations

import numpy as np

from assistant.audio.chunk import SAMPLE_RATE
from assistant.vad.prosody import final_tone, pitch


def voice(hz_from: float, hz_to: float, seconds: float = 1.2, glide_s: float = 0.3) -> np.ndarray:
    """A buzz with five harmonics, steady at ``hz_from``, gliding to ``hz_to`` at the end."""
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    start = seconds - glide_s
    hz = np.where(t < start, hz_from, hz_from + (hz_to - hz_from) * (t - start) / glide_s)
    phase = 2 * np.pi * np.cumsum(hz) / SAMPLE_RATE
    buzz = sum(np.sin(k * phase) / k for k in range(1, 6))
    return (buzz / np.abs(buzz).max() * 12000).astype(np.int16)


def test_the_pitch_of_a_steady_voice_is_found_not_its_octave() -> None:
    for hz in (90.0, 140.0, 220.0):
        f0 = pitch(voice(hz, hz))
        assert abs(12 * np.log2(np.nanmedian(f0) / hz)) < 0.5, hz


def test_a_falling_end_sounds_finished_and_a_rising_one_does_not() -> None:
    falling, rising = final_tone(voice(130, 100)), final_tone(voice(110, 140))
    level = final_tone(voice(120, 120))
    assert falling.slope_st_s < -6 and not falling.sounds_unfinished(6.0)
    assert rising.slope_st_s > 6 and rising.sounds_unfinished(6.0)
    assert not level.sounds_unfinished(6.0)


def test_no_voice_no_judgement() -> None:
    noise = (np.random.default_rng(1).normal(0, 3000, SAMPLE_RATE)).astype(np.int16)
    assert not final_tone(noise).sounds_unfinished(6.0)
    assert not final_tone(np.zeros(100, np.int16)).sounds_unfinished(6.0)
    assert not final_tone(voice(110, 140, seconds=0.25, glide_s=0.2)).sounds_unfinished(6.0)  # too little
