"""Rankers: score the candidate command phrases for an utterance (higher is better).

:class:`LlmRanker` is the design for a 135M model: the log-probability of each phrase as
the assistant's reply after few-shot turns, scored all at once (one decode), optionally
minus the phrase's prior (PMI) and per token. :class:`LexicalRanker` is the no-model
baseline the benchmarks compare it with.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from assistant.errors import HearthError
from assistant.understand.candidates import Command, words
from assistant.understand.shots import Shot

if TYPE_CHECKING:
    from assistant.llm.local import LocalLlm

log = logging.getLogger(__name__)

Scoring = Literal["sum", "mean", "pmi", "pmi_mean"]

SYSTEM = ("You are a smart home assistant. Answer with the one home command the user "
          "asks for, or none when they are not asking you to control the home.")
USER_TURN = "<|im_start|>user\n"
"""How every request's turn opens: kept in the prompt cache with the few-shot prefix, so a
request pays only for its own words (and the turn's close)."""


class Ranker(Protocol):
    """Scores command phrases for an utterance (higher is better)."""

    name: str

    def scores(self, text: str, commands: Sequence[Command]) -> list[float]: ...


class LlmRanker:
    """Log-probability of each command as the assistant's reply, after few-shot turns."""

    name = "llm"

    def __init__(self, llm: LocalLlm, shots: Sequence[Shot] = (), *, scoring: Scoring = "sum",
                 cache_dir: Path | None = None) -> None:
        self.llm = llm
        self.scoring: Scoring = scoring
        self.shots = list(shots)
        self.cache_dir = cache_dir
        self._end = "<|im_end|>"
        self._prefix = self._render_prefix()
        self._null: dict[str, float] = {}
        self._warm = False

    def _render_prefix(self) -> str:
        parts = [f"<|im_start|>system\n{SYSTEM}<|im_end|>\n"]
        for s in self.shots:
            parts.append(f"<|im_start|>user\n{s.user}<|im_end|>\n"
                         f"<|im_start|>assistant\n{s.answer}<|im_end|>\n")
        return "".join(parts)

    def prompt(self, text: str) -> list[int]:
        return self.llm.tokenize(f"{self._prefix}{USER_TURN}{text}<|im_end|>\n"
                                 "<|im_start|>assistant\n")

    def scores(self, text: str, commands: Sequence[Command]) -> list[float]:
        if not self._warm:
            self.warm_up()
        conts = [self.llm.tokenize(c.phrase + self._end) for c in commands]
        groups: list[tuple[list[int], list[list[int]]]] = [(self.prompt(text), conts)]
        missing = [(c.phrase, t) for c, t in zip(commands, conts, strict=True)
                   if self.scoring in ("pmi", "pmi_mean") and c.phrase not in self._null]
        if missing:  # the phrases' priors, in the same decode (each computed once)
            groups.append((self.prompt(""), [t for _, t in missing]))
        results = self.llm.score_groups(groups)
        scored = results[0]
        if missing:
            self._null.update((phrase, s.logprob) for (phrase, _), s in zip(missing, results[1], strict=True))
        if self.scoring == "mean":
            return [s.mean for s in scored]
        raw = [s.logprob for s in scored]
        if self.scoring == "sum":
            return raw
        pmi = [r - self._null[c.phrase] for r, c in zip(raw, commands, strict=True)]
        if self.scoring == "pmi":
            return pmi
        return [p / s.tokens for p, s in zip(pmi, scored, strict=True)]

    def warm_up(self) -> None:  # also reached through HybridRanker.model
        """Evaluate the few-shot prompt now (kept in the KV cache, and on disk in
        ``cache_dir``, and reused by every request)."""
        self.llm.warm_prefix(self.llm.tokenize(self._prefix + USER_TURN), self.cache_dir)
        if self.scoring in ("pmi", "pmi_mean"):  # the priors' prompt: only their phrases to score
            self.llm.pin(self.prompt(""))
        self._warm = True

    def close(self) -> None:
        self.llm.close()


class LazyRanker:
    """Builds the real ranker on first use: a request the templates handle never pays for
    loading the model or evaluating the few-shot prompt. A failed build is reported once
    and tried again only after ``retry_s`` (the error is raised again until then), so a
    missing model costs each turn nothing, and a model put back is found."""

    name = "llm"

    def __init__(self, build: Callable[[], Ranker], *, retry_s: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._build = build
        self._ranker: Ranker | None = None
        self.retry_s = retry_s
        self._clock = clock
        self._failed: tuple[float, HearthError] | None = None
        """When the last build failed, and how."""
        self._lock = threading.Lock()

    @property
    def ranker(self) -> Ranker:
        with self._lock:  # two rooms at once build it once
            if self._ranker is not None:
                return self._ranker
            now = self._clock()
            if self._failed is not None and now - self._failed[0] < self.retry_s:
                raise self._failed[1]
            try:
                self._ranker = self._build()
            except HearthError as exc:
                if self._failed is None:
                    log.warning("the local LLM did not load (%s); trying again in %g s",
                                exc, self.retry_s)
                else:
                    log.debug("the local LLM still does not load: %s", exc)
                self._failed = (now, exc)
                raise
            self._failed = None
            return self._ranker

    def scores(self, text: str, commands: Sequence[Command]) -> list[float]:
        return self.ranker.scores(text, commands)

    def close(self) -> None:
        if self._ranker is not None and hasattr(self._ranker, "close"):
            self._ranker.close()


class LexicalRanker:
    """Word overlap between the utterance and each phrase: the no-LLM baseline."""

    name = "lexical"

    def scores(self, text: str, commands: Sequence[Command]) -> list[float]:
        said = set(words(text))
        out = []
        for c in commands:
            if c.intent is None:
                out.append(0.5)
                continue
            ws = set(words(c.phrase)) - {"the", "in", "to", "of", "on", "with", "it"}
            out.append(2.0 * len(said & ws) / max(1, len(ws)))
        return out


class HybridRanker:
    """The model's scores plus ``weight`` times the word overlap: the overlap settles what
    the request literally says, the model what it means when the words differ."""

    name = "hybrid"

    def __init__(self, model: Ranker, weight: float = 1.0) -> None:
        self.model = model
        self.weight = weight
        self.lexical = LexicalRanker()

    def scores(self, text: str, commands: Sequence[Command]) -> list[float]:
        return [m + self.weight * lx for m, lx in zip(self.model.scores(text, commands),
                                                      self.lexical.scores(text, commands), strict=True)]

    def close(self) -> None:
        close = getattr(self.model, "close", None)
        if close is not None:
            close()
