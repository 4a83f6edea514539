"""``hearth skill new NAME``: a working skill package to start from.

The package is shaped exactly like the built-in skills: a pyproject.toml declaring the
``hearth`` entry point, a package with the handler, hassil sentences, and a test that
drives the skill through the real template path. ``pip install -e`` it and Hearth
loads it; ``pytest`` in its folder tests it.
"""

from __future__ import annotations

from pathlib import Path

from assistant.errors import HearthError
from assistant.skills.api import NAME_RE

PYPROJECT = """\
[build-system]
requires = ["setuptools>=64", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "hearth-{dash}"
version = "0.1.0"
description = "A Hearth skill: {words}."
requires-python = ">=3.11"
dependencies = ["hearth"]

# This line is what makes Hearth find the skill once the package is installed.
[project.entry-points.hearth]
{name} = "hearth_{name}"

[tool.setuptools.packages.find]
include = ["hearth_{name}*"]

[tool.setuptools.package-data]
hearth_{name} = ["sentences/*.yaml"]
"""

SENTENCES = """\
# What people say to use this skill, in hassil's template format (the same as Home
# Assistant's intents): (a|b) is a choice, [x] is optional, {{list:slot}} fills a slot.
language: en
intents:
  {intent}:
    data:
      - sentences:
          - "(say|give me) [a] {words} (hello|greeting)"
          - "{words} hello [to {{{name}_who:who}}]"
lists:
  {name}_who:
    wildcard: true
"""

INIT = '''\
"""{title}: a Hearth skill.

A skill declares sentences (sentences/en.yaml), handlers for their intents, what it
may act on (Permissions), and its settings (a pydantic model, filled from
``[skills.settings.{name}]`` in Hearth's config).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from assistant.skills import Intent, Permissions, Response, Skill, SkillContext, hookimpl

HERE = Path(__file__).parent


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    greeting: str = "Hello"
    """What the skill says first."""


skill: Skill[Settings] = Skill(
    "{name}",
    "Says hello (replace me with what your skill does).",
    sentences=[HERE / "sentences" / "en.yaml"],
    # The entity domains it may act on, e.g. ("light", "switch"); and whether it talks
    # to the network or the cloud (the privacy policy reads these).
    permissions=Permissions(domains=()),
    settings=Settings,
)


@skill.intent("{intent}", examples=["say a {words} hello", "{words} hello to the kitchen"])
def hello(intent: Intent, ctx: SkillContext[Settings]) -> Response:
    """Greet someone (or everyone)."""
    who = intent.get("who") or "everyone"
    # To act on a device, return actions (the runner checks them against `permissions`):
    #   return Response("Lights on.", actions=(Action("light.turn_on", "light.kitchen"),))
    return Response(f"{{ctx.settings.greeting}}, {{who}}!")


@hookimpl
def register_skills(register: Any) -> None:
    register(skill)
'''

TEST = '''\
"""Drive the skill the way Hearth does: sentence templates -> router -> your handler."""

from __future__ import annotations

from pathlib import Path

from hearth_{name} import skill

from assistant.skills.testing import SkillTester


def test_says_hello(tmp_path: Path) -> None:
    with SkillTester(skill, data_dir=tmp_path) as t:
        turn = t.ask("say a {words} hello")
        assert turn.intent == "{intent}"
        assert turn.reply == "Hello, everyone!"


def test_settings_change_the_greeting(tmp_path: Path) -> None:
    with SkillTester(skill, data_dir=tmp_path, settings={{"{name}": {{"greeting": "Hi"}}}}) as t:
        assert t.ask("{words} hello to the kitchen").reply == "Hi, the kitchen!"
'''

CONFTEST = '''\
"""Lets ``pytest`` in this folder import the package before it is installed."""
'''

README = """\
# hearth-{dash}

A Hearth skill, made with `hearth skill new {name}`.

    pip install -e .          # Hearth now loads it (see: hearth skills)
    pytest                    # its tests, through Hearth's real template path
    hearth ask "say a {words} hello"

Settings go in Hearth's config:

    [skills.settings.{name}]
    greeting = "Hi"

See docs/skills.md in Hearth for the whole API.
"""


def new_skill(name: str, folder: Path, *, force: bool = False) -> Path:
    """Write the package for skill ``name`` into ``folder/name``; returns that path."""
    if not NAME_RE.match(name):
        raise HearthError(f"skill name {name!r}: use lower_case letters, digits and _, "
                          "starting with a letter", code="bad_input")
    root = folder / name
    if root.exists() and any(root.iterdir()) and not force:
        raise HearthError(f"{root} already exists and is not empty (use --force to overwrite)",
                          code="bad_input")
    words = name.replace("_", " ")
    values = {"name": name, "dash": name.replace("_", "-"), "words": words, "title": words.capitalize(),
              "intent": "".join(w.capitalize() for w in name.split("_")) + "Hello"}
    files = {
        "pyproject.toml": PYPROJECT,
        "README.md": README,
        "conftest.py": CONFTEST,
        f"hearth_{name}/__init__.py": INIT,
        f"hearth_{name}/sentences/en.yaml": SENTENCES,
        f"tests/test_skill_{name}.py": TEST,
    }
    try:
        for rel, template in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(template.format(**values), encoding="utf-8")
    except OSError as exc:
        raise HearthError(f"cannot write the skill to {root}: {exc.strerror or exc}",
                          code="bad_input") from None
    return root
