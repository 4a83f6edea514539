"""The ``hearth`` command: ask, listen, models, devices (and more as they land).

Every subcommand takes ``--config``; any :class:`HearthError` becomes one line on
stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from assistant import __version__
from assistant.config import Settings, find_config, load_settings
from assistant.errors import HearthError
from assistant.events import Event
from assistant.limits import too_long_for_text
from assistant.privacy import cli as privacy_cli

EXIT_USAGE = 2

Command = Callable[[argparse.Namespace, Settings], int]


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="settings file (TOML or YAML); default: $HEARTH_CONFIG, "
                   "~/.config/hearth/config.toml, /etc/hearth/config.toml, the packaged one")
    p.add_argument("-v", "--verbose", action="store_true", help="log what each stage does to stderr")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hearth",
        description="Hearth: a private voice assistant for your home. The edge does what it can; "
        "the cloud is a permitted exception.",
    )
    parser.add_argument("--version", action="version", version=f"hearth {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    ask = sub.add_parser("ask", help="one turn from text", description="Understand and act on TEXT.")
    ask.add_argument("text", nargs="?", help="what you would say, e.g. 'turn on the kitchen light'")
    ask.add_argument("--area", help="the area the request comes from (name or id); default: the device's")
    ask.add_argument("--dry-run", action="store_true", help="decide the actions without applying them")
    ask.add_argument("--json", action="store_true", help="print one JSON object per turn")
    ask.add_argument("--batch", metavar="FILE|-",
                     help="one utterance per line, or JSON lines with 'text' and optional 'area'")
    privacy_cli.add_ask_options(ask)
    _add_common(ask)
    ask.set_defaults(run=_cmd_ask)

    home = sub.add_parser("home", help="show the home's entities and states, or reset the demo home")
    home.add_argument("action", nargs="?", choices=["show", "reset"], default="show")
    home.add_argument("--entity", help="only this entity_id")
    home.add_argument("--json", action="store_true")
    _add_common(home)
    home.set_defaults(run=_cmd_home)

    from assistant import cli_audio, cli_config, cli_server, cli_skills, cli_wake

    cli_audio.add_commands(sub, _add_common)
    cli_config.add_commands(sub, _add_common)
    cli_skills.add_commands(sub, _add_common)
    cli_wake.add_commands(sub, _add_common)
    cli_server.add_commands(sub, _add_common)
    privacy_cli.add_commands(sub, _add_common)
    return parser


def _print_turn(result: Any, as_json: bool, out: TextIO,
                privacy: tuple[dict[str, Any], str] | None = None) -> None:
    if as_json:
        obj = result.as_json()
        if privacy is not None:
            obj["privacy"] = privacy[0]
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    else:
        out.write(result.reply + "\n")
        if privacy is not None and privacy[1]:
            out.write(privacy[1] + "\n")
        for a in result.applied:
            out.write(f"  -> {a.service} {a.entity_id} {json.dumps(a.data) if a.data else ''}\n")
    out.flush()


def _cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.cli_batch import LineError, Utterance, batch_lines
    from assistant.runtime import Runtime

    if not args.text and not args.batch:
        raise HearthError("give TEXT to ask, or --batch FILE", code="bad_input")
    if args.text and (why := too_long_for_text(args.text)) is not None:
        raise HearthError(why, code="bad_input")
    settings = privacy_cli.with_mode(settings, args.privacy)
    dry_run = args.dry_run or args.explain
    events: list[Event] = []
    bad = 0
    with Runtime(settings, emit=events.append, explain=args.explain) as assistant:
        if args.batch:
            assistant.load_local_llm()  # at the start, as the server does: not in the first line's time
            for item in batch_lines(args.batch):
                events.clear()
                if isinstance(item, Utterance):
                    try:
                        result = assistant.ask(item.text, area=item.area or args.area,
                                               dry_run=dry_run)
                    except HearthError as exc:  # this line only (an unknown area): go on
                        item = LineError(item.line, str(exc), code=exc.code, text=item.text,
                                         field="area" if exc.code == "unknown_area" else None)
                    else:
                        _print_turn(result, args.json, sys.stdout, privacy_cli.turn_report(
                            result.privacy, settings, explain=args.explain))
                        continue
                bad += 1
                if args.json:
                    sys.stdout.write(json.dumps(item.as_json(), ensure_ascii=False) + "\n")
                    sys.stdout.flush()
                sys.stderr.write(f"hearth: {item}\n")
        else:
            result = assistant.ask(args.text, area=args.area, dry_run=dry_run)
            _print_turn(result, args.json, sys.stdout,
                        privacy_cli.turn_report(result.privacy, settings,
                                                explain=args.explain))
    return EXIT_USAGE if bad else 0


def _cmd_home(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.home import open_home

    if args.action == "reset":
        db = settings.home.state_db or settings.data_dir / "home.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    home = open_home(settings)
    try:
        entities = [home.entity(args.entity)] if args.entity else home.entities()
        for e in entities:
            st = home.get_state(e.entity_id)
            if args.json:
                sys.stdout.write(json.dumps({"entity_id": e.entity_id, "name": e.name, "area": e.area,
                                             "state": st.state, "attributes": dict(st.attributes),
                                             "available": st.available}) + "\n")
            else:
                sys.stdout.write(f"{e.entity_id:30} {st.state:10} {json.dumps(dict(st.attributes))}\n")
    finally:
        home.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    from assistant.models import quiet_openmp

    quiet_openmp()  # before any model runtime loads
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        if not getattr(args, "needs_settings", True):  # `hearth config`: a broken config is its input
            return int(args.run(args, None))
        settings = load_settings(find_config(args.config))
        return int(args.run(args, settings))
    except HearthError as exc:
        sys.stderr.write(f"hearth: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        logging.getLogger("hearth").debug("unexpected error", exc_info=True)
        sys.stderr.write(f"hearth: unexpected {type(exc).__name__}: {exc} (run with -v for details)\n")
        return 1
