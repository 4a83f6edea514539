"""``hearth skills [--json]`` (what is loaded, what it may do) and ``hearth skill new NAME``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.config import Settings


def add_commands(sub: Any, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    skills = sub.add_parser("skills", help="list the loaded skills, their intents and permissions",
                            description="The skills the allowlist lets load, where each came from, its "
                            "intents with example sentences and slots, and what it may do.")
    skills.add_argument("--json", action="store_true", help="one JSON object")
    add_common(skills)
    skills.set_defaults(run=_cmd_skills)

    skill = sub.add_parser("skill", help="write a new skill", description="Skill SDK commands.")
    skill_sub = skill.add_subparsers(dest="skill_command", metavar="COMMAND", required=True)
    new = skill_sub.add_parser("new", help="scaffold a working skill package (pyproject, sentences, "
                               "handler, test)", description="Write NAME/ with a skill you can "
                               "`pip install -e` and `pytest` right away.")
    new.add_argument("name", help="the skill's name: lower_case letters, digits and _")
    new.add_argument("--dir", type=Path, default=Path("."), help="where to create it (default: here)")
    new.add_argument("--force", action="store_true", help="overwrite files in an existing folder")
    add_common(new)
    new.set_defaults(run=_cmd_skill_new)


def _cmd_skills(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.home import open_home
    from assistant.skills.registry import SkillRegistry

    home = open_home(settings)
    try:
        registry = SkillRegistry(settings, home)
        try:
            report = registry.describe()
        finally:
            registry.close()
    finally:
        home.close()
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        return 0
    out = []
    for s in report["skills"]:
        p = s["permissions"]
        out.append(f"{s['name']} {s['version']} — {s['description']}")
        out.append(f"  from: {s['source']}")
        out.append(f"  may act on: {', '.join(p['domains']) or 'nothing'}; network: "
                   f"{'yes' if p['network'] else 'no'}; cloud: {'yes' if p['cloud'] else 'no'}")
        for i in s["intents"]:
            slots = f" ({', '.join(i['slots'])})" if i["slots"] else ""
            out.append(f"    {i['intent']}{slots}")
            if i["examples"]:
                out.append("      " + " / ".join(f'"{e}"' for e in i["examples"][:3]))
    if not report["skills"]:
        out.append("no skills loaded (see [skills] enabled in the config)")
    for problem in report["problems"]:
        out.append(f"not loaded: {problem['name']} ({problem['source']}): {problem['error']}")
    allow = ", ".join(report["allowlist"])
    out.append(f"allowlist: {allow}" + (f"; disabled: {', '.join(report['disabled'])}"
                                        if report["disabled"] else ""))
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def _cmd_skill_new(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.skills.scaffold import new_skill

    root = new_skill(args.name, args.dir, force=args.force)
    sys.stdout.write(f"created {root}\n  cd {root} && pip install -e . && pytest\n"
                     f"  then: hearth skills   (it is listed once installed)\n")
    return 0
