"""Satellites in separate processes over TCP on 127.0.0.1, and Hearth's Wyoming services.

One server for the module; each satellite is a real `hearth satellite` process streaming
a WAV synthesized once per session ("Hey Jarvis, turn on the light.") in real time.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from server_helpers import (
    HEARTH,
    TOKEN,
    Server,
    WyEvent,
    audio_events,
    finish,
    satellite,
    speech_file,
    wyoming_exchange,
)

from assistant.audio.files import read_audio

pytestmark = pytest.mark.real

LIGHT = "Hey Jarvis, turn on the light."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("satellite-server"), trusted=()).start()
    yield srv
    assert srv.stop() == 0


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="session")
def light_wav(audio_dir: Path, say: Callable[[str], np.ndarray]) -> Path:
    return speech_file(audio_dir, say, LIGHT)


def _summary(lines: list[dict[str, object]]) -> dict[str, object]:
    summary = lines[-1]
    assert summary["type"] == "summary", lines
    return summary


def test_two_rooms_turn_on_their_own_light_at_the_same_time(server: Server, light_wav: Path,
                                                             tmp_path: Path) -> None:
    assert server.entity_state("light.kitchen") == "off"
    assert server.entity_state("light.bedroom") == "off"
    procs = {name: satellite(server, name, light_wav, output=tmp_path / f"{name}.wav")
             for name in ("kitchen", "bedroom")}
    results = {name: finish(p) for name, p in procs.items()}
    for name, (rc, lines, err) in results.items():
        assert rc == 0, err
        turns = _summary(lines)["turns"]
        assert isinstance(turns, list) and len(turns) == 1, (name, lines)
        (turn,) = turns
        assert turn["transcript"].lower().startswith("turn on the light"), turn
        assert turn["actions"] == [{"service": "light.turn_on", "entity_id": f"light.{name}",
                                    "data": {}}], (name, turn)
        assert turn["end_to_action_ms"] is not None and turn["end_to_action_ms"] > 0
        kinds = [e["type"] for e in lines if not str(e["type"]).startswith("stage_")]
        assert kinds[:2] == ["wake", "speech_start"] and "action" in kinds and "reply" in kinds
        reply, rate = sf.read(str(tmp_path / f"{name}.wav"), dtype="int16")
        assert len(reply) / rate > 0.8 and np.abs(reply).max() > 1000  # a spoken reply came back
    assert server.entity_state("light.kitchen") == "on"
    assert server.entity_state("light.bedroom") == "on"
    assert server.entity_state("light.living_room_ceiling") == "off"  # the server's own room
    turns = server.json("GET", "/api/turns?limit=10")
    by_source = {t["source"]: t for t in turns if t["source"] in ("kitchen", "bedroom")}
    assert by_source["kitchen"]["area"] == "kitchen" and by_source["bedroom"]["area"] == "bedroom"
    assert by_source["kitchen"]["wake_word"] == "hey_jarvis"
    assert {"stt", "end_to_action", "tts"} <= set(by_source["bedroom"]["stages_ms"])


def test_wake_word_on_the_satellite(server: Server, light_wav: Path) -> None:
    assert server.entity_state("light.desk_lamp") == "off"
    rc, lines, err = finish(satellite(server, "office", light_wav,
                                      extra=("--wake-on", "satellite")))
    assert rc == 0, err
    assert lines[0]["type"] == "wake" and lines[0]["on"] == "satellite"
    (turn,) = _summary(lines)["turns"]  # type: ignore[misc]
    assert turn["actions"] == [{"service": "light.turn_on", "entity_id": "light.desk_lamp",
                                "data": {}}], lines
    assert server.entity_state("light.desk_lamp") == "on"
    health = server.json("GET", "/api/health")
    assert not any(s["connected"] for s in health["satellites"])  # all gone again


@pytest.mark.parametrize("name,token,area,reason", [
    ("garage", "garage-token-1", "garage", "unknown_satellite"),
    ("kitchen", "bedroom-token-1", "kitchen", "wrong_token"),
    ("bedroom", None, "the moon", "unknown_area"),
])
def test_unknown_or_wrong_token_satellites_are_refused_and_logged(
        server: Server, light_wav: Path, name: str, token: str | None, area: str,
        reason: str) -> None:
    rc, lines, err = finish(satellite(server, name, light_wav, token=token, area=area))
    assert rc == 2 and lines == []
    assert err.startswith(f"hearth: the server refused satellite '{name}'") and err.count("\n") == 1
    refusals = [r for r in server.records() if r.get("msg") == "wyoming connection refused"]
    assert refusals and refusals[-1]["reason"] == reason
    assert "token-1" not in server.log.read_text()  # tokens are never logged
    metrics = server.request("GET", "/metrics")[2].decode()
    assert f'hearth_wyoming_refusals_total{{reason="{reason}"}} 1.0' in metrics


def test_satellite_bad_arguments_are_one_line(server: Server, light_wav: Path) -> None:
    res = subprocess.run([HEARTH, "satellite", "--server", "http://127.0.0.1:1", "--name", "x",
                          "--area", "kitchen", "--token", "12345678", "--input", str(light_wav)],
                         capture_output=True, text=True, env=server.env, timeout=60)
    assert res.returncode == 2 and res.stderr.startswith("hearth: --server must look like")
    res = subprocess.run([HEARTH, "satellite", "--server", server.wyoming, "--name", "kitchen",
                          "--area", "kitchen", "--token", "kitchen-token-1", "--input",
                          "/no/such.wav"], capture_output=True, text=True, env=server.env,
                         timeout=60)
    assert res.returncode == 2 and "audio file not found" in res.stderr


# --- Hearth as a voice engine over Wyoming (what Home Assistant uses) --------------------


def _exchange(server: Server, events: list[WyEvent], until: str) -> list[WyEvent]:
    return asyncio.run(wyoming_exchange(server.wyoming_port, events,
                                        lambda kind: kind in (until, "error")))


def test_services_need_the_token_from_an_untrusted_address(server: Server) -> None:
    got = _exchange(server, [("describe", {}, None)], "info")
    assert got[-1][0] == "error" and got[-1][1]["code"] == "unauthorized"
    got = _exchange(server, [("auth", {"token": "wrong"}, None), ("describe", {}, None)], "info")
    assert got[-1][0] == "error"


def test_describe_lists_wake_stt_handle_and_tts(server: Server) -> None:
    got = _exchange(server, [("auth", {"token": TOKEN}, None), ("describe", {}, None)], "info")
    kind, info, _ = got[-1]
    assert kind == "info"
    assert [p["name"] for p in info["asr"]] == ["hearth-stt"]
    assert "hey_jarvis" in [m["name"] for m in info["wake"][0]["models"]]
    assert info["handle"][0]["supports_home_control"] is True and info["tts"]


def test_transcribe_detect_handle_and_synthesize(server: Server, light_wav: Path) -> None:
    speech = read_audio(light_wav)
    auth: list[WyEvent] = [("auth", {"token": TOKEN}, None)]
    got = _exchange(server, [*auth, ("transcribe", {"language": "en"}, None),
                             *audio_events(speech)], "transcript")
    assert got[-1][0] == "transcript"
    assert got[-1][1]["text"].lower().startswith("turn on the light")

    got = _exchange(server, [*auth, ("detect", {"names": ["hey_jarvis"]}, None),
                             *audio_events(speech)], "detection")
    assert got[-1][0] == "detection" and got[-1][1]["name"] == "hey_jarvis"
    assert 1000 < got[-1][1]["timestamp"] < 2500  # ms into the stream: "Jarvis" ends ~1.5 s

    got = _exchange(server, [*auth, ("detect", {"names": ["hey_jarvis"]}, None),
                             *audio_events(np.zeros(16000, np.int16))], "not-detected")
    assert [g[0] for g in got] == ["not-detected"]

    got = _exchange(server, [*auth, ("transcript", {"text": "turn on the coffee maker",
                                                    "context": {"area": "kitchen"}}, None)],
                    "handled")
    kind, data, _ = got[-1]
    assert kind == "handled" and "Coffee Maker" in data["text"]
    assert data["context"]["hearth"]["actions"][0]["entity_id"] == "switch.coffee_maker"
    assert server.entity_state("switch.coffee_maker") == "on"

    got = _exchange(server, [*auth, ("transcript", {"text": "sing me a song about ducks"}, None)],
                    "not-handled")
    assert got[-1][0] == "not-handled"

    got = _exchange(server, [*auth, ("synthesize", {"text": "Hello there."}, None)], "audio-stop")
    assert got[0][0] == "audio-start" and got[-1][0] == "audio-stop"
    audio = b"".join(g[2] or b"" for g in got if g[0] == "audio-chunk")
    assert len(audio) / 2 / got[0][1]["rate"] > 0.4

    # a long reply is sent piece by piece (sentences, a long one by clause), all of it
    long = ("Your pasta timer is done. It has been ringing for a while, so the water may be boiling "
            "over. Shall I turn off the hob?")
    got = _exchange(server, [*auth, ("synthesize", {"text": long}, None)], "audio-stop")
    assert got[0][0] == "audio-start" and [g[0] for g in got].count("audio-start") == 1
    audio = b"".join(g[2] or b"" for g in got if g[0] == "audio-chunk")
    assert len(audio) / 2 / got[0][1]["rate"] > 5.0


def test_a_timer_rings_on_the_satellite_in_its_room(server: Server, tmp_path: Path) -> None:
    from assistant.audio.files import write_wav

    quiet = tmp_path / "quiet.wav"
    write_wav(quiet, np.random.default_rng(3).integers(-30, 30, 16000 * 12).astype(np.int16))
    proc = satellite(server, "kitchen", quiet, output=tmp_path / "said.wav")
    for _ in range(100):
        if any(s["connected"] for s in server.json("GET", "/api/health")["satellites"]):
            break
        time.sleep(0.1)
    result = server.json("POST", "/api/ask", {"text": "set a timer for 2 seconds",
                                              "area": "kitchen"})
    assert result["intent"] == "HassStartTimer"
    rc, lines, err = finish(proc)
    assert rc == 0, err
    said = [e for e in lines if e["type"] == "announcement"]
    assert said and "timer" in said[0]["text"].lower(), lines
    assert lines[-1]["announcements"] and lines[-1]["turns"] == []
    audio, rate = sf.read(str(tmp_path / "said.wav"), dtype="int16")
    assert len(audio) / rate > 0.5
    server.json("POST", "/api/ask", {"text": "stop", "area": "kitchen"})  # acknowledge it
