"""Configuration a user can find: the search path, `hearth config init` and `hearth config
check` naming every problem with its file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli_config import check_file
from assistant.config import find_config, search_path
from assistant.config_lines import toml_line, yaml_line
from assistant.resources import configs_dir
from tests.conftest import run_hearth

TOML = """\
device_area = "kitchen"   # line 1

[vad]
silence_ms = 700

[[wake.models]]
name = "hey_jarvis"

[[wake.models]]
name = "alexa"
threshold = 0.9
"""


@pytest.mark.parametrize(("loc", "line"), [
    (("device_area",), 1),
    (("vad", "silence_ms"), 4),
    (("vad", "no_such_key"), 3),          # not set: the table that holds it
    (("wake", "models", 1, "threshold"), 11),
    (("wake", "models", 0, "threshold"), 6),  # unset in the first entry: its header
    (("wake", "models", 1, "name"), 10),
    (("stt", "model"), None),
])
def test_toml_lines(loc: tuple[str | int, ...], line: int | None) -> None:
    assert toml_line(TOML, loc) == line


def test_yaml_lines() -> None:
    text = ("device_area: kitchen\nwake:\n  models:\n    - name: hey_jarvis\n    - name: alexa\n"
            "      threshold: 3\n")
    assert yaml_line(text, ("wake", "models", 1, "threshold")) == 6
    assert yaml_line(text, ("wake", "models", 1)) == 5
    assert yaml_line(text, ("device_area",)) == 1


def test_packaged_default_checks_clean() -> None:
    assert check_file(configs_dir() / "default.toml") == []


def test_check_names_every_problem_with_file_and_line(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('# my policy\nmode = "sometimes"\n')
    cfg = tmp_path / "hearth.toml"
    cfg.write_text(f'colour = "blue"\n\n[vad]\nsilence_ms = -5\n\n[[wake.models]]\nname = "alexa"\n'
                   f'threshold = 2.0\n\n[privacy]\npolicy = "{policy.name}"\n')
    got = {(Path(p.file).name, p.line, p.where) for p in check_file(cfg)}
    assert got == {("hearth.toml", 1, "colour"), ("hearth.toml", 4, "vad.silence_ms"),
                   ("hearth.toml", 8, "wake.models.0.threshold"), ("policy.toml", 2, "privacy.mode")}


def test_check_reports_syntax_missing_files_and_wake_names(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('device_area = "kitchen"\n[vad\n')
    [syntax] = check_file(broken)
    assert (syntax.line, syntax.where) == (2, "syntax")
    yml = tmp_path / "hearth.yaml"
    yml.write_text("vad:\n  silence_ms: nope\n")
    assert [(p.line, p.where) for p in check_file(yml)] == [(2, "vad.silence_ms")]
    cfg = tmp_path / "paths.toml"
    cfg.write_text('[stt]\nmodel = "no-such-whisper"\n\n[wake]\ndefault = "computer"\n')
    got = {(p.line, p.where) for p in check_file(cfg)}
    assert got == {(2, "stt.model"), (5, "wake.default")}
    assert "file not found" in str(check_file(tmp_path / "absent.toml")[0])


def test_search_path_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEARTH_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    user = tmp_path / "xdg" / "hearth" / "config.toml"
    assert search_path()[0] == user
    if not Path("/etc/hearth/config.toml").exists():
        assert find_config() == configs_dir() / "default.toml"
    user.parent.mkdir(parents=True)
    user.write_text("")
    assert find_config() == user
    monkeypatch.setenv("HEARTH_CONFIG", str(tmp_path / "typo.toml"))
    assert find_config() == tmp_path / "typo.toml"  # named, so not skipped when missing
    assert find_config(Path("explicit.toml")) == Path("explicit.toml")


def test_config_init_then_the_user_file_is_used(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HEARTH_CONFIG": "",
           "HEARTH_DATA_DIR": str(tmp_path / "data")}
    made = run_hearth("config", "init", env=env)
    assert made.returncode == 0, made.stderr.decode()
    user = tmp_path / "xdg" / "hearth" / "config.toml"
    assert run_hearth("config", "init", env=env).returncode == 2  # no silent overwrite
    assert run_hearth("config", "check", env=env).stdout.decode().strip() == f"{user}: ok"
    user.write_text(user.read_text().replace('device_area = "living_room"', 'device_area = "kitchen"'))
    asked = run_hearth("ask", "turn on the light", "--dry-run", "--json", env=env)
    assert asked.returncode == 0, asked.stderr.decode()
    assert json.loads(asked.stdout)["area"] == "kitchen"
    text = user.read_text()
    assert "silence_ms = 700" in text
    user.write_text(text.replace("silence_ms = 700", "silence_ms = 1"))
    bad = run_hearth("config", "check", "--json", env=env)
    assert bad.returncode == 2 and b"Traceback" not in bad.stderr
    problems = [json.loads(line) for line in bad.stdout.decode().splitlines()]
    assert [(p["file"], p["where"]) for p in problems] == [(str(user), "vad.silence_ms")]
    assert user.read_text().splitlines()[problems[0]["line"] - 1].startswith("silence_ms = 1")
