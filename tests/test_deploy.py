"""deploy/: the systemd unit as systemd itself reads it (`systemd-analyze verify`).

The full install (deploy/install.sh into a fresh venv, then the smoke test from it) runs in
scripts/wheel_check.sh, which needs the package index; this test needs nothing but systemd.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UNIT = REPO / "deploy" / "hearth.service"
INSTALLED = "/opt/hearth/venv/bin/hearth"


def test_the_unit_runs_the_installed_venv_with_the_etc_config() -> None:
    text = UNIT.read_text()
    assert f"ExecStart={INSTALLED} serve --config /etc/hearth/config.toml" in text
    assert "User=hearth" in text and "StateDirectory=hearth" in text
    assert "Environment=HEARTH_DATA_DIR=/var/lib/hearth" in text
    install = (REPO / "deploy" / "install.sh").read_text()
    assert all(p in install for p in ("/opt/hearth/venv", "/etc/hearth", "/var/lib/hearth"))


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed (apt-get install systemd)")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    # Only the binary's place differs: /opt/hearth/venv does not exist on a test machine,
    # and systemd checks that ExecStart= names an executable.
    hearth = Path(sys.executable).with_name("hearth")
    unit = tmp_path / "hearth.service"
    unit.write_text(UNIT.read_text().replace(INSTALLED, str(hearth)))
    proc = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True,
                          timeout=60, check=False)
    complaints = [line for line in (proc.stdout + proc.stderr).splitlines() if "hearth.service" in line]
    assert proc.returncode == 0 and not complaints, proc.stdout + proc.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verify_would_catch_a_mistake(tmp_path: Path) -> None:
    unit = tmp_path / "hearth.service"
    unit.write_text(UNIT.read_text().replace("KillSignal=SIGTERM", "KillSignl=SIGTERM"))
    proc = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert "KillSignl" in proc.stdout + proc.stderr
