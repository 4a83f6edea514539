"""Skills as plugins: discovery by entry point (built-in and third-party alike), the allowlist, load
problems, ``hearth skills``, and the SDK (scaffold -> its own test passes -> pip
install -e -> Hearth loads it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import load_settings
from assistant.errors import ConfigError
from assistant.home import open_home
from assistant.skills.loader import BUILTIN as BUILTIN_NAMES
from assistant.skills.registry import SkillRegistry
from tests.conftest import run_hearth

BUILTIN = set(BUILTIN_NAMES)
REPO = Path(__file__).resolve().parents[1]


def registry(tmp_path: Path, **skills: object) -> SkillRegistry:
    settings = load_settings(data_dir=str(tmp_path), skills=skills or None)
    home = open_home(settings)
    reg = SkillRegistry(settings, home)
    reg.close_home = home.close  # type: ignore[attr-defined]
    return reg


def close(reg: SkillRegistry) -> None:
    reg.close()
    reg.close_home()  # type: ignore[attr-defined]


def fake_distribution(root: Path, name: str, module: str, code: str) -> None:
    """An installed distribution as importlib.metadata sees it: a dist-info with an
    entry point in the ``hearth`` group, and its module, on a sys.path folder."""
    dist = root / f"{name}-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[hearth]\n{name} = {module}\n")
    (root / f"{module}.py").write_text(textwrap.dedent(code))


GREETER = """
    from assistant.skills import Permissions, Skill, hookimpl

    skill = Skill("greeter", "Greets.", sentences=[{"language": "en", "intents": {
        "GreeterHello": {"data": [{"sentences": ["greet the (guests|visitors)"]}]}}}],
        permissions=Permissions())

    @skill.intent("GreeterHello", examples=["greet the guests"])
    def hello(intent, ctx):
        return "Welcome, everyone!"

    @hookimpl
    def register_skills(register):
        register(skill)
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A sys.path folder for fake installed plugins (removed after the test)."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    yield root
    for mod in [m for m in sys.modules if m.startswith("hearth_fake")]:
        del sys.modules[mod]


def test_the_builtin_list_is_the_skills_folder() -> None:
    assert {p.name for p in (REPO / "skills").iterdir() if (p / "pyproject.toml").is_file()} == BUILTIN


def test_builtin_skills_load_through_their_entry_points(tmp_path: Path) -> None:
    reg = registry(tmp_path)
    try:
        assert set(reg.skills) >= BUILTIN
        assert all(reg.skills[n].source == f"entry point hearth_{n} (hearth-{n.replace('_', '-')} 0.1.0)"
                   for n in BUILTIN), {n: reg.skills[n].source for n in BUILTIN}
        assert not reg.problems
        assert reg.owner("HassStartTimer") == "timers" and reg.owner("HearthBrew") == "coffee"
        catalog = {i.intent: i for i in reg.catalog()}
        assert catalog["HearthBrew"].examples[0] == "make coffee"
        assert {"drink", "size", "roast", "shots", "milk", "sugar"} <= set(catalog["HearthBrew"].slots)
        assert "americano" in reg.stt_words()
    finally:
        close(reg)


def test_an_installed_plugin_is_found_by_its_entry_point(tmp_path: Path, site: Path) -> None:
    fake_distribution(site, "greeter", "hearth_fake_greeter", GREETER)
    reg = registry(tmp_path)
    try:
        assert reg.skills["greeter"].source == "entry point hearth_fake_greeter (greeter 1.0)"
        assert reg.owns("GreeterHello")
    finally:
        close(reg)


def test_the_allowlist_keeps_other_plugins_unimported(tmp_path: Path, site: Path) -> None:
    fake_distribution(site, "greeter", "hearth_fake_greeter", GREETER)
    reg = registry(tmp_path, enabled=["timers", "coffee"])
    try:
        assert set(reg.skills) == {"timers", "coffee"}
        assert "hearth_fake_greeter" not in sys.modules  # never ran any code
    finally:
        close(reg)
    reg = registry(tmp_path, disabled=["coffee", "greeter"])
    try:
        assert "coffee" not in reg.skills and "greeter" not in reg.skills and "timers" in reg.skills
    finally:
        close(reg)


def test_an_allowlist_name_that_is_not_installed_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"skills\.enabled names 'cofee'.*available: .*coffee"):
        registry(tmp_path, enabled=["cofee"])


def test_a_builtin_skill_not_installed_is_one_clear_line_and_the_rest_loads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import importlib.metadata as md

    installed = md.entry_points

    def without_lists(**kw: str) -> md.EntryPoints:  # as if skills/lists was never installed
        return md.EntryPoints(ep for ep in installed(**kw) if ep.name != "lists")

    monkeypatch.setattr(md, "entry_points", without_lists)
    reg = registry(tmp_path)
    try:
        assert set(reg.skills) == BUILTIN - {"lists"}
        assert [(p.name, p.source) for p in reg.problems] == [("lists", "built-in")]
        assert reg.problems[0].error.startswith("not installed (bash scripts/setup.sh installs them")
        lines = [r.getMessage() for r in caplog.records if "lists" in r.getMessage()]
        assert len(lines) == 1 and lines[0].startswith("skill lists not loaded (built-in): not installed")
    finally:
        close(reg)


