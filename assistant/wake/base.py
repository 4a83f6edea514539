"""The wake stage: an engine scores each chunk; this class decides what counts as a wake.

Thresholds, patience (consecutive frames) and a refractory period are per model and
live here, so every engine behaves the same way.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from assistant.audio.chunk import AudioChunk, Samples
from assistant.config import WakeModelSettings


@dataclass(frozen=True)
class WakeHit:
    name: str
    score: float
    t_audio_ms: float
    """End of the chunk on which the wake word was accepted."""
    action: str = "listen"
    """The model's configured behaviour: "listen" (take a command) or "stop"."""
    heard: str | None = None
    """What the second stage transcribed in the wake window (None: no second stage)."""
    t_detect_ms: float | None = None
    """End of the chunk on which the first stage fired (before verification)."""


class WakeDetector(abc.ABC):
    """Template method: :meth:`process` applies the decision rules to :meth:`_score`."""

    def __init__(self, models: list[WakeModelSettings], *, refractory_s: float = 2.0) -> None:
        self.models = {m.name: m for m in models}
        self.refractory_ms = refractory_s * 1000.0
        self._streak = dict.fromkeys(self.models, 0)
        self._quiet_until = dict.fromkeys(self.models, -1.0)
        self.last_scores: dict[str, float] = {}
        """The scores of the last chunk :meth:`process` saw (for `hearth wake test`)."""
        self.speaking = ""
        """What the assistant is saying while this chunk is heard: its own words heard back
        are not the person's (the second stage judges the rest)."""

    @abc.abstractmethod
    def _score(self, samples: Samples) -> dict[str, float]:
        """Scores in [0, 1] per model name for one 80 ms chunk."""

    @abc.abstractmethod
    def _reset_engine(self) -> None:
        """Forget the audio heard so far (after a wake, or after the assistant spoke)."""

    @property
    def checking(self) -> bool:
        """A first-stage detection waits for its second-stage check (the loop pauses a
        reply meanwhile: the wake word may have been said over it)."""
        return False

    def scores(self, chunk: AudioChunk) -> dict[str, float]:
        """Raw scores, for tuning (`hearth wake test`)."""
        return self._score(chunk.samples)

    def process(self, chunk: AudioChunk) -> WakeHit | None:
        """Feed one chunk; return a hit when a model's rule is met."""
        scores = self.last_scores = self._score(chunk.samples)
        best: WakeHit | None = None
        for name, model in self.models.items():
            score = scores.get(name, 0.0)
            if chunk.t_audio_ms < self._quiet_until[name]:
                self._streak[name] = 0
                continue
            self._streak[name] = self._streak[name] + 1 if score >= model.threshold else 0
            if self._streak[name] >= model.patience and (best is None or score > best.score):
                best = WakeHit(name, score, chunk.end_ms, action=model.action,
                               t_detect_ms=chunk.end_ms)
        if best is not None:
            for name in self.models:
                self._streak[name] = 0
                self._quiet_until[name] = chunk.end_ms + self.refractory_ms
        return best

    def rearm(self) -> None:
        """Forget the refractory period (the second stage rejected the detection)."""
        self._quiet_until = dict.fromkeys(self.models, -1.0)
        self._streak = dict.fromkeys(self.models, 0)

    def reset(self) -> None:
        self._streak = dict.fromkeys(self.models, 0)
        self._reset_engine()

    def new_stream(self) -> None:
        """A new input starts (its audio clock restarts at 0): forget everything."""
        self._quiet_until = dict.fromkeys(self.models, -1.0)
        self.reset()
