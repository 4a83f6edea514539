"""What a score is, and the small pure parts of scoring: the continuations' prefix tree,
common prefixes of token lists, and the log-softmax of one row of logits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Scored:
    """One continuation's score: total log-probability and its number of tokens."""

    logprob: float
    tokens: int

    @property
    def mean(self) -> float:
        return self.logprob / max(1, self.tokens)


def prefix_tree(conts: Sequence[Sequence[int]]) -> dict[tuple[int, ...], list[int]]:
    """Every prefix the continuations feed to the model (all but their last token, whose
    logits are never needed), with the continuations that share it, shortest first."""
    tree: dict[tuple[int, ...], list[int]] = {}
    for i, cont in enumerate(conts):
        for k in range(1, len(cont)):
            tree.setdefault(tuple(cont[:k]), []).append(i)
    return tree


def common_len(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def log_softmax(logits: np.ndarray[Any, np.dtype[np.float32]]) -> np.ndarray[Any, np.dtype[np.float32]]:
    x = logits.astype(np.float32, copy=False)
    m = float(x.max())
    return x - (m + float(np.log(np.exp(x - m).sum())))
