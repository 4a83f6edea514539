"""The other direction: a real Home Assistant (2024.3.3) uses Hearth as its voice engine.

Home Assistant's own `wyoming` integration adds Hearth's Wyoming server through the
config-flow API (as its "Add integration" dialog does), and a whole Assist pipeline run
in Home Assistant -- wake word, speech-to-text, Home Assistant's own intent handling,
TTS -- goes through `hearth serve`. The audio is Piper speech streamed over Home
Assistant's WebSocket API, as its web UI streams a microphone.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from server_helpers import Server
from websockets.sync.client import connect

from tests.hass_real.harness import RealHass, missing_reason, shared

pytestmark = pytest.mark.real
CHUNK = 1024  # samples: 64 ms


@pytest.fixture(scope="module")
def hass() -> RealHass:
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    return shared()


@pytest.fixture(scope="module")
def hearth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("hearth-for-hass"), trusted=("127.0.0.1",)).start()
    yield srv
    assert srv.stop() == 0


@pytest.fixture(scope="module")
def engines(hass: RealHass, hearth: Server) -> Iterator[dict[str, str]]:
    """Add Hearth with the wyoming config flow; the entity ids it made, by domain."""
    flow = hass.http("POST", "/api/config/config_entries/flow", {"handler": "wyoming"})
    assert flow["type"] == "form" and flow["step_id"] == "user", flow
    done = hass.http("POST", f"/api/config/config_entries/flow/{flow['flow_id']}",
                     {"host": "127.0.0.1", "port": hearth.wyoming_port})
    assert done["type"] == "create_entry", done
    entry_id = done["result"]["entry_id"]
    (registry,) = hass.ws({"type": "config/entity_registry/list"})
    made = {e["entity_id"].split(".")[0]: e["entity_id"] for e in registry
            if e["config_entry_id"] == entry_id}
    yield {"title": done["title"], **made}
    hass.http("DELETE", f"/api/config/config_entries/entry/{entry_id}")


def test_home_assistant_adds_hearth_with_its_wyoming_integration(
        hass: RealHass, engines: dict[str, str]) -> None:
    assert {"stt", "tts", "wake_word"} <= set(engines), engines
    # Adding it loaded nothing that looks for devices beyond 127.0.0.1.
    loaded = set(hass.http("GET", "/api/config")["components"])
    assert not loaded & {"zeroconf", "ssdp", "dhcp", "bluetooth", "usb", "cloud"}, loaded


def run_pipeline(hass: RealHass, pipeline_id: str, audio: np.ndarray) -> list[dict[str, Any]]:
    """One Assist run from the wake word to TTS, fed ``audio`` (16 kHz int16) in real
    time, as a microphone would; the run's events in order."""
    events: list[dict[str, Any]] = []
    with connect(hass.url.replace("http://", "ws://") + "/api/websocket", proxy=None,
                 max_size=None) as ws:
        json.loads(ws.recv(10))
        ws.send(json.dumps({"type": "auth", "access_token": hass.token}))
        assert json.loads(ws.recv(10))["type"] == "auth_ok"
        ws.send(json.dumps({"id": 1, "type": "assist_pipeline/run", "pipeline": pipeline_id,
                            "start_stage": "wake_word", "end_stage": "tts",
                            "input": {"sample_rate": 16000, "timeout": 20}, "timeout": 60}))
        handler: int | None = None
        sent, started, ended = 0, 0.0, False
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            timeout = 5.0
            if handler is not None and not ended:
                if time.monotonic() >= started + sent / 16000:
                    chunk = audio[sent:sent + CHUNK]
                    ws.send(bytes([handler]) + chunk.astype("<i2").tobytes())  # empty: the end
                    sent, ended = sent + len(chunk), not len(chunk)
                timeout = max(0.001, started + sent / 16000 - time.monotonic())
            try:
                msg = json.loads(ws.recv(timeout))
            except TimeoutError:
                continue
            if msg.get("type") == "result":
                assert msg["success"], msg
                continue
            event = msg["event"]
            events.append(event)
            if event["type"] == "run-start":
                handler = event["data"]["runner_data"]["stt_binary_handler_id"]
                started = time.monotonic()
            if event["type"] in ("run-end", "error"):
                break
    return events


def test_a_whole_assist_pipeline_in_home_assistant_goes_through_hearth(
        hass: RealHass, hearth: Server, engines: dict[str, str],
        say: Callable[[str], np.ndarray]) -> None:
    (pipeline,) = hass.ws({
        "type": "assist_pipeline/pipeline/create", "name": "Hearth",
        "language": "en", "conversation_engine": "homeassistant",
        "conversation_language": "en", "stt_engine": engines["stt"], "stt_language": "en",
        "tts_engine": engines["tts"], "tts_language": "en_US", "tts_voice": None,
        "wake_word_entity": engines["wake_word"], "wake_word_id": "hey_jarvis"})
    assert hass.state("light.desk_lamp")["state"] == "off"
    pause = np.zeros(12000, np.int16)  # 0.75 s
    audio = np.concatenate([pause, say("Hey Jarvis."), pause, say("Turn on the desk lamp."),
                            pause, pause, pause])
    events = run_pipeline(hass, pipeline["id"], audio)
    by_type = {e["type"]: e.get("data") or {} for e in events}
    assert "error" not in by_type, (by_type.get("error"), hass.log_tail())
    assert [e["type"] for e in events] == [
        "run-start", "wake_word-start", "wake_word-end", "stt-start", "stt-vad-start",
        "stt-vad-end", "stt-end", "intent-start", "intent-end", "tts-start", "tts-end",
        "run-end"]
    assert by_type["wake_word-end"]["wake_word_output"]["wake_word_id"] == "hey_jarvis"
    text = by_type["stt-end"]["stt_output"]["text"]
    assert "desk lamp" in text.lower(), text
    speech = by_type["intent-end"]["intent_output"]["response"]["speech"]["plain"]["speech"]
    # Home Assistant's own agent acted on its own light, from Hearth's transcript.
    assert hass.state("light.desk_lamp")["state"] == "on", (text, by_type["intent-end"])
    assert by_type["tts-start"]["tts_input"] == speech
    assert by_type["tts-end"]["tts_output"]["url"]
    hass.http("POST", "/api/services/light/turn_off", {"entity_id": "light.desk_lamp"})
    if shutil.which("ffmpeg"):  # Home Assistant turns Hearth's WAV into the MP3 it asked for
        mp3 = hass.http("GET", by_type["tts-end"]["tts_output"]["url"])
        assert len(mp3) > 2000
    # Without ffmpeg, the same words as WAV, which Home Assistant passes on as Hearth made it.
    url = hass.http("POST", "/api/tts_get_url", {
        "engine_id": engines["tts"], "message": speech, "language": "en_US",
        "options": {"preferred_format": "wav"}})["url"]
    wav = hass.http("GET", url.replace(hass.url, ""))
    assert wav[:4] == b"RIFF" and len(wav) > 22050, len(wav)  # > 0.5 s of speech
