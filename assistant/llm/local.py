"""The local LLM: a GGUF model through llama.cpp (llama-cpp-python's low-level API).

Loaded once per process and kept warm. One operation, small and exact:
:meth:`LocalLlm.score` — the log-probability of each of several continuations after
one shared prompt. The prompt is evaluated once (its KV cache is kept and reused by the
next call as far as it is the same), then every continuation is scored in one batch,
each in its own sequence that shares the prompt's cache, the tokens continuations start
with alike evaluated once (a prefix tree). This is how a 135M model ranks a short list of
valid commands without being asked to write one. A prompt that many calls share whole
(the ranker's empty request, after which each phrase's prior is scored) can be pinned: kept
evaluated in a sequence of its own, its calls pay only for their continuations.

``parallel`` contexts over the one model let that many rooms score at once (each
context is used by one call at a time; the threads are split between them).

The low-level API is used (not ``llama_cpp.Llama``) for two reasons: multi-sequence
batches with a shared prefix, and ``use_extra_bufts=False`` — llama.cpp's AMX kernels
die with SIGILL where the OS has not granted AMX state (VMs, sandboxes).
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import queue
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.errors import ModelError
from assistant.llm.gguf import bundled_model_path, check_gguf, q8_0_copy
from assistant.llm.scoring import Scored, common_len, log_softmax, prefix_tree
from assistant.models import quiet_openmp

if TYPE_CHECKING:
    from assistant.config import LocalLlmSettings

log = logging.getLogger(__name__)

class LocalLlm:
    """One GGUF model and ``parallel`` contexts, reused for every call (thread-safe)."""

    def __init__(self, model: Path | None = None, *, threads: int = 2, context: int = 2048,
                 max_sequences: int = 32, parallel: int = 1) -> None:
        # Passive OpenMP waiting measured as fast as one thread under load, and keeps two
        # threads' gain on an idle machine (spinning doubled or tripled a decision).
        quiet_openmp()
        try:
            import llama_cpp
        except ImportError:
            raise ModelError(
                "llama-cpp-python is not installed: pip install 'hearth[llm]'"
            ) from None
        self._c: Any = llama_cpp
        self.path = model if model is not None else bundled_model_path()
        check_gguf(self.path)
        logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)  # llama.cpp's chatter
        self._lock = threading.Lock()
        self.max_sequences = max_sequences
        llama_cpp.llama_backend_init()
        mparams = llama_cpp.llama_model_default_params()
        mparams.use_extra_bufts = False  # AMX repacking: SIGILL without OS support
        self._model = llama_cpp.llama_model_load_from_file(str(self.path).encode(), mparams)
        if not self._model:
            raise ModelError(f"cannot load the local LLM model {self.path}: not a valid model file")
        self._owner = True
        self._copies = [self]
        try:
            self._open_context(context, max(1, threads // parallel), max_sequences)
            for _ in range(parallel - 1):  # more contexts on the same weights
                copy = object.__new__(LocalLlm)
                copy.__dict__.update(_c=self._c, path=self.path, max_sequences=max_sequences,
                                     _lock=threading.Lock(), _model=self._model, _owner=False)
                self._copies.append(copy)
                copy._open_context(context, max(1, threads // parallel), max_sequences)
        except BaseException:
            self.close()
            raise
        self._free: queue.Queue[LocalLlm] = queue.Queue()
        for copy in self._copies:
            self._free.put(copy)

    def _open_context(self, context: int, threads: int, max_sequences: int) -> None:
        llama_cpp = self._c
        cparams = llama_cpp.llama_context_default_params()
        cparams.n_ctx = context
        cparams.n_batch = context
        cparams.n_ubatch = min(512, context)
        cparams.n_seq_max = max_sequences + 2  # 0: the prompt cache, then continuations, then the pin
        cparams.kv_unified = True  # sequences share one cache: the prompt is stored once
        cparams.n_threads = threads
        cparams.n_threads_batch = threads
        cparams.no_perf = True
        self._ctx = llama_cpp.llama_init_from_model(self._model, cparams)
        if not self._ctx:
            raise ModelError(f"cannot create a context for the local LLM ({context} tokens)")
        self.context = context
        self._vocab = llama_cpp.llama_model_get_vocab(self._model)
        self.n_vocab = int(llama_cpp.llama_vocab_n_tokens(self._vocab))
        self._mem = llama_cpp.llama_get_memory(self._ctx)
        self._batch = llama_cpp.llama_batch_init(context, 0, max_sequences + 2)
        self._cached: list[int] = []
        """Tokens in sequence 0 of the KV cache (the last prompt)."""
        self._pin: tuple[list[int], np.ndarray[Any, np.dtype[np.float32]]] | None = None
        """The pinned prompt (in sequence ``max_sequences + 1``) and its next token's log-probabilities."""

    @classmethod
    def from_settings(cls, settings: LocalLlmSettings, cache_dir: Path | None = None) -> LocalLlm:
        """With ``cache_dir`` and ``requantize = "q8_0"``, the weights' Q8_0 copy kept there."""
        path = settings.model if settings.model is not None else bundled_model_path()
        check_gguf(path)
        if settings.requantize == "q8_0" and cache_dir is not None:
            path = q8_0_copy(path, cache_dir, threads=settings.threads)
        return cls(path, threads=settings.threads, context=settings.context,
                   parallel=settings.parallel)

    @contextmanager
    def _borrow(self) -> Iterator[LocalLlm]:
        """A context no other call is using (waits for one)."""
        copy = self._free.get()
        try:
            yield copy
        finally:
            self._free.put(copy)

    # --- tokens -------------------------------------------------------------------

    def tokenize(self, text: str, *, special: bool = True) -> list[int]:
        data = text.encode("utf-8")
        buf = (self._c.llama_token * (len(data) + 8))()
        n = self._c.llama_tokenize(self._vocab, data, len(data), buf, len(buf), False, special)
        if n < 0:
            raise ModelError("text too long to tokenize for the local LLM")
        return list(buf[:n])

    def detokenize(self, tokens: Sequence[int]) -> str:
        out = bytearray()
        buf = ctypes.create_string_buffer(64)
        for tok in tokens:
            n = self._c.llama_token_to_piece(self._vocab, tok, buf, len(buf), 0, False)
            out += buf.raw[: max(0, n)]
        return out.decode("utf-8", errors="replace")

    def is_end(self, token: int) -> bool:
        return bool(self._c.llama_vocab_is_eog(self._vocab, token))

    # --- the prompt cache -------------------------------------------------------------

    def warm_prefix(self, prefix: Sequence[int], cache_dir: Path | None = None) -> bool:
        """Evaluate a fixed prompt prefix (the few-shot examples) now, in every context, so
        requests only pay for their own tokens. With ``cache_dir`` the prefix's KV state is
        kept on disk, so the next process (another ``hearth ask``) loads it instead of
        evaluating it again. Returns True when the state came from the disk cache."""
        return all([copy._warm_prefix_here(prefix, cache_dir) for copy in self._copies])

    def _warm_prefix_here(self, prefix: Sequence[int], cache_dir: Path | None) -> bool:
        tokens = list(prefix)
        path = self._cache_path(tokens, cache_dir) if cache_dir is not None else None
        with self._lock:
            if path is not None and path.is_file():
                data = path.read_bytes()
                buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
                self._c.llama_memory_seq_rm(self._mem, 0, -1, -1)
                if self._c.llama_state_seq_set_data(self._ctx, buf, len(data), 0) > 0:
                    self._cached = tokens
                    return True
                log.warning("ignoring an unusable prompt cache %s", path)
                self._c.llama_memory_seq_rm(self._mem, 0, -1, -1)
                self._cached = []
            if len(tokens) >= self.context:
                raise ModelError(f"a prompt of {len(tokens)} tokens exceeds the local LLM's context")
            keep = common_len(self._cached, tokens)
            self._truncate(keep)
            self._extend(tokens[keep:])
            if path is not None:
                size = int(self._c.llama_state_seq_get_size(self._ctx, 0))
                buf = (ctypes.c_uint8 * size)()
                written = int(self._c.llama_state_seq_get_data(self._ctx, buf, size, 0))
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    tmp = path.with_suffix(".tmp")
                    tmp.write_bytes(bytes(buf)[:written])
                    tmp.replace(path)
                except OSError as exc:
                    log.warning("prompt cache not saved (%s)", exc)
            return False

    def _cache_path(self, tokens: list[int], cache_dir: Path) -> Path:
        st = self.path.stat()
        key = hashlib.sha256(
            f"{self.path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{self.context}|".encode()
            + np.asarray(tokens, dtype=np.int32).tobytes()).hexdigest()[:24]
        return cache_dir / f"llm-prefix-{key}.kv"

    def pin(self, prompt: Sequence[int]) -> None:
        """Keep ``prompt`` evaluated in a sequence of its own, with its next token's
        distribution, in every context: a prompt that many calls score continuations
        after (the ranker's empty request, for its phrases' priors) then costs those calls
        only the continuations. A call with another prompt is scored as before."""
        for copy in self._copies:
            copy._pin_here(list(prompt))

    def _pin_here(self, tokens: list[int]) -> None:
        seq = self.max_sequences + 1
        with self._lock:
            if self._pin is not None:  # another pin: the cache starts again (dropping the old
                cached, self._cached, self._pin = self._cached, [], None  # alone moved scores)
                self._c.llama_memory_clear(self._mem, True)
                if cached:
                    self._extend(cached)
            keep = min(common_len(self._cached, tokens), len(tokens) - 1)
            if keep:
                self._c.llama_memory_seq_cp(self._mem, 0, seq, 0, keep)
            for k, tok in enumerate(tokens[keep:]):
                self._put(k, tok, keep + k, [seq], logits=keep + k == len(tokens) - 1)
            self._batch.n_tokens = len(tokens) - keep
            self._decode()
            self._pin = (tokens, log_softmax(self._logits(len(tokens) - keep - 1)))

    # --- scoring ------------------------------------------------------------------

    def score(self, prompt: Sequence[int], continuations: Sequence[Sequence[int]]) -> list[Scored]:
        """log P(continuation | prompt) for each continuation (token ids)."""
        return self.score_groups([(prompt, continuations)])[0]

    def score_groups(self, groups: Sequence[tuple[Sequence[int], Sequence[Sequence[int]]]]
                     ) -> list[list[Scored]]:
        """Score several prompts' continuations in as few decodes as possible.

        The prompts' common prefix is taken from the KV cache (evaluated once, reused by
        every call); each prompt's own tail and all its continuations go into one batch,
        the tail tokens shared by their continuations' sequences. On a small CPU a decode
        has a large fixed cost, so one decode of 40 tokens beats four of 10.
        """
        with self._borrow() as copy:
            return copy._score_groups_here(groups)

    def _score_groups_here(self, groups: Sequence[tuple[Sequence[int], Sequence[Sequence[int]]]]
                           ) -> list[list[Scored]]:
        for _, conts in groups:
            if any(not c for c in conts):
                raise ValueError("every continuation needs at least one token")
        prompts = [list(p) for p, _ in groups]
        if any(not p for p in prompts):
            raise ValueError("empty prompt")
        with self._lock:
            pinned = {g for g, p in enumerate(prompts) if self._pin is not None and p == self._pin[0]}
            rest = [p for g, p in enumerate(prompts) if g not in pinned]
            common = min((min(common_len(rest[0], p), len(p) - 1) for p in rest),
                         default=len(self._cached))
            keep = common_len(self._cached, (rest[0] if rest else self._cached)[:common])
            self._truncate(keep)
            if keep < common and len(rest) > 1:  # a prefix several prompts share: once
                self._extend(rest[0][keep:common])
            else:
                common = keep  # one prompt: its uncached part rides in the same decode
            results: list[list[Scored]] = [[] for _ in groups]
            work = [(g, start) for g, (_, conts) in enumerate(groups)
                    for start in range(0, len(conts), self.max_sequences)]
            while work:
                batch, used = [], 0
                while work and used + min(self.max_sequences, len(groups[work[0][0]][1]) - work[0][1]) \
                        <= self.max_sequences:
                    g, start = work.pop(0)
                    conts = groups[g][1][start:start + self.max_sequences]
                    batch.append((g, None if g in pinned else prompts[g][common:], conts))
                    used += len(conts)
                for (g, _, _), scored in zip(batch, self._decode_group(common, batch), strict=True):
                    results[g].extend(scored)
            self._cached = self._cached[:common]  # tails and continuations are not kept
            self._c.llama_memory_seq_rm(self._mem, 0, common, -1)
            return results

    def _extend(self, tokens: list[int]) -> None:
        """Append ``tokens`` to sequence 0's cache (no logits needed)."""
        b = self._batch
        base = len(self._cached)
        for start in range(0, len(tokens), self.context):
            part = tokens[start:start + self.context]
            for k, tok in enumerate(part):
                b.token[k], b.pos[k], b.n_seq_id[k], b.logits[k] = tok, base + start + k, 1, 0
                b.seq_id[k][0] = 0
            b.n_tokens = len(part)
            self._decode()
        self._cached = self._cached + list(tokens)

    def _truncate(self, keep: int) -> None:
        """Keep the first ``keep`` cached tokens of sequence 0. Sequence 0 is dropped whole
        and the kept tokens evaluated again: cutting a cached prefix of 60+ tokens short
        moved later scores by up to 0.8 (llama.cpp 0.3.36; dropping it whole does not)."""
        if len(self._cached) > keep:
            kept = self._cached[:keep]
            self._c.llama_memory_seq_rm(self._mem, 0, -1, -1)
            self._cached = []
            if kept:
                self._extend(kept)

    def _decode_group(self, base: int,
                      batch: Sequence[tuple[int, list[int] | None, Sequence[Sequence[int]]]]
                      ) -> list[list[Scored]]:
        """One decode: each (tail, continuations) item's tail in the sequences of its
        continuations, then the continuations as a prefix tree — a token that several
        continuations share at the start ("turn on the ...") is evaluated once, in all
        their sequences (the scores are the same as one row per continuation). A tail of
        None: the continuations follow the pinned prompt."""
        if base != len(self._cached):
            raise ModelError("internal: the prompt cache is out of step")
        pin_seq, pin = self.max_sequences + 1, self._pin
        # (tail, source sequence, its length, continuations, tree) per item
        plan = [(tail or [], 0 if tail is not None else pin_seq,
                 base if tail is not None else len(pin[0]) if pin else 0, conts, prefix_tree(conts))
                for _, tail, conts in batch]
        n_tokens = sum(len(t) + len(tree) for t, _, _, _, tree in plan)
        longest = max(start + len(t) + max(len(c) for c in cs) for t, _, start, cs, _ in plan)
        if longest > self.context or n_tokens > self.context:
            raise ModelError("prompt and candidates do not fit the local LLM's context")
        b = self._batch
        n = 0
        seq = 1
        rows: list[tuple[int | None, dict[tuple[int, ...], int], list[int]]] = []
        for tail, source, start, conts, tree in plan:
            seqs = list(range(seq, seq + len(conts)))
            seq += len(conts)
            for s_ in seqs:
                self._c.llama_memory_seq_rm(self._mem, s_, -1, -1)
                if start:
                    self._c.llama_memory_seq_cp(self._mem, source, s_, 0, start)
            for k, tok in enumerate(tail):
                self._put(n, tok, start + k, seqs, logits=k == len(tail) - 1)
                n += 1
            tail_row = n - 1 if tail else None
            node_rows: dict[tuple[int, ...], int] = {}
            for prefix, members in tree.items():  # parents come before their children
                self._put(n, prefix[-1], start + len(tail) + len(prefix) - 1,
                          [seqs[i] for i in members], logits=True)
                node_rows[prefix] = n
                n += 1
            rows.append((tail_row, node_rows, seqs))
        b.n_tokens = n
        if n:
            self._decode()
        out: list[list[Scored]] = []
        for (tail_row, node_rows, seqs), (*_, conts, _) in zip(rows, plan, strict=True):
            if tail_row is None:
                assert pin is not None
                first = pin[1]
            else:
                first = log_softmax(self._logits(tail_row))
            dist = {prefix: log_softmax(self._logits(row)) for prefix, row in node_rows.items()}
            scored = []
            for cont in conts:
                total = float(first[cont[0]])
                for j in range(1, len(cont)):
                    total += float(dist[tuple(cont[:j])][cont[j]])
                scored.append(Scored(total, len(cont)))
            for s_ in seqs:
                self._c.llama_memory_seq_rm(self._mem, s_, -1, -1)
            out.append(scored)
        return out

    def _put(self, row: int, token: int, pos: int, seqs: Sequence[int], *, logits: bool) -> None:
        b = self._batch
        b.token[row], b.pos[row], b.n_seq_id[row], b.logits[row] = token, pos, len(seqs), int(logits)
        for j, s_ in enumerate(seqs):
            b.seq_id[row][j] = s_

    def _decode(self) -> None:
        rc = self._c.llama_decode(self._ctx, self._batch)
        if rc != 0:
            self._cached, self._pin = [], None
            self._c.llama_memory_clear(self._mem, True)
            raise ModelError(f"the local LLM failed to evaluate (llama_decode returned {rc})")

    def _logits(self, row: int) -> np.ndarray[Any, np.dtype[np.float32]]:
        ptr = self._c.llama_get_logits_ith(self._ctx, row)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))

    def close(self) -> None:
        for copy in getattr(self, "_copies", [self])[1:]:
            copy.close()
        c = self._c
        if getattr(self, "_batch", None) is not None:
            c.llama_batch_free(self._batch)
            self._batch = None
        if getattr(self, "_ctx", None):
            c.llama_free(self._ctx)
            self._ctx = None
        if getattr(self, "_model", None) and getattr(self, "_owner", True):
            c.llama_model_free(self._model)
        self._model = None
