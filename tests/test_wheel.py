"""The wheel is the program: everything Hearth reads at run time is inside it.

Built from a copy of the sources with the venv's own setuptools (no index, a few seconds);
scripts/wheel_check.sh installs the wheels in a fresh venv and runs them outside the checkout.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _build(src: Path, out: Path) -> Path:
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                           "--no-index", "-w", str(out), str(src)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    [wheel] = out.glob("*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "assistant", src / "assistant",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    with zipfile.ZipFile(_build(src, tmp_path_factory.mktemp("dist"))) as zf:
        return set(zf.namelist())


def test_every_data_file_of_the_package_is_in_the_wheel(wheel_names: set[str]) -> None:
    data = {p.relative_to(REPO).as_posix() for p in (REPO / "assistant").rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}
    assert {"assistant/configs/default.toml", "assistant/model_registry.toml",
            "assistant/understand/sentences/en.yaml", "assistant/server/static/index.html"} <= data
    assert data - wheel_names == set()


def test_the_wheel_states_its_licence(wheel_names: set[str]) -> None:
    assert "hearth-0.1.0.dist-info/licenses/LICENSE" in wheel_names


def test_a_built_in_skill_builds_its_own_wheel_with_its_sentences(tmp_path: Path) -> None:
    src = tmp_path / "timers"
    shutil.copytree(REPO / "skills" / "timers", src, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    with zipfile.ZipFile(_build(src, tmp_path / "dist")) as zf:
        names = set(zf.namelist())
        entry_points = next(zf.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    assert "hearth_timers/sentences/en.yaml" in names
    assert "[hearth]" in entry_points and "timers = hearth_timers" in entry_points
