"""Licences in plain sight: the registry and `hearth models` say each model's and engine's
licence, and `[licences] commercial_use = true` runs nothing with non-commercial terms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import models
from assistant.config import load_settings
from assistant.errors import ConfigError
from assistant.licences import check_wake_models, engine_rows, package_licence
from assistant.resources import configs_dir, data_path
from assistant.settings import WakeModelSettings
from assistant.wake.factory import build_wake_detector, wake_models, with_engine
from tests.conftest import run_hearth


def _config(tmp_path: Path, extra: str) -> Path:
    cfg = tmp_path / "hearth.toml"
    cfg.write_text(f'[privacy]\npolicy = "{configs_dir() / "privacy.toml"}"\n{extra}')
    return cfg


def test_every_model_states_its_licence_and_the_non_commercial_ones_say_so() -> None:
    entries = models.registry()
    assert all(m.licence for m in entries)
    non_commercial = {m.name for m in entries if not m.commercial_use}
    assert non_commercial == {"hey_jarvis", "alexa", "hey_mycroft", "hey_rhasspy"}
    assert all("CC BY-NC-SA 4.0" in models.entry(n).licence for n in non_commercial)
    assert {m.engine for m in entries if m.kind == "wake"} == {"openwakeword", "microwakeword"}


def test_engine_licences_come_from_the_installed_packages() -> None:
    rows = {r["package"]: r for r in engine_rows()}
    assert "GPL-3.0" in str(rows["piper-tts"]["licence"])
    assert rows["faster-whisper"]["licence"] == "MIT"
    assert rows["llama-cpp-python"]["licence"] == "MIT"
    assert all(r["version"] for r in rows.values()), "every default engine is installed"
    assert package_licence("no-such-package-hearth") == (None, "not installed")


def test_default_set_up_keeps_openwakeword(tmp_path: Path) -> None:
    assert load_settings(_config(tmp_path, "")).wake.engine == "openwakeword"


def test_commercial_use_switches_the_wake_engine(tmp_path: Path) -> None:
    s = load_settings(_config(tmp_path, "[licences]\ncommercial_use = true\n"))
    assert s.wake.engine == "microwakeword"
    check_wake_models(s, wake_models(s))  # nothing refused


def test_commercial_use_keeps_a_wake_model_of_your_own(tmp_path: Path) -> None:
    own = tmp_path / "computer.onnx"
    own.write_bytes(b"not checked here")
    s = load_settings(_config(tmp_path, '[licences]\ncommercial_use = true\n[wake]\ndefault = "computer"\n'
                                        f'[[wake.models]]\nname = "computer"\npath = "{own}"\n'))
    assert s.wake.engine == "openwakeword"
    check_wake_models(s, wake_models(s))


def test_commercial_use_refuses_openwakewords_bundled_models(tmp_path: Path) -> None:
    s = with_engine(load_settings(_config(tmp_path, "[licences]\ncommercial_use = true\n")), "openwakeword")
    with pytest.raises(ConfigError, match=r"CC BY-NC-SA 4\.0 .*commercial_use = true"):
        build_wake_detector(s, first_stage=lambda m, r: pytest.fail("must not load"))  # type: ignore[arg-type,return-value]
    free = with_engine(load_settings(_config(tmp_path, "")), "openwakeword")
    check_wake_models(free, [WakeModelSettings(name="hey_jarvis")])  # allowed without the switch


def test_packaged_data_is_found_and_a_missing_file_is_one_clear_error() -> None:
    assert (configs_dir() / "default.toml").is_file()
    assert data_path("model_registry.toml").is_file()
    with pytest.raises(ConfigError, match="reinstall Hearth"):
        data_path("no-such-file.toml")


def test_hearth_models_json_lists_engines_with_licences() -> None:
    proc = run_hearth("models", "--json", "--no-load")
    assert proc.returncode == 0, proc.stderr.decode()
    rows = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    by_name = {r["name"]: r for r in rows}
    assert by_name["hey_jarvis"]["commercial_use"] is False
    assert by_name["hey_jarvis"]["status"] == "ok"
    piper = next(r for r in rows if r["kind"] == "engine" and r["package"] == "piper-tts")
    assert "GPL" in piper["licence"] and "redistributes" in piper["note"]
    assert all("status" in r for r in rows)  # model rows and engine rows alike
