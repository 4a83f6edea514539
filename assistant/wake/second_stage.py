"""A detector that confirms another detector's hits before the loop hears of them.

The first stage (openWakeWord) runs on every chunk; on a hit this wrapper waits
``post_roll_ms`` for the phrase to end, then asks a :class:`Verifier` about the last
``window_s`` of audio. A rejected candidate is dropped silently (and kept in
:attr:`VerifiedWakeDetector.verdicts` for tuning and the benchmark).
"""

from __future__ import annotations

import collections
import dataclasses
import logging
from dataclasses import dataclass

import numpy as np

from assistant.audio.chunk import CHUNK_SAMPLES, SAMPLE_RATE, AudioChunk, Samples
from assistant.config import WakeVerifierSettings
from assistant.wake.base import WakeDetector, WakeHit
from assistant.wake.verify import Verdict, Verifier

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checked:
    """One first-stage candidate and what the second stage said about it."""

    hit: WakeHit
    verdict: Verdict


class VerifiedWakeDetector(WakeDetector):
    """``process``/``scores``/``reset``/``new_stream`` as any detector; hits are confirmed."""

    def __init__(self, inner: WakeDetector, verifier: Verifier, settings: WakeVerifierSettings) -> None:
        super().__init__(list(inner.models.values()), refractory_s=inner.refractory_ms / 1000.0)
        self.inner = inner
        self.verifier = verifier
        self.post_chunks = -(-settings.post_roll_ms * SAMPLE_RATE // 1000 // CHUNK_SAMPLES)
        window_chunks = -(-int(settings.window_s * SAMPLE_RATE) // CHUNK_SAMPLES)
        self._ring: collections.deque[Samples] = collections.deque(maxlen=max(1, window_chunks))
        self._pending: tuple[WakeHit, int] | None = None
        self.verdicts: collections.deque[Checked] = collections.deque(maxlen=256)

    def needs_check(self, name: str) -> bool:
        return self.inner.models[name].verify

    # The engine is the inner detector's; these keep the template's contract.
    def _score(self, samples: Samples) -> dict[str, float]:
        return self.inner._score(samples)

    def _reset_engine(self) -> None:
        self.inner._reset_engine()

    def scores(self, chunk: AudioChunk) -> dict[str, float]:
        return self.inner.scores(chunk)

    def process(self, chunk: AudioChunk) -> WakeHit | None:
        self._ring.append(chunk.samples)
        hit = self.inner.process(chunk)
        self.last_scores = self.inner.last_scores
        if self._pending is not None:
            first, left = self._pending
            if left > 1:
                self._pending = (first, left - 1)
                return None
            self._pending = None
            return self._check(first, chunk)
        if hit is None:
            return None
        if not self.needs_check(hit.name):
            return hit
        if self.post_chunks == 0:
            return self._check(hit, chunk)
        self._pending = (hit, self.post_chunks)
        return None

    def _check(self, hit: WakeHit, chunk: AudioChunk) -> WakeHit | None:
        window = np.concatenate(list(self._ring))
        verdict = self.verifier.verify(self.inner.models[hit.name], window)
        self.verdicts.append(Checked(hit, verdict))
        if not verdict.accepted:
            log.info("wake %s at %.2f s rejected: heard %r", hit.name, hit.t_audio_ms / 1000,
                     verdict.text)
            return None
        return dataclasses.replace(hit, t_audio_ms=chunk.end_ms, heard=verdict.text)

    def reset(self) -> None:
        self.inner.reset()
        self._streak = dict.fromkeys(self.models, 0)
        self._pending = None
        self._ring.clear()

    def new_stream(self) -> None:
        self.inner.new_stream()
        self._quiet_until = dict.fromkeys(self.models, -1.0)
        self._streak = dict.fromkeys(self.models, 0)
        self._pending = None
        self._ring.clear()
