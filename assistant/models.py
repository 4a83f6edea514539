"""The model registry: where each default model comes from (packaged as
``assistant/model_registry.toml``; the repo's ``models/registry.toml`` links to it).

Models ship inside installed packages, never from a hub. :func:`bundled_path` finds a
file; :func:`check` verifies presence and sha256 so a missing or corrupt model is one
clear :class:`ModelError`.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ModelError
from assistant.resources import data_path


def quiet_openmp() -> None:
    """OpenMP threads (CTranslate2's, llama.cpp's) spin while idle by default; beside ONNX
    runtime (wake word, VAD, Piper) and each other on 2 cores that turned a 0.2 s
    transcription into 4-12 s and doubled an LLM decision. Passive waiting must be set
    before the OpenMP runtime loads, so every entry point calls this first."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@dataclass(frozen=True)
class ModelEntry:
    name: str
    kind: str
    package: str
    file: str
    sha256: str
    licence: str
    engine: str | None = None
    """For a wake model: the engine that runs it."""
    commercial_use: bool = True
    """False: its terms forbid commercial use (refused by ``[licences] commercial_use``)."""


@functools.cache
def registry() -> tuple[ModelEntry, ...]:
    path = data_path("model_registry.toml")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return tuple(ModelEntry(**m) for m in data["model"])


def entry(name: str) -> ModelEntry:
    for m in registry():
        if m.name == name:
            return m
    raise ModelError(f"no model named {name!r} in the registry")


def package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"the model package {package!r} is not installed (run the set-up command in the README)",
            code="model_missing",
        )
    return Path(next(iter(spec.submodule_search_locations)))


def bundled_path(name: str) -> Path:
    """The file of a registered model; ModelError if its package or file is missing."""
    m = entry(name)
    path = package_dir(m.package) / m.file
    if not path.exists():
        raise ModelError(f"model {name}: {path} is missing; reinstall {m.package}", code="model_missing")
    return path


@functools.cache
def _sha256(path: Path, size: int, mtime: float) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check(name: str) -> Path:
    """The model's file, verified against its sha256."""
    path = bundled_path(name)
    st = path.stat()
    if _sha256(path, st.st_size, st.st_mtime) != entry(name).sha256:
        raise ModelError(f"model {name}: {path} does not match its sha256 (corrupt?)", code="model_corrupt")
    return path


def require_file(path: Path, what: str) -> Path:
    """A user-supplied model path: it must exist, or one clear error."""
    if not path.exists():
        raise ModelError(f"{what} model not found: {path}", code="model_missing")
    return path
