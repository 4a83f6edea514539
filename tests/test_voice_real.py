"""The whole loop with the real models on real and synthesized speech."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.audio.files import read_audio, write_wav
from assistant.audio.sources import samples_source
from assistant.events import to_dict
from tests.conftest import run_hearth, silence

pytestmark = pytest.mark.real


def listen(voice: Any, audio: np.ndarray, *, wake: bool = True) -> list[dict[str, Any]]:
    voice.events.clear()
    voice.listen(samples_source(audio, tail_silence_ms=1200), wake_required=wake)
    return [to_dict(e) for e in voice.events]


def reset(voice: Any, *entity_ids: str) -> None:
    for entity_id in entity_ids:
        domain = entity_id.split(".")[0]
        voice.home.call_service(f"{domain}.turn_off", entity_id, {})


def listen_realtime(voice: Any, audio: np.ndarray, *, wake: bool = True) -> list[dict[str, Any]]:
    voice.events.clear()
    voice.listen(samples_source(audio, realtime=True, tail_silence_ms=1200), wake_required=wake)
    return [to_dict(e) for e in voice.events]


def test_hey_jarvis_turn_on_the_kitchen_light(voice: Any, say: Any) -> None:
    reset(voice, "light.kitchen")
    events = listen_realtime(voice, np.concatenate([silence(500),
                                                    say("Hey Jarvis, turn on the kitchen light.")]))
    partials = [e for e in events if e["type"] == "transcript_partial"]
    events = [e for e in events if e["type"] not in ("transcript_partial", "stage_start", "stage_end")]
    kinds = [e["type"] for e in events]
    assert kinds == ["wake", "speech_start", "speech_end", "transcript", "intent", "action", "reply",
                     "tts_start"], kinds
    assert all(e["t_audio_ms"] is not None and e["t_wall_ms"] >= 0 for e in events)
    assert events[0]["wake_word"] == "hey_jarvis"
    assert events[3]["text"].lower().rstrip(".") == "turn on the kitchen light"
    assert events[5]["service"] == "light.turn_on" and events[5]["entity_id"] == "light.kitchen"
    assert voice.home.get_state("light.kitchen").state == "on"
    # heard while speaking, on the other core: the words so far before the end of speech
    assert partials and partials[0]["t_wall_ms"] < events[2]["t_wall_ms"]
    assert partials[0]["text"].lower().startswith("turn")


@pytest.mark.parametrize(("first", "rest", "entity_id"), [
    ("Hey Jarvis, turn on", "the hallway light.", "light.hallway"),
    ("Hey Jarvis, set the bedroom light to", "fifty percent.", "light.bedroom"),
])
def test_a_pause_mid_sentence_does_not_cut_the_person_off(voice: Any, say: Any, first: str, rest: str,
                                                          entity_id: str) -> None:
    reset(voice, entity_id)
    # Piper's voice varies run to run; the 0.6 s pause is 0.8 s of silence with its own padding
    events = listen(voice, np.concatenate([silence(300), say(first), silence(600), say(rest)]))
    heard = [(e["type"], e.get("text") or e.get("reason")) for e in events if e["type"] != "wake"]
    assert [e["type"] for e in events].count("transcript") == 1, heard
    assert [e["entity_id"] for e in events if e["type"] == "action"] == [entity_id], heard
    assert voice.home.get_state(entity_id).state == "on"


@pytest.mark.parametrize(
    ("voice_name", "speed", "pitch", "text", "entity_id", "state"),
    [
        ("en-us", 150, 50, "turn on the bedroom light", "light.bedroom", "on"),
        ("en-gb", 175, 40, "switch on the coffee maker", "switch.coffee_maker", "on"),
        ("en-us+f3", 140, 60, "turn on the hallway light", "light.hallway", "on"),
        ("en-gb-x-rp", 190, 50, "start the vacuum", "vacuum.robot", "cleaning"),
    ],
)
def test_espeak_voices_and_speeds(voice: Any, espeak: Any, voice_name: str, speed: int, pitch: int,
                                  text: str, entity_id: str, state: str) -> None:
    voice.home.call_service(f"{entity_id.split('.')[0]}.{'stop' if 'vacuum' in entity_id else 'turn_off'}",
                            entity_id, {})
    events = listen(voice, np.concatenate([silence(300), espeak(text, voice_name, speed, pitch)]),
                    wake=False)
    transcript = next(e for e in events if e["type"] == "transcript")["text"]
    assert voice.home.get_state(entity_id).state == state, transcript


def test_espeak_hey_jarvis_wakes_and_acts(voice: Any, espeak: Any) -> None:
    reset(voice, "light.bathroom")
    audio = np.concatenate([silence(500), espeak("hey jarvis, turn on the bathroom light", "en-us", 150)])
    events = listen(voice, audio)
    assert [e["type"] for e in events][:2] == ["stage_start", "wake"]  # the wake stage's own event
    assert voice.home.get_state("light.bathroom").state == "on"


def test_real_recording_transcribes_exactly(voice: Any, eval_data: Path) -> None:
    audio = read_audio(eval_data / "speech/wyoming_faster_whisper/living_room_light_en.wav")
    assert voice.stt.transcribe(audio) == "Turn on the living room light."


def test_real_recording_after_hey_jarvis_turns_on_the_ceiling_light(voice: Any, say: Any,
                                                                    eval_data: Path) -> None:
    reset(voice, "light.living_room_ceiling", "light.floor_lamp")
    command = read_audio(eval_data / "speech/wyoming_faster_whisper/living_room_light_en.wav")
    events = listen(voice, np.concatenate([silence(400), say("Hey Jarvis."), command]))
    actions = [e for e in events if e["type"] == "action"]
    assert [a["entity_id"] for a in actions] == ["light.living_room_ceiling"], [
        (e["type"], e.get("text"), e.get("reason")) for e in events]
    assert voice.home.get_state("light.living_room_ceiling").state == "on"
    assert voice.home.get_state("light.floor_lamp").state == "off"


def test_speech_without_the_wake_word_does_nothing(voice: Any, say: Any) -> None:
    reset(voice, "light.kitchen")
    events = listen(voice, np.concatenate([silence(500), say("Turn on the kitchen light, please."),
                                           say("Set the thermostat to twenty five degrees.")]))
    assert events == []
    assert voice.home.get_state("light.kitchen").state == "off"


def test_two_commands_in_one_stream(voice: Any, say: Any) -> None:
    reset(voice, "light.kitchen", "switch.tv")
    audio = np.concatenate([silence(400), say("Hey Jarvis, turn on the kitchen light."), silence(2500),
                            say("Hey Jarvis, turn on the TV."), silence(500)])
    events = listen(voice, audio)
    assert [e["entity_id"] for e in events if e["type"] == "action"] == ["light.kitchen", "switch.tv"], [
        (e["type"], e.get("text"), e.get("reason")) for e in events]


def test_cli_listen_json_events_and_reply_wav(tmp_path: Path, say: Any) -> None:
    wav = tmp_path / "cmd.wav"
    write_wav(wav, np.concatenate([silence(500), say("Hey Jarvis, turn on the desk lamp.")]))
    proc = run_hearth("listen", "--input", str(wav), "--json", "--output", str(tmp_path / "reply.wav"))
    assert proc.returncode == 0, proc.stderr.decode()
    events = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert all({"type", "t_audio_ms", "t_wall_ms"} <= set(e) for e in events)
    kinds = [e["type"] for e in events]
    assert kinds.index("wake") < kinds.index("speech_end") < kinds.index("action") < kinds.index("tts_start")
    action = next(e for e in events if e["type"] == "action")
    assert (action["service"], action["entity_id"]) == ("light.turn_on", "light.desk_lamp")
    reply = read_audio(tmp_path / "reply.wav")
    assert len(reply) > 8000 and np.abs(reply).max() > 1000


def test_cli_listen_converts_other_formats(eval_data: Path) -> None:
    """44.1 kHz stereo WAV, given with --no-wake."""
    src = eval_data / "speech/wyoming_faster_whisper/turn_on_the_living_room_lamp.wav"
    proc = run_hearth("listen", "--input", str(src), "--no-wake", "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    events = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert any(e["type"] == "action" and e["entity_id"] == "light.floor_lamp" for e in events)


def test_cli_listen_stdin_raw_pcm(say: Any) -> None:
    audio = np.concatenate([silence(300), say("Hey Jarvis, turn on the kitchen light."), silence(1500)])
    proc = run_hearth("listen", "--input", "-", "--json", input=audio.astype("<i2").tobytes())
    assert proc.returncode == 0, proc.stderr.decode()
    assert '"entity_id": "light.kitchen"' in proc.stdout.decode()


def test_hearth_models_all_load() -> None:
    proc = run_hearth("models", "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    rows = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    models = [r for r in rows if r["kind"] != "engine"]  # engine rows name a package and its licence
    assert {r["kind"] for r in models} >= {"wake", "vad", "stt", "tts", "llm"}
    assert all(r["status"] == "ok" for r in models), models
    assert all(r["licence"] for r in rows), rows


def test_missing_and_corrupt_models_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00not a model")
    for model_line in (f'path = "{tmp_path / "missing.onnx"}"', f'path = "{bad}"'):
        cfg = tmp_path / "c.toml"
        cfg.write_text(f'[wake]\ndefault = "mine"\n[[wake.models]]\nname = "mine"\n{model_line}\n')
        wav = tmp_path / "a.wav"
        write_wav(wav, silence(1000))
        proc = run_hearth("listen", "--input", str(wav), "--config", str(cfg), "--json")
        err = proc.stderr.decode().strip()
        assert proc.returncode != 0 and len(err.splitlines()) == 1 and "Traceback" not in err, err
        assert "wake" in err
    cfg.write_text(f'[stt]\nmodel = "{tmp_path / "no-whisper"}"\n')
    proc = run_hearth("listen", "--input", str(wav), "--config", str(cfg), "--no-wake", "--json")
    assert proc.returncode != 0 and "speech-to-text model not found" in proc.stderr.decode()


def _reply_echo(voice: Any, text: str) -> np.ndarray:
    """The assistant's reply as its microphone hears it (a little quieter than it plays)."""
    import soxr

    from assistant.audio.chunk import to_int16

    raw = voice.tts.speak_all(text).astype(np.float32) / 32768.0
    return to_int16(0.7 * soxr.resample(raw, voice.tts.sample_rate, 16000))


