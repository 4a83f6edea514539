"""Hearth's own data files (configs, the model registry, sentences, dashboard files),
found as package data so a wheel installed anywhere reads the same files as a checkout.

A leaf module: it imports nothing of Hearth but the error type.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from assistant.errors import ConfigError


def data_path(*parts: str) -> Path:
    """A file or folder packaged inside ``assistant`` (``data_path("configs", "default.toml")``).

    Callers need real paths (SQLite, relative paths inside a config, a dashboard served
    from disk), so a zipped install is refused with one clear line rather than half working.
    """
    target = files("assistant").joinpath(*parts)
    if not isinstance(target, Path):
        raise ConfigError("Hearth must be installed as files, not run from a zip; reinstall it with pip")
    if not target.exists():
        raise ConfigError(f"Hearth's packaged data {'/'.join(parts)} is missing; reinstall Hearth")
    return target


def configs_dir() -> Path:
    """The packaged ``configs/`` folder (the repo's top-level ``configs`` links to it)."""
    return data_path("configs")
