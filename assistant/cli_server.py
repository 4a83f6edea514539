"""Server subcommands: ``hearth serve`` (the daemon) and ``hearth satellite`` (a room's ears)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from assistant.config import Settings
from assistant.errors import ConfigError, HearthError
from assistant.models import quiet_openmp

TOKEN_ENV = "HEARTH_TOKEN"
SATELLITE_TOKEN_ENV = "HEARTH_SATELLITE_TOKEN"


def add_commands(sub: Any, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    serve = sub.add_parser(
        "serve", help="run the home server: HTTP API, dashboard, satellites, microphone",
        description="The daemon: HTTP API and dashboard, Wyoming satellites and services, and "
        "the local microphone loop when server.microphone is set. Stops cleanly on SIGTERM.",
    )
    serve.add_argument("--host",
                       help="HTTP address (default 127.0.0.1; anything else needs a token)")
    serve.add_argument("--port", type=int, help="HTTP port (default 8740)")
    serve.add_argument("--wyoming-port", type=int, metavar="W",
                       help="Wyoming port for satellites and services (default 10700; 0 = off)")
    serve.add_argument("--token", help=f"API token (prefer ${TOKEN_ENV} or the config file: "
                       "arguments are visible to other users)")
    serve.add_argument("--microphone", action=argparse.BooleanOptionalAction, default=None,
                       help="run the voice loop on this machine's microphone")
    serve.add_argument("--log-format", choices=["json", "text"], help="default: json")
    add_common(serve)
    serve.set_defaults(run=_cmd_serve)

    sat = sub.add_parser(
        "satellite", help="stream a microphone (or a WAV) to a Hearth server over Wyoming",
        description="Turn this machine into a satellite: audio goes to the server, the reply "
        "comes back. The wake word runs on the server unless --wake-on satellite.",
    )
    sat.add_argument("--server", required=True, metavar="tcp://HOST:PORT",
                     help="the server's Wyoming address (tls://HOST:PORT for TLS)")
    sat.add_argument("--name", required=True,
                     help="this satellite's name, as configured on the server")
    sat.add_argument("--area", required=True, help="the room it is in (name or id)")
    sat.add_argument("--token", help=f"its token (or ${SATELLITE_TOKEN_ENV})")
    sat.add_argument("--input", default="mic", metavar="FILE|-|mic",
                     help="a sound file, '-' for raw 16 kHz s16le PCM on stdin, or 'mic' (default)")
    sat.add_argument("--output", type=Path, metavar="WAV", help="write the spoken reply here")
    sat.add_argument("--speaker", action="store_true", help="play the reply on the speaker")
    sat.add_argument("--wake-on", choices=["server", "satellite"], default="server",
                     help="where the wake word runs (default: server)")
    sat.add_argument("--wake-word", help="wake model (default: the config's, hey_jarvis)")
    sat.add_argument("--ca", type=Path, help="CA certificate to trust for tls://")
    sat.add_argument("--no-realtime", action="store_true",
                     help="send a file as fast as possible instead of at real-time pace")
    sat.add_argument("--json", action="store_true",
                     help="print each event as a JSON line, then a summary line")
    add_common(sat)
    sat.set_defaults(run=_cmd_satellite)


def server_settings(args: argparse.Namespace, settings: Settings) -> Settings:
    """The config's ``[server]`` with the command line (and ``$HEARTH_TOKEN``) on top."""
    over: dict[str, Any] = {}
    for key in ("host", "port", "wyoming_port", "microphone", "log_format"):
        value = getattr(args, key, None)
        if value is not None:
            over[key] = value
    token = args.token or os.environ.get(TOKEN_ENV)
    if token:
        over["token"] = token
    data = settings.server.model_dump()
    data.update(over)
    try:
        server = type(settings.server).model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"server settings: {where + ': ' if where else ''}{msg}") from None
    problem = server.unsafe_binding()
    if problem:
        raise ConfigError(f"server settings: {problem}")
    return settings.model_copy(update={"server": server})


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    quiet_openmp()  # before any model loads (docs/server.md, "Latency")
    _limit_malloc_arenas()
    from assistant.server.daemon import Daemon
    from assistant.server.logs import setup_logging

    settings = server_settings(args, settings)
    setup_logging(settings.server.log_format, verbose=args.verbose)
    return Daemon(settings).run()


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives each thread that allocates its own malloc arena; with a thread per
    satellite that cost ~55 MB of RSS per satellite instead of ~37 (bench_satellites).
    Same as MALLOC_ARENA_MAX=2, set at run time; a no-op off glibc."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def _cmd_satellite(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from assistant.cli_audio import audio_input, reply_sink
    from assistant.satellite import Satellite
    from assistant.satellite_run import run_satellite, run_satellite_forever

    token = args.token or os.environ.get(SATELLITE_TOKEN_ENV)
    if not token:
        raise HearthError(f"give the satellite's token with --token or ${SATELLITE_TOKEN_ENV}",
                          code="bad_input")
    # a second and a half of silence after a file ends the turn on the server
    chunks = audio_input(args.input, settings, realtime=not args.no_realtime, tail_silence_ms=1500)
    sink = reply_sink(args.output, args.speaker, settings)

    def show(event: dict[str, Any]) -> None:
        if args.json:
            sys.stdout.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
        else:
            detail = " ".join(f"{k}={v}" for k, v in event.items()
                              if k not in ("type", "t_wall_ms", "t_audio_ms", "candidates")
                              and v not in (None, "", [], {}))
            sys.stdout.write(f"{event['type']:12} {detail}\n")
        sys.stdout.flush()

    local_wake = None
    if args.wake_on == "satellite":  # before any audio flows
        from assistant.wake.factory import build_wake_detector

        local_wake = build_wake_detector(settings, [args.wake_word or settings.wake.default])

    def make() -> Satellite:
        return Satellite(args.server, name=args.name, area=args.area, token=token,
                         wake_on=args.wake_on, wake_word=args.wake_word or settings.wake.default,
                         ca_file=args.ca, sink=sink, on_event=show, local_wake=local_wake)

    def say(message: str) -> None:
        sys.stderr.write(f"hearth satellite: {message}\n")
        sys.stderr.flush()

    if args.input == "mic":
        summary = asyncio.run(run_satellite_forever(make, chunks, say=say))
    else:
        summary = asyncio.run(run_satellite(make(), chunks))
    if args.json:
        sys.stdout.write(json.dumps({"type": "summary", **summary.as_json()}) + "\n")
    else:
        sys.stdout.write(f"{len(summary.turns)} turn(s), "
                         f"{summary.audio_sent_s:.1f} s of audio sent\n")
        if args.output and summary.turns:
            sys.stdout.write(f"reply audio: {args.output}\n")
    for err in summary.errors:
        sys.stderr.write(f"hearth satellite: {err}\n")
    return 0