def _mix_at(base: np.ndarray, part: np.ndarray, at_ms: float) -> np.ndarray:
    start = int(at_ms * 16)
    out = np.concatenate([base, np.zeros(max(0, start + len(part) - len(base)), np.int16)]).astype(np.int32)
    out[start:start + len(part)] += part
    return np.clip(out, -32768, 32767).astype(np.int16)


def test_its_own_reply_fed_back_does_not_wake_it(voice: Any, say: Any) -> None:
    reset(voice, "light.kitchen")
    command = np.concatenate([silence(500), say("Hey Jarvis, turn on the kitchen light.")])
    first = listen(voice, command)
    end = next(e for e in first if e["type"] == "speech_end")["t_audio_ms"]
    reply = next(e for e in first if e["type"] == "reply")["text"]
    reset(voice, "light.kitchen")
    # the reply plays from the end of the turn; the microphone hears all of it
    events = listen(voice, _mix_at(command, _reply_echo(voice, reply), end + 300))
    kinds = [e["type"] for e in events]
    assert kinds.count("wake") == 1 and "tts_stop" not in kinds, kinds
    assert kinds.count("transcript") == 1


class Room:
    """A microphone that hears the person and, at ``echo_gain``, whatever the speaker plays
    while it plays (a reply that is paused or stopped stops being heard). ``paced``: the
    chunks come at the pace of a real microphone (otherwise as fast as the loop reads them,
    the reply starting where a speaker would have started it)."""

    def __init__(self, person: np.ndarray, echo_gain: float, *, paced: bool = False) -> None:
        self.person, self.gain, self.paced = person, echo_gain, paced
        self.echo = np.zeros(len(person), np.float32)
        self.heard_to = 0  # samples delivered so far: what plays from now on can still be heard
        self.playing_until = 0
        self.held: np.ndarray | None = None  # the rest of a paused reply
        self.started = threading.Event()
        self._lock = threading.Lock()

    def _place(self, part: np.ndarray, start: int) -> None:
        end = min(len(self.echo), start + len(part))
        self.echo[start:end] += part[: max(0, end - start)]
        self.playing_until = start + len(part)

    def play(self, samples: np.ndarray, rate: int) -> None:
        import soxr

        part = soxr.resample(samples.astype(np.float32), rate, 16000) * self.gain
        with self._lock:
            if self.held is not None:
                self.held = np.concatenate([self.held, part])
            else:
                self._place(part, max(self.heard_to, self.playing_until))
        self.started.set()

    def finish(self) -> None:
        pass

    def pause(self) -> None:
        with self._lock:
            self.held = self.echo[self.heard_to:self.playing_until].copy()
            self.echo[self.heard_to:] = 0.0
            self.playing_until = self.heard_to

    def resume(self) -> None:
        with self._lock:
            held, self.held = self.held, None
            if held is not None:
                self._place(held, self.heard_to)

    def stop(self) -> None:
        with self._lock:
            self.echo[self.heard_to:] = 0.0
            self.playing_until = self.heard_to
            self.held = None

    def chunks(self) -> Any:
        import time

        from assistant.audio.chunk import AudioChunk

        began = time.monotonic()
        for pos in range(0, len(self.person) - 1279, 1280):
            if self.paced:
                time.sleep(max(0.0, began + (pos + 1280) / 16000 - time.monotonic()))
            elif pos == 1280:  # faster than real time: let the reply start where a speaker
                self.started.wait(timeout=30)  # would have, not wherever the CPU allows
            with self._lock:
                mixed = self.person[pos:pos + 1280] + self.echo[pos:pos + 1280]
                self.heard_to = pos + 1280
            yield AudioChunk(np.clip(mixed, -32768, 32767).astype(np.int16), pos / 16.0)


