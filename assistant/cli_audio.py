"""Audio subcommands: listen, models, devices."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.errors import HearthError
from assistant.events import Event, StageEvent, to_dict, to_json
from assistant.settings import WAKE_ENGINES, WakeModelSettings

if TYPE_CHECKING:
    from assistant.audio.chunk import AudioChunk
    from assistant.audio.sinks import AudioSink
    from assistant.models import ModelEntry


def add_commands(sub: Any, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    listen = sub.add_parser(
        "listen", help="run the voice loop on a file, stdin or the microphone",
        description="Wake word -> end of speech -> transcript -> action -> spoken reply.",
    )
    listen.add_argument("--input", metavar="FILE|-|mic", default="mic",
                        help="a sound file (WAV/FLAC/OGG, any rate), '-' for raw 16 kHz s16le PCM "
                        "on stdin, or 'mic' (default)")
    listen.add_argument("--realtime", action="store_true",
                        help="feed a file at real-time pace (wall times are what a person waits)")
    listen.add_argument("--wake-word", action="append", metavar="NAME",
                        help="wake model to listen for (repeatable; default from config: hey_jarvis)")
    listen.add_argument("--wake-engine", choices=WAKE_ENGINES, metavar="NAME",
                        help="wake engine: openwakeword or microwakeword (default from config)")
    listen.add_argument("--no-wake", action="store_true",
                        help="treat the input as speech that follows a wake word")
    listen.add_argument("--output", metavar="WAV", type=Path,
                        help="write the spoken reply to this WAV file")
    listen.add_argument("--speaker", action="store_true", help="play the reply on the speaker")
    listen.add_argument("--json", action="store_true", help="one JSON line per event")
    add_common(listen)
    listen.set_defaults(run=_cmd_listen)

    models = sub.add_parser("models", help="list the models and check that each loads")
    models.add_argument("--json", action="store_true")
    models.add_argument("--no-load", action="store_true", help="check files and sha256 only")
    add_common(models)
    models.set_defaults(run=_cmd_models)

    say = sub.add_parser("say", help="speak TEXT with the Piper voice to a 16 kHz WAV (test audio)")
    say.add_argument("text")
    say.add_argument("--output", type=Path, required=True, metavar="WAV")
    say.add_argument("--pad-ms", type=int, default=0, help="silence before and after")
    add_common(say)
    say.set_defaults(run=_cmd_say)

    devices = sub.add_parser("devices", help="list microphones and speakers")
    devices.add_argument("--json", action="store_true")
    add_common(devices)
    devices.set_defaults(run=_cmd_devices)


def _print_event_text(event: Event) -> None:
    if isinstance(event, StageEvent):  # the stages' timings are for --json and the server
        return
    d = to_dict(event)
    kind = d.pop("type")
    t_audio = d.pop("t_audio_ms")
    t_wall = d.pop("t_wall_ms")
    where = f"{t_audio / 1000:6.2f}s" if t_audio is not None else "      "
    detail = " ".join(f"{k}={v}" for k, v in d.items() if v not in (None, "", [], {}))
    sys.stdout.write(f"[{where} | wall {t_wall:7.0f} ms] {kind:12} {detail}\n")
    sys.stdout.flush()


def _print_event_json(event: Event) -> None:
    sys.stdout.write(to_json(event) + "\n")
    sys.stdout.flush()


def audio_input(spec: str, settings: Settings, *, realtime: bool,
                tail_silence_ms: int) -> Iterator[AudioChunk]:
    """``--input``: '-' (raw PCM on stdin), 'mic', or a sound file, opened (and checked)
    now. A room goes quiet after a command: a file ends with ``tail_silence_ms`` of silence
    so the VAD sees the end."""
    from assistant.audio import sources

    if spec == "-":
        return sources.stdin_source()
    if spec == "mic":
        return sources.microphone_source(settings.audio.input_device, block_ms=settings.audio.block_ms)
    return sources.file_source(spec, realtime=realtime, tail_silence_ms=tail_silence_ms)


def reply_sink(output: Path | None, speaker: bool, settings: Settings) -> AudioSink:
    """Where the spoken reply goes: ``--output`` WAV, else ``--speaker``, else nowhere."""
    from assistant.audio.sinks import NullSink, SpeakerSink, WavSink

    if output:
        return WavSink(output)
    if speaker:
        return SpeakerSink(settings.audio.output_device)
    return NullSink()


def _cmd_listen(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.runtime import Hearing, Runtime
    from assistant.wake.factory import with_engine

    settings = with_engine(settings, args.wake_engine)
    emit = _print_event_json if args.json else _print_event_text
    # open (and validate) the input before loading models
    chunks = audio_input(args.input, settings, realtime=args.realtime, tail_silence_ms=1000)
    sink = reply_sink(args.output, args.speaker, settings)
    hearing = Hearing(wake_words=tuple(args.wake_word or ()), use_wake=not args.no_wake,
                      speak=bool(args.output or args.speaker), progress=not args.json)
    with Runtime(settings, emit=emit, hearing=hearing, sink=sink) as assistant:
        before = {e.entity_id: assistant.home.get_state(e.entity_id) for e in assistant.home.entities()}
        if args.input == "mic":
            assistant.skills.start_ringing()  # someone is there to hear a timer ring
            sys.stderr.write(f"listening for {', '.join(args.wake_word or [settings.wake.default])} "
                             "(Ctrl-C to stop)\n")
            sys.stderr.flush()
        assistant.listen(chunks, wake_required=not args.no_wake)
        if not args.json:
            for entity_id, old in before.items():
                new = assistant.home.get_state(entity_id)
                if (new.state, dict(new.attributes)) != (old.state, dict(old.attributes)):
                    sys.stdout.write(f"home: {entity_id}: {old.state} -> {new.state} "
                                     f"{json.dumps(dict(new.attributes))}\n")
            if args.output:
                sys.stdout.write(f"reply audio: {args.output}\n")
    return 0


def _cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    from assistant import models
    from assistant.licences import engine_rows

    rows = []
    failed = 0
    for m in models.registry():
        row: dict[str, Any] = {"name": m.name, "kind": m.kind, "package": m.package, "licence": m.licence,
                               "engine": m.engine, "commercial_use": m.commercial_use}
        try:
            row["path"] = str(models.check(m.name))
            if not args.no_load:
                _load(m, settings)
            row["status"] = "ok"
        except HearthError as exc:
            row["status"] = f"error: {exc}"
            failed += 1
        rows.append(row)
    engines = [{**e, "kind": "engine", "status": "ok" if e["version"] else "not installed"}
               for e in engine_rows()]
    if args.json:
        for row in [*rows, *engines]:
            sys.stdout.write(json.dumps(row) + "\n")
    else:
        for row in rows:
            sys.stdout.write(f"{row['name']:28} {row['kind']:13} {row['status']:6}  {row['licence']}\n")
        sys.stdout.write("\nengines (licences as their installed packages state them):\n")
        for e in engines:
            note = f"  ({e['note']})" if e["note"] else ""
            sys.stdout.write(f"{e['name']:28} {e['stage']:13} {e['version'] or '-':9} {e['licence']}{note}\n")
        if settings.licences.commercial_use:
            sys.stdout.write("\n[licences] commercial_use = true: non-commercial models are not used\n")
    if failed:
        raise HearthError(f"{failed} model(s) failed to load", code="model_unavailable")
    return 0


def _load(m: ModelEntry, settings: Settings) -> None:
    """Load a registry model the way the loop does, to prove it works."""
    kind, name = m.kind, m.name
    if kind == "wake" and m.engine == "microwakeword":
        from assistant.wake.microwakeword import MicroWakeWord

        MicroWakeWord([WakeModelSettings(name=name.removeprefix("mww_"))])
    elif kind == "wake":
        from assistant.wake.openwakeword import OpenWakeWord

        OpenWakeWord([WakeModelSettings(name=name)])
    elif kind == "vad":
        from assistant.vad.silero import SileroVad

        SileroVad()
    elif kind == "stt":
        from assistant.stt.whisper import WhisperStt

        WhisperStt(settings.stt).warm_up()
    elif kind == "tts":
        from assistant.tts.piper import PiperTts

        PiperTts(settings.tts).speak_all("ok")
    elif kind == "llm":
        try:
            from llama_cpp import Llama
        except ImportError:
            raise HearthError("llama-cpp-python is not installed", code="model_unavailable") from None
        from assistant.models import bundled_path

        Llama(model_path=str(bundled_path(name)), n_ctx=256, verbose=False)


def _cmd_devices(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.audio.sources import list_devices

    devices = list_devices()
    for d in devices:
        sys.stdout.write((json.dumps(d) if args.json else
                          f"{d['index']:3}  in:{d['inputs']:2} out:{d['outputs']:2}  {d['name']}") + "\n")
    if not devices and not args.json:
        sys.stdout.write("no audio devices found\n")
    return 0


def _cmd_say(args: argparse.Namespace, settings: Settings) -> int:
    import numpy as np
    import soxr

    from assistant.audio.chunk import SAMPLE_RATE, to_int16
    from assistant.audio.files import write_wav
    from assistant.tts.piper import PiperTts

    tts = PiperTts(settings.tts)
    audio = tts.speak_all(args.text).astype(np.float32) / 32768.0
    audio16 = to_int16(soxr.resample(audio, tts.sample_rate, SAMPLE_RATE))
    pad = np.zeros(SAMPLE_RATE * max(0, args.pad_ms) // 1000, np.int16)
    write_wav(args.output, np.concatenate([pad, audio16, pad]))
    return 0
