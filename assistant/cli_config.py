"""``hearth config path|init|check``: which file Hearth reads, a starter file, and a
check that names every problem with its file and line."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from assistant.config import (
    Settings,
    find_config,
    load_settings,
    packaged_config_text,
    search_path,
    user_config,
    wake_model,
)
from assistant.config_lines import line_of
from assistant.errors import ConfigError, HearthError
from assistant.licences import check_wake_models
from assistant.resources import configs_dir

SEARCH = """\
Hearth reads one config file, the first it finds of:
  --config FILE                  (any command)
  $HEARTH_CONFIG                 (must exist when set)
  ~/.config/hearth/config.toml   ($XDG_CONFIG_HOME/hearth/config.toml)
  /etc/hearth/config.toml        (a service: deploy/install.sh puts it there)
  the packaged default           (assistant/configs/default.toml)
The file found is the whole config (unset keys take their defaults, not the packaged
file's values), so start from `hearth config init`, which copies the packaged one."""

HEADER = """\
# Hearth's settings, written by `hearth config init` from the packaged default.
# Check it with `hearth config check`; `hearth config --help` says where Hearth looks.
# Every key is optional. The privacy policy stays the packaged file named below: to edit
# it, copy it beside this file and set policy = "privacy.toml".

"""


def add_commands(sub: Any, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    cfg = sub.add_parser("config", help="find, write and check the config file",
                         description="Where Hearth's config file is, a commented starter file, "
                         "and a check that names every problem with file and line.",
                         epilog=SEARCH, formatter_class=argparse.RawDescriptionHelpFormatter)
    csub = cfg.add_subparsers(dest="config_command", metavar="COMMAND", required=True)

    path = csub.add_parser("path", help="the file Hearth would read, and the places it looks",
                           epilog=SEARCH, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common(path)
    path.set_defaults(run=_cmd_path, needs_settings=False)

    init = csub.add_parser("init", help="write a commented starter config (a copy of the packaged one)",
                           epilog=SEARCH, formatter_class=argparse.RawDescriptionHelpFormatter)
    init.add_argument("file", nargs="?", type=Path,
                      help="where to write it (default: ~/.config/hearth/config.toml)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(run=_cmd_init, needs_settings=False)

    check = csub.add_parser("check", help="validate a config file: every problem, with file and line",
                            epilog=SEARCH, formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("file", nargs="?", type=Path, help="the file to check (default: the one Hearth reads)")
    check.add_argument("--json", action="store_true", help="one JSON object per problem")
    add_common(check)
    check.set_defaults(run=_cmd_check, needs_settings=False)


def _cmd_path(args: argparse.Namespace, _settings: Settings | None) -> int:
    used = find_config(args.config)
    places = search_path() if args.config is None else [args.config, *search_path()]
    for place in places:
        mark = "*" if place == used else " "
        state = ("packaged default" if place.parent == configs_dir() else
                 "found" if place.is_file() else "not found")
        sys.stdout.write(f"{mark} {place}  ({state})\n")
    return 0


def _cmd_init(args: argparse.Namespace, _settings: Settings | None) -> int:
    env = os.environ.get("HEARTH_CONFIG", "").strip()
    target: Path = args.file or (Path(env).expanduser() if env else user_config())
    if target.exists() and not args.force:
        raise HearthError(f"{target} exists; use --force to overwrite it", code="bad_input")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(HEADER + packaged_config_text(), encoding="utf-8")
    except OSError as exc:
        raise HearthError(f"cannot write {target}: {exc.strerror or exc}", code="bad_input") from None
    sys.stdout.write(f"wrote {target}\n")
    return 0


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        at = f"{self.file}:{self.line}" if self.line else self.file
        return f"{at}: {self.where}: {self.message}" if self.where else f"{at}: {self.message}"


def _cmd_check(args: argparse.Namespace, _settings: Settings | None) -> int:
    path = args.file or find_config(args.config)
    problems = check_file(path)
    for p in problems:
        sys.stdout.write((json.dumps(asdict(p)) if args.json else str(p)) + "\n")
    if problems:
        raise HearthError(f"{len(problems)} problem(s) in {path}", code="config_invalid")
    if not args.json:
        sys.stdout.write(f"{path}: ok\n")
    return 0


def _parse(path: Path) -> tuple[str, Any] | Problem:
    """The file's text and data, or the problem that stops reading it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Problem(str(path), None, "", "file not found")
    except (OSError, UnicodeDecodeError) as exc:
        return Problem(str(path), None, "", f"cannot read it: {exc}")
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            return text, yaml.safe_load(text) or {}
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        return Problem(str(path), int(at.group(1)) if at else None, "syntax",
                       re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc)))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return Problem(str(path), mark.line + 1 if mark else None, "syntax",
                       str(getattr(exc, "problem", None) or exc).splitlines()[0])


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown setting (a typo, or a section it does not belong to?)"
    return str(err["msg"])


def check_file(path: Path) -> list[Problem]:
    """Every problem in the config at ``path`` (and the privacy policy file it names)."""
    parsed = _parse(path)
    if isinstance(parsed, Problem):
        return [parsed]
    text, data = parsed
    if not isinstance(data, dict):
        return [Problem(str(path), None, "", "must hold a table of settings")]
    is_yaml = path.suffix.lower() in (".yaml", ".yml")
    privacy = data.get("privacy")
    inline: dict[str, Any] = privacy if isinstance(privacy, dict) else {}
    policy: tuple[Path, str, dict[str, Any]] | None = None
    if isinstance(privacy, dict) and privacy.get("policy"):
        policy_path = Path(str(privacy["policy"])).expanduser()
        policy_path = policy_path if policy_path.is_absolute() else (path.parent / policy_path).resolve()
        got = _parse(policy_path)
        if isinstance(got, Problem):
            return [Problem(got.file, got.line or line_of(text, ("privacy", "policy"), is_yaml=is_yaml),
                            got.where or "privacy.policy", got.message)]
        if not isinstance(got[1], dict):
            return [Problem(str(policy_path), None, "", "must hold a table of settings")]
        policy = (policy_path, got[0], got[1])
        data = {**data, "privacy": {**got[1], **privacy, "policy": str(policy_path)}}
    try:
        Settings.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            where = ".".join(str(p) for p in loc) or "(top level)"
            from_policy = (policy is not None and len(loc) > 1 and loc[0] == "privacy"
                           and loc[1] in policy[2] and loc[1] not in inline)
            if policy is not None and from_policy:
                line = line_of(policy[1], loc[1:], is_yaml=False)
                problems.append(Problem(str(policy[0]), line, where, _message(err)))
            else:
                problems.append(Problem(str(path), line_of(text, loc, is_yaml=is_yaml), where, _message(err)))
        return sorted(problems, key=lambda p: (p.file != str(path), p.file, p.line or 0))
    return _check_loaded(path, text, is_yaml)


def _check_loaded(path: Path, text: str, is_yaml: bool) -> list[Problem]:
    """What only the loaded settings can tell: files that must exist, names that must resolve."""
    def problem(loc: tuple[str | int, ...], message: str) -> Problem:
        return Problem(str(path), line_of(text, loc, is_yaml=is_yaml), ".".join(map(str, loc)), message)

    try:
        s = load_settings(path)
    except ConfigError as exc:
        return [Problem(str(path), None, "", str(exc))]
    files: list[tuple[tuple[str | int, ...], Path | None]] = [
        (("stt", "model"), s.stt.model), (("tts", "voice"), s.tts.voice), (("llm", "model"), s.llm.model),
        (("home", "demo_home"), s.home.demo_home),
        *((("wake", "models", i, "path"), m.path) for i, m in enumerate(s.wake.models)),
    ]
    problems = [problem(loc, f"{p} does not exist") for loc, p in files if p is not None and not p.exists()]
    try:
        default = wake_model(s, s.wake.default)
    except ConfigError as exc:
        problems.append(problem(("wake", "default"), str(exc)))
    else:
        try:
            check_wake_models(s, [default])
        except ConfigError as exc:
            problems.append(problem(("licences", "commercial_use"), str(exc)))
    return problems
