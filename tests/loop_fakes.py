"""Fake engines for the voice loop (a wake word marked in the samples, a VAD that hears
loudness, a speech-to-text that reads a script) and a runner that drives a loop with them:
the loop's rules tested without models (test_loop_fakes, test_playback, test_stage_failures)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from assistant.audio.chunk import AudioChunk, Samples, chunked
from assistant.config import WakeModelSettings, load_settings
from assistant.events import Event, StageEvent, to_dict
from assistant.loop import VoiceLoop
from assistant.runtime import Runtime
from assistant.wake.base import WakeDetector

LOUD = 8000


class MarkerWake(WakeDetector):
    """Scores 1.0 on chunks whose first sample is the marker value 1234."""

    def __init__(self) -> None:
        super().__init__([WakeModelSettings(name="fake")], refractory_s=1.0)
        self.resets = 0

    def _score(self, samples: Samples) -> dict[str, float]:
        return {"fake": 1.0 if samples[0] == 1234 else 0.0}

    def _reset_engine(self) -> None:
        self.resets += 1


class LoudnessVad:
    def reset(self) -> None:
        pass

    def frames(self, samples: Samples) -> list[float]:
        return [1.0 if np.abs(samples).max() >= LOUD else 0.0]


class ScriptedStt:
    """Returns its script's text once the audio holds that many loud chunks."""

    def __init__(self, words: dict[int, str]) -> None:
        self.words = words
        self.calls = 0

    def transcribe(self, samples: Samples) -> str:
        self.calls += 1
        loud = sum(1 for i in range(0, len(samples), 1280) if np.abs(samples[i:i + 1280]).max() >= LOUD)
        best = ""
        for n, text in sorted(self.words.items()):
            if loud >= n:
                best = text
        return best


def signal(*parts: tuple[str, int]) -> Iterator[AudioChunk]:
    out = []
    for kind, chunks in parts:
        block = np.zeros(1280 * chunks, np.int16)
        if kind == "speech":
            block[:] = LOUD
        elif kind == "wake":
            block[:] = 1234
        out.append(block)
    return chunked(np.concatenate(out))


def run(text_assistant: Runtime, stt: ScriptedStt, chunks: Iterator[AudioChunk],
        wake: bool = True, stages: bool = False) -> list[dict[str, object]]:
    """The loop's events; ``stages``: with the stage_start/stage_end events between them."""
    events: list[Event] = []
    text_assistant.pipeline.emit = events.append
    loop = VoiceLoop(load_settings(), pipeline=text_assistant.pipeline, stt=stt, vad=LoudnessVad(),
                     frame_ms=80.0, wake=MarkerWake() if wake else None, emit=events.append,
                     background=False)
    loop.run(chunks, wake_required=wake)
    return [to_dict(e) for e in events if stages or not isinstance(e, StageEvent)]


def types(events: list[dict[str, object]]) -> list[object]:
    """The turn's events, without the partial transcripts made while speech went on and
    without the stage events around them."""
    return [e["type"] for e in events
            if e["type"] not in ("transcript_partial", "stage_start", "stage_end")]


def stage_marks(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The stage events' (type, stage), in order."""
    return [(e["type"], e["stage"]) for e in events if e["type"] in ("stage_start", "stage_end")]
