from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import load_settings
from assistant.errors import ConfigError
from tests.conftest import run_hearth


def test_packaged_defaults_load() -> None:
    s = load_settings()
    assert s.device_area == "living_room"
    assert s.wake.default == "hey_jarvis"
    assert {m.name for m in s.wake.models} >= {"hey_jarvis", "alexa", "hey_mycroft", "hey_rhasspy"}


def test_settings_are_frozen() -> None:
    s = load_settings()
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error
        s.device_area = "kitchen"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("device_area = ", "not valid"),
        ("[vad]\nsilence_ms = -5\n", "vad.silence_ms"),
        ("colour = 'blue'\n", "colour"),
        ("[wake]\nmodels = 3\n", "wake.models"),
    ],
)
def test_broken_config_is_one_clear_error(tmp_path: Path, text: str, needle: str) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=needle.replace(".", r"\.")):
        load_settings(cfg)


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[stt]\nmodel = "models/whisper"\n')
    assert load_settings(cfg).stt.model == (tmp_path / "models" / "whisper").resolve()


def test_cli_broken_config_exits_nonzero_with_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[vad\n")
    proc = run_hearth("ask", "turn on the kitchen light", "--config", str(cfg))
    assert proc.returncode != 0
    err = proc.stderr.decode().strip()
    assert len(err.splitlines()) == 1 and "bad.toml" in err and "Traceback" not in err


def test_cli_missing_config_file(tmp_path: Path) -> None:
    proc = run_hearth("ask", "hi", "--config", str(tmp_path / "nope.toml"))
    assert proc.returncode != 0
    assert proc.stderr.decode().strip() == f"hearth: config file not found: {tmp_path / 'nope.toml'}"