def test_broken_plugins_are_reported_and_the_rest_loads(tmp_path: Path, site: Path) -> None:
    fake_distribution(site, "broken", "hearth_fake_broken", "raise ImportError('needs libfoo')\n")
    fake_distribution(site, "nohook", "hearth_fake_nohook", "X = 1\n")
    fake_distribution(site, "thief", "hearth_fake_thief", """
        from assistant.skills import Skill, hookimpl
        skill = Skill("thief", "Steals an intent.")
        skill.handle("HassStartTimer", lambda intent, ctx: "mine")

        @hookimpl
        def register_skills(register):
            register(skill)
    """)
    fake_distribution(site, "badyaml", "hearth_fake_badyaml", """
        from assistant.skills import Skill, hookimpl
        skill = Skill("badyaml", "Sentences for an intent it does not handle.", sentences=[
            {"intents": {"Other": {"data": [{"sentences": ["do the other thing"]}]}}}])
        skill.handle("BadHello", lambda intent, ctx: "hi")

        @hookimpl
        def register_skills(register):
            register(skill)
    """)
    reg = registry(tmp_path)
    try:
        problems = {p.name: p.error for p in reg.problems}
        assert "import failed: ImportError: needs libfoo" in problems["broken"]
        assert problems["nohook"] == "defines no @hookimpl register_skills"
        assert problems["thief"] == "intent HassStartTimer already belongs to skill 'timers'"
        assert "sentences for Other, which has no handler" in problems["badyaml"]
        assert set(reg.skills) >= BUILTIN
    finally:
        close(reg)


def test_hearth_skills_lists_skills_intents_and_permissions(tmp_path: Path) -> None:
    out = run_hearth("skills", "--json", env={"HEARTH_DATA_DIR": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    by_name = {s["name"]: s for s in report["skills"]}
    assert set(by_name) >= BUILTIN
    assert by_name["coffee"]["permissions"] == {"domains": ["switch"], "network": False, "cloud": False}
    assert "lock" in by_name["home_control"]["permissions"]["domains"]
    assert {i["intent"] for i in by_name["timers"]["intents"]} >= {"HassStartTimer", "HassTimerStatus",
                                                                  "HassCancelTimer", "HearthSetAlarm"}
    text = run_hearth("skills", env={"HEARTH_DATA_DIR": str(tmp_path)}).stdout.decode()
    assert "may act on: switch; network: no; cloud: no" in text


def test_lists_survive_a_restart_of_hearth(tmp_path: Path) -> None:
    env = {"HEARTH_DATA_DIR": str(tmp_path)}
    first = run_hearth("ask", "add oat milk and bread to my shopping list", env=env)
    assert first.stdout.decode().strip() == "Added oat milk and bread to your shopping list."
    second = run_hearth("ask", "what's on my shopping list", "--json", env=env)
    assert json.loads(second.stdout)["reply"] == "Your shopping list has 2 items: oat milk and bread."


# --- installing with pip, the SDK ------------------------------------------------------


def pip_install_editable(package: Path, target: Path) -> None:
    """``pip install -e`` into a private folder (not the shared venv)."""
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(target), "-e", str(package)], check=True, capture_output=True,
                   timeout=300)


def hearth_with_site(site_dir: Path, *args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh process that has ``site_dir`` as a site-packages folder."""
    code = (f"import site, sys; site.addsitedir({str(site_dir)!r}); from assistant.cli import main; "
            f"sys.exit(main({list(args)!r}))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HEARTH_DATA_DIR": str(data_dir)}, check=False)


@pytest.fixture(scope="session")
def dice_installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site-dice")
    pip_install_editable(REPO / "tests" / "example_skill", target)
    return target


def test_a_pip_installed_third_party_skill_loads_by_entry_point(dice_installed: Path, tmp_path: Path) -> None:
    out = hearth_with_site(dice_installed, "skills", "--json", data_dir=tmp_path)
    assert out.returncode == 0, out.stderr
    dice = next(s for s in json.loads(out.stdout)["skills"] if s["name"] == "dice")
    assert dice["source"] == "entry point hearth_dice (hearth-dice 0.2.0)"
    assert [i["intent"] for i in dice["intents"]] == ["DiceRoll", "DiceFlip"]
    turn = hearth_with_site(dice_installed, "ask", "roll a 20 sided die", "--json", data_dir=tmp_path)
    reply = json.loads(turn.stdout)
    assert reply["intent"] == "DiceRoll" and reply["reply"].endswith("on a 20-sided die.")


def test_scaffold_passes_its_own_test_and_loads_once_installed(tmp_path: Path) -> None:
    made = run_hearth("skill", "new", "porch_light", "--dir", str(tmp_path))
    assert made.returncode == 0, made.stderr
    pkg = tmp_path / "porch_light"
    assert {p.name for p in pkg.iterdir()} >= {"pyproject.toml", "hearth_porch_light", "tests", "README.md"}
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=pkg,
                           capture_output=True, text=True, timeout=300, check=False)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "2 passed" in tests.stdout
    site_dir = tmp_path / "site"
    pip_install_editable(pkg, site_dir)
    out = hearth_with_site(site_dir, "ask", "say a porch light hello", data_dir=tmp_path / "data")
    assert out.stdout.strip() == "Hello, everyone!", out.stderr
    again = run_hearth("skill", "new", "porch_light", "--dir", str(tmp_path))
    assert again.returncode == 2 and b"already exists" in again.stderr
    bad = run_hearth("skill", "new", "Porch-Light", "--dir", str(tmp_path))
    assert bad.returncode == 2 and bad.stderr.decode().startswith("hearth: skill name 'Porch-Light'")
