"""Loading settings: one TOML (or YAML) file -> the frozen, validated models of
:mod:`assistant.settings`, passed in, never global.

A bad config fails at load with one clear line (:class:`ConfigError`), never mid-turn.
The models are re-exported here, so ``from assistant.config import Settings`` keeps working.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from assistant.errors import ConfigError
from assistant.licences import for_commercial_use
from assistant.resources import configs_dir
from assistant.settings import *  # noqa: F403 -- the models, re-exported
from assistant.settings import PrivacySettings, Settings, WakeModelSettings, model_name_is_bundled

PACKAGE_DIR = Path(__file__).resolve().parent


def user_config() -> Path:
    """The user's own config file: ``$XDG_CONFIG_HOME/hearth/config.toml`` (~/.config/...)."""
    base = os.environ.get("XDG_CONFIG_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".config") / "hearth" / "config.toml"


def search_path() -> list[Path]:
    """Where ``hearth`` looks for its config when no ``--config`` is given, first found wins:
    ``$HEARTH_CONFIG``, the user's file, the machine's file, then the packaged default."""
    env = os.environ.get("HEARTH_CONFIG", "").strip()
    return [*([Path(env).expanduser()] if env else []), user_config(),
            Path("/etc/hearth/config.toml"), configs_dir() / "default.toml"]


def find_config(explicit: Path | None = None) -> Path:
    """``--config`` if given, else the first file of :func:`search_path` that exists
    (``$HEARTH_CONFIG`` must exist when set: a typo there should not fall back silently)."""
    if explicit is not None:
        return explicit
    env = os.environ.get("HEARTH_CONFIG", "").strip()
    if env:
        return Path(env).expanduser()
    return next(p for p in search_path() if p.is_file() or p.parent == configs_dir())


def packaged_config_text() -> str:
    """configs/default.toml as a user copies it elsewhere to edit: its relative paths (the
    privacy policy file) made absolute, so the copy loads from any folder."""
    folder = configs_dir()
    return re.sub(r'(?m)^(policy\s*=\s*")([^"/][^"]*)"',
                  lambda m: f'{m.group(1)}{folder / m.group(2)}"',
                  (folder / "default.toml").read_text(encoding="utf-8"))


def wake_model(settings: Settings, name: str) -> WakeModelSettings:
    """The wake model called ``name`` for the configured engine: a configured entry (one
    for that engine before one for any engine), else a model the engine ships."""
    engine = settings.wake.engine
    for model in sorted(settings.wake.models, key=lambda m: m.engine is None):
        if model.name == name and model.engine in (engine, None):
            return model
    if model_name_is_bundled(name, engine):
        return WakeModelSettings(name=name)
    known = ", ".join(wake_names(settings))
    raise ConfigError(f"unknown wake word {name!r} for {engine} (configured: {known})")


def wake_names(settings: Settings) -> list[str]:
    """The configured wake words the configured engine can use, in file order."""
    names = [m.name for m in settings.wake.models if m.engine in (settings.wake.engine, None)]
    return list(dict.fromkeys(names))


def _text(path: Path, what: str) -> str:
    """The file's text, or one clear line naming ``what`` it is."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc}") from None


def _read(path: Path) -> dict[str, Any]:
    text = _text(path, "config file")
    try:
        is_yaml = path.suffix.lower() in (".yaml", ".yml")
        data = (yaml.safe_load(text) or {}) if is_yaml else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"config file {path} is not valid: {first}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a table of settings")
    return data


def _describe(exc: ValidationError, origin: str) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(top level)"
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"config {origin}: {where}: {err['msg']}{more}"


def load_settings(path: Path | str | None = None, **overrides: Any) -> Settings:
    """Load settings from ``path`` (default: the packaged configs/default.toml).

    Relative paths inside the file are resolved against the file's folder.
    """
    source = Path(path) if path is not None else configs_dir() / "default.toml"
    data = _read(source)
    data.update({k: v for k, v in overrides.items() if v is not None})
    data = merge_policy_file(data, source.parent)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, str(source))) from None
    return for_commercial_use(_resolve_paths(settings, source.parent))


def _resolve_paths(settings: Settings, base: Path) -> Settings:
    def fix(p: Path | None) -> Path | None:
        if p is None:
            return None
        p = p.expanduser()
        return p if p.is_absolute() else (base / p).resolve()

    home = settings.home.model_copy(
        update={"demo_home": fix(settings.home.demo_home), "state_db": fix(settings.home.state_db)}
    )
    wake = settings.wake.model_copy(
        update={"models": tuple(m.model_copy(update={"path": fix(m.path)}) for m in settings.wake.models)}
    )
    return settings.model_copy(
        update={
            "home": home,
            "wake": wake,
            "stt": settings.stt.model_copy(update={"model": fix(settings.stt.model)}),
            "tts": settings.tts.model_copy(update={"voice": fix(settings.tts.voice)}),
            "llm": settings.llm.model_copy(update={"model": fix(settings.llm.model)}),
            "privacy": settings.privacy.model_copy(update={"audit_db": fix(settings.privacy.audit_db)}),
            "data_dir": settings.data_dir.expanduser(),
            "cache_dir": settings.cache_dir.expanduser(),
        }
    )


def _read_policy(path: Path) -> dict[str, Any]:
    text = _text(path, "privacy policy file")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"privacy policy {path} is not valid TOML: {exc}") from None


def merge_policy_file(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Fold the file named by ``privacy.policy`` into ``data['privacy']``.

    The file holds the keys of :class:`PrivacySettings` at its top level; keys set
    inline in the main config win. A relative path is resolved against ``base`` (the
    main config's folder). Errors name the policy file, not the main config.
    """
    privacy = data.get("privacy")
    if not isinstance(privacy, dict) or not privacy.get("policy"):
        return data
    path = Path(str(privacy["policy"])).expanduser()
    if not path.is_absolute():
        path = (base / path).resolve()
    policy = _read_policy(path)
    if "policy" in policy:
        raise ConfigError(f"privacy policy {path}: a policy file cannot name another policy file")
    merged = {**policy, **privacy, "policy": str(path)}
    try:
        PrivacySettings.model_validate(merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise ConfigError(f"privacy policy {path}: {where}: {err['msg']}") from None
    return {**data, "privacy": merged}
