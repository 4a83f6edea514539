"""A detector that confirms another detector's hits before the loop hears of them.

The first stage (openWakeWord) runs on every chunk. A hit becomes a candidate; the
check waits until the candidate's score stops rising (the model is surest at the end of
the phrase) or ``max_wait_ms`` passes, then a :class:`Verifier` hears the last
``window_s`` of audio. A rejected candidate is dropped (and kept in
:attr:`VerifiedWakeDetector.verdicts` for tuning and the benchmark); the first stage is
re-armed at once, and the same burst of high scores is checked again only if it climbs
``retry_margin`` above the rejected peak (the first check came too early).
"""

from __future__ import annotations

import collections
import dataclasses
import logging
from dataclasses import dataclass

import numpy as np

from assistant.audio.chunk import CHUNK_SAMPLES, SAMPLE_RATE, AudioChunk, Samples
from assistant.config import WakeModelSettings, WakeVerifierSettings
from assistant.wake.base import WakeDetector, WakeHit
from assistant.wake.verify import Verdict, Verifier, accept_over_reply

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checked:
    """One first-stage candidate and what the second stage said about it."""

    hit: WakeHit
    verdict: Verdict
    peak: float


@dataclass
class _Pending:
    hit: WakeHit
    peak: float
    waited: int = 0


class VerifiedWakeDetector(WakeDetector):
    """``process``/``scores``/``reset``/``new_stream`` as any detector; hits are confirmed."""

    def __init__(self, inner: WakeDetector, verifier: Verifier, settings: WakeVerifierSettings, *,
                 models: list[WakeModelSettings] | None = None) -> None:
        """``models``: the configured models when ``inner`` runs them at their lower
        candidate thresholds (the verifier judges by the configured ``threshold``)."""
        super().__init__(models or list(inner.models.values()), refractory_s=inner.refractory_ms / 1000.0)
        self.inner = inner
        self.verifier = verifier
        self.max_wait = -(-settings.max_wait_ms * SAMPLE_RATE // 1000 // CHUNK_SAMPLES)
        self.retry_margin = settings.retry_margin
        self.min_similarity = settings.min_similarity
        window_chunks = -(-int(settings.window_s * SAMPLE_RATE) // CHUNK_SAMPLES)
        self._ring: collections.deque[Samples] = collections.deque(maxlen=max(1, window_chunks))
        self._pending: _Pending | None = None
        self._rejected: dict[str, float] = {}
        """Per model: the peak of a rejected candidate whose burst is still above threshold."""
        self.verdicts: collections.deque[Checked] = collections.deque(maxlen=256)

    @property
    def checking(self) -> bool:
        return self._pending is not None

    def needs_check(self, name: str) -> bool:
        return self.models[name].verify

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
        scores = self.last_scores = self.inner.last_scores
        for name in list(self._rejected):
            if scores.get(name, 0.0) < self.inner.models[name].threshold:
                del self._rejected[name]  # the burst is over: the next one is a new candidate
        if self._pending is not None:
            p = self._pending
            score = scores.get(p.hit.name, 0.0)
            p.waited += 1
            if score >= p.peak and p.waited < self.max_wait:
                p.peak = score
                return None
            self._pending = None
            return self._check(p, chunk)
        if hit is None:
            return None
        if not self.needs_check(hit.name):
            return hit
        rejected = self._rejected.get(hit.name)
        if rejected is not None and hit.score < rejected + self.retry_margin:
            self.inner.rearm()  # same burst, no higher: keep watching it
            return None
        self._pending = _Pending(hit, hit.score)
        if self.max_wait == 0:
            self._pending = None
            return self._check(_Pending(hit, hit.score), chunk)
        return None

    def _check(self, p: _Pending, chunk: AudioChunk) -> WakeHit | None:
        window = np.concatenate(list(self._ring))
        model = self.models[p.hit.name]
        verdict = self.verifier.verify(model, window, p.peak)
        if verdict.accepted and self.speaking and verdict.text:  # judged on the person's words
            verdict = dataclasses.replace(verdict, accepted=accept_over_reply(
                model, verdict.text, self.speaking, p.peak, self.min_similarity))
        self.verdicts.append(Checked(p.hit, verdict, p.peak))
        if not verdict.accepted:
            log.info("wake %s at %.2f s rejected: heard %r", p.hit.name, p.hit.t_audio_ms / 1000,
                     verdict.text)
            self._rejected[p.hit.name] = p.peak
            self.inner.rearm()
            return None
        self._rejected.pop(p.hit.name, None)
        # the score is the candidate's peak: the first stage fired at its candidate
        # threshold (0.05), far below how sure it became by the phrase's end
        return dataclasses.replace(p.hit, score=p.peak, t_audio_ms=chunk.end_ms, heard=verdict.text)

    def reset(self) -> None:
        self.inner.reset()
        self._streak = dict.fromkeys(self.models, 0)
        self._pending = None
        self._rejected.clear()
        self._ring.clear()

    def new_stream(self) -> None:
        self.inner.new_stream()
        self._quiet_until = dict.fromkeys(self.models, -1.0)
        self._streak = dict.fromkeys(self.models, 0)
        self._pending = None
        self._rejected.clear()
        self._ring.clear()
