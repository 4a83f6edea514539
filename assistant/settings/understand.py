"""Settings of understanding: the local LLM and the memory between turns."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from assistant.settings.base import Frozen


class LocalLlmSettings(Frozen):
    enabled: bool = True
    model: Path | None = None
    """A GGUF file; None = the bundled SmolLM2-135M-Instruct."""
    requantize: Literal["q8_0", "none"] = "q8_0"
    """Run a Q8_0 copy of the weights, converted once into ``cache_dir`` (the bundled
    Q4_1 weights took 1.6-2x longer per token on the 2-core test box; same answers on the
    devel homes). ``none``: the file as it is."""
    threads: int = Field(2, ge=1, le=64)
    context: int = Field(2048, ge=256, le=32768)
    parallel: int = Field(1, ge=1, le=8)
    """Rooms the model serves at once: that many contexts over the one set of weights
    (``threads`` split between them), each used by one turn at a time; each context adds
    ~64 MB (its 2,048-token KV cache and buffers). On the shared 2-core test box (load
    12-14) 2 made each LLM turn ~3x slower and did not bring two rooms closer to their time
    alone (bench/bench_rooms.py --llm-parallel); at load 9 two contexts that took all
    threads when alone were worse still (2.8x together, 1.3-1.9x with one): the decode is
    compute-bound, so a second context only helps where a core sits idle. On the same box
    quiet, 2 met the rooms goal (together 1.09-1.15x alone, 185 vs 226 ms with 1) but a room
    alone took 40-50 ms longer (one thread each). Measure before raising it."""
    min_confidence: float = Field(0.7, ge=0.0, le=1.0)
    """Below this the local LLM's proposal is not acted on (SLURP devel: 0.7 halved the wrong
    actions of 0.5 at the same number of right ones; 0.3 added one right and four wrong)."""
    scoring: Literal["sum", "mean", "pmi", "pmi_mean"] = "pmi_mean"
    """How a command phrase is scored: its total log-probability, the mean per token, the
    pointwise mutual information with the request (minus the phrase's prior), or that per
    token (best on SLURP devel: bench/bench_slurp.py --split devel --scoring ...)."""
    few_shot: bool = True
    """Show the model worked examples drawn from the sentence templates (cached once)."""
    lexical_weight: float = Field(1.0, ge=0.0, le=10.0)
    """Add this much of the word overlap between request and command to the model's score
    (0: the model alone). On SLURP devel the 135M model alone and the overlap alone were
    within three utterances of each other; together they keep the model's "none"."""
    ranker: Literal["llm", "choice", "embedding", "embedding_llm"] = "llm"
    """What scores the valid commands: the LLM above (``model``), the LLM choosing a letter
    among the commands listed as options, sentence embeddings (all-MiniLM-L6-v2,
    ``pip install 'hearth[embedding]'``; no LLM is loaded), or embeddings and the LLM added.
    Each alternative adds ``lexical_weight`` times the word overlap too. Compared on the devel
    homes and SLURP devel by bench/bench_rankers.py (assistant/understand/rank_embed.py)."""
    embedding_temperature: float = Field(0.05, gt=0.0, le=1.0)
    """The embedding ranker's score is cosine similarity over this: smaller, sharper choices."""
    embedding_none: float = Field(0.35, ge=-1.0, le=1.0)
    """The similarity "not a home command" scores against the embedded commands."""


class ConversationSettings(Frozen):
    """The short memory between turns, kept in SQLite (<data_dir>/conversation.sqlite) so
    that successive ``hearth ask`` processes share it."""

    follow_up_s: float = Field(20.0, ge=0.0, le=600.0)
    """How long a follow-up ("turn it off", "and the bedroom too") refers to the last turn."""
    confirm_s: float = Field(15.0, ge=1.0, le=300.0)
    """How long a question ("Do you really want me to unlock the Front Door?") waits for
    its answer."""