def _room_loop(voice: Any, room: Room) -> Any:
    from assistant.loop import VoiceLoop

    return VoiceLoop(voice.settings, pipeline=voice.pipeline, stt=voice.stt, vad=voice.vad,
                     frame_ms=voice.loop.endpointer.frame_ms, wake=voice.wake, tts=voice.tts, sink=room,
                     emit=voice.events.append, announcements=voice.skills.announcements)


def test_its_own_voice_played_loud_in_the_room_neither_pauses_nor_wakes_it(voice: Any) -> None:
    from assistant.skills.announce import Announcement

    for text in ("Hey, the garage door has been open for an hour. Shall I close it?",
                 "Your pasta timer is done. It has been ringing for a while, so the water may be "
                 "boiling over."):
        voice.skills.announcements.put(Announcement(text=text, skill="timers", area=None))
        room = Room(silence(7000), echo_gain=1.0)
        voice.events.clear()
        _room_loop(voice, room).run(room.chunks())
        kinds = [to_dict(e)["type"] for e in voice.events]
        assert "tts_start" in kinds and not {"tts_pause", "wake", "tts_stop"} & set(kinds), kinds


@pytest.mark.parametrize("echo_gain", [0.3, 0.6])
def test_the_wake_word_during_the_reply_stops_it_and_is_heard(voice: Any, say: Any,
                                                               echo_gain: float) -> None:
    from assistant.skills.announce import Announcement

    voice.home.call_service("light.turn_on", "light.kitchen", {})
    text = "Your pasta timer is done. It has been ringing for a while, so the water may be boiling over."
    for _attempt in range(4):  # a wake word said over a loud echo is missed now and then: Piper says
        # "Hey Jarvis" a little differently each time, and at 0.6 of the reply's level about one in
        # three is missed here (two tries failed the test in 1-5 of 8 runs); how often is the
        # bench's question (bench/bench_barge_in.py). The person, unheard, says it again: a stop
        # that goes wrong, or a command missed after the stop, still fails
        voice.skills.announcements.put(Announcement(text=text, skill="timers", area=None))
        # the timer's announcement plays from the first chunk; 1 s in, the person talks over it and,
        # as people do, waits a moment for it to stop (words said over a loud echo before the stop,
        # which comes ~0.3 s after the wake word, are garbled: there is no echo cancellation)
        room = Room(np.concatenate([silence(1000), say("Hey Jarvis."), silence(400),
                                    say("Turn off the kitchen light."), silence(2500)]), echo_gain)
        voice.events.clear()
        _room_loop(voice, room).run(room.chunks())
        events = [to_dict(e) for e in voice.events]
        kinds = [e["type"] for e in events if e["type"] not in ("stage_start", "stage_end")]
        if "wake" in kinds:
            break
    assert kinds.count("wake") == 1 and kinds.count("tts_stop") == 1, kinds
    # silent from the first-stage detection, stopped for good when its check accepted
    assert kinds.index("tts_pause") == kinds.index("wake") - 1
    assert kinds.index("tts_stop") == kinds.index("wake") + 1
    assert voice.home.get_state("light.kitchen").state == "off"
