"""The server's parts without models or sockets: settings, auth, the event hub, turn
records, metrics, the audio feed, persisted state, the Wyoming mapping."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import SecretStr

from assistant.config import load_settings, packaged_config_text
from assistant.errors import ConfigError
from assistant.events import (
    ActionApplied,
    EventSink,
    IntentMatched,
    Reply,
    SpeechEnded,
    StageEnded,
    StageStarted,
    Transcript,
    TtsStarted,
    WakeDetected,
)
from assistant.server import auth
from assistant.server import wyoming_proto as wp
from assistant.server.hub import EventHub
from assistant.server.metrics import Metrics
from assistant.server.settings import ServerSettings, is_loopback
from assistant.server.state import ServerState
from assistant.server.streams import AudioFeed, StopGate
from assistant.server.turns import TurnTracker
from assistant.stages import Stage

# --- settings -------------------------------------------------------------------------


def test_default_server_settings_bind_loopback_without_token() -> None:
    s = load_settings().server
    assert s.host == "127.0.0.1" and s.token is None and is_loopback(s.host)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "hearth.local", "::"])
def test_any_other_bind_needs_a_token(host: str) -> None:
    assert "requires an API token" in (ServerSettings(host=host).unsafe_binding() or "")
    assert ServerSettings(host=host, token=SecretStr("long-enough-token")).unsafe_binding() is None


def test_the_example_config_is_valid_and_needs_its_token(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[1]
    (tmp_path / "config.toml").write_text(packaged_config_text()
                                          + (repo / "deploy" / "hearth.toml").read_text())
    settings = load_settings(tmp_path / "config.toml")  # as deploy/install.sh writes it
    assert settings.server.satellites == ()  # examples only: no placeholder tokens that would work
    assert settings.server.unsafe_binding()  # 0.0.0.0 without HEARTH_TOKEN: refused at start
    assert settings.wake.models[0].candidate_threshold is not None  # the packaged tuning


def test_bad_server_config_is_one_clear_line(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[server]\nport = 99999\n')
    with pytest.raises(ConfigError, match=r"server\.port"):
        load_settings(cfg)
    cfg.write_text('[[server.satellites]]\nname = "a"\ntoken = "short"\n')
    with pytest.raises(ConfigError, match="at least 8"):
        load_settings(cfg)
    cfg.write_text('[[server.satellites]]\nname = "a"\ntoken = "12345678"\n'
                   '[[server.satellites]]\nname = "a"\ntoken = "87654321"\n')
    with pytest.raises(ConfigError, match="unique"):
        load_settings(cfg)
    cfg.write_text('[server]\ntls_cert = "/etc/cert.pem"\n')
    with pytest.raises(ConfigError, match="go together"):
        load_settings(cfg)


def test_tokens_never_show_in_repr() -> None:
    s = ServerSettings(token=SecretStr("super-secret-token"))
    assert "super-secret-token" not in repr(s) and "super-secret-token" not in str(s.model_dump())


# --- auth -------------------------------------------------------------------------------


def _scope(**headers: str) -> dict[str, object]:
    return {"type": "http", "path": "/api/health",
            "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}


def test_bearer_and_cookie_authorize_and_nothing_else() -> None:
    token = SecretStr("the-api-token")
    assert auth.request_authorized(_scope(), None)  # no token configured: open
    assert not auth.request_authorized(_scope(), token)
    assert auth.request_authorized(_scope(authorization="Bearer the-api-token"), token)
    assert auth.request_authorized(_scope(authorization="bearer the-api-token"), token)
    assert not auth.request_authorized(_scope(authorization="Bearer the-api-tokeN"), token)
    assert not auth.request_authorized(_scope(authorization="Basic the-api-token"), token)
    cookie = f"{auth.SESSION_COOKIE}={auth.session_value(token)}"
    assert auth.request_authorized(_scope(cookie=cookie), token)
    assert not auth.request_authorized(_scope(cookie=f"{auth.SESSION_COOKIE}=the-api-token"), token)
    assert not auth.request_authorized(_scope(cookie='bad"cookie;;='), token)
    assert "the-api-token" not in auth.session_cookie(token, secure=False)


# --- hub, turns, metrics ----------------------------------------------------------------------


def _stage(e: EventSink, stage: Stage, start: float, end: float, error: str | None = None,
           turn_id: str = "t1") -> None:
    e(StageStarted(t_wall_ms=start, stage=stage, turn_id=turn_id))
    e(StageEnded(t_wall_ms=end, stage=stage, turn_id=turn_id, duration_ms=end - start,
                 ok=error is None, error=error))


def _voice_turn(e: EventSink) -> None:
    """The events of one spoken turn, in the loop's order."""
    e(StageStarted(t_wall_ms=1004, stage=Stage.WAKE, turn_id="t1"))
    e(WakeDetected(t_audio_ms=1000, t_wall_ms=1010, wake_word="hey_jarvis", score=0.9))
    e(StageEnded(t_wall_ms=1010, stage=Stage.WAKE, turn_id="t1", duration_ms=6))
    e(StageStarted(t_wall_ms=1010, stage=Stage.VAD, turn_id="t1"))
    e(SpeechEnded(t_audio_ms=2000, t_wall_ms=2300, reason="early_match"))
    e(StageEnded(t_wall_ms=2300, stage=Stage.VAD, turn_id="t1", duration_ms=1290))
    e(StageStarted(t_wall_ms=2020, stage=Stage.STT, turn_id="t1"))
    e(Transcript(t_audio_ms=2000, t_wall_ms=2300, text="turn on the light", stt_ms=280))
    e(StageEnded(t_wall_ms=2300, stage=Stage.STT, turn_id="t1", duration_ms=280))
    e(StageStarted(t_wall_ms=2300, stage=Stage.UNDERSTAND, turn_id="t1"))
    _stage(e, Stage.SKILL, 2302, 2308)  # inside understanding: not a stage of the record
    e(StageEnded(t_wall_ms=2310, stage=Stage.UNDERSTAND, turn_id="t1", duration_ms=10))
    e(IntentMatched(t_audio_ms=2000, t_wall_ms=2310, intent="HassTurnOn"))
    e(StageStarted(t_wall_ms=2310, stage=Stage.HOME, turn_id="t1"))
    e(ActionApplied(t_audio_ms=2000, t_wall_ms=2315, service="light.turn_on",
                    entity_id="light.kitchen"))
    e(StageEnded(t_wall_ms=2316, stage=Stage.HOME, turn_id="t1", duration_ms=6))
    e(Reply(t_audio_ms=2000, t_wall_ms=2316, text="Done.", handled_by="local"))
    e(StageStarted(t_wall_ms=2320, stage=Stage.TTS, turn_id="t1"))
    e(TtsStarted(t_audio_ms=2000, t_wall_ms=2500, text="Done.", tts_ms=180))
    e(StageEnded(t_wall_ms=2900, stage=Stage.TTS, turn_id="t1", duration_ms=580))


def test_turn_records_have_per_stage_latencies_and_feed_metrics() -> None:
    hub = EventHub(100)
    tracker = TurnTracker(hub)
    metrics = Metrics(hub)
    tracker.source_speaks("kitchen", True)
    emit = hub.emitter("kitchen", "kitchen")
    _voice_turn(emit)
    (turn,) = tracker.turns()
    assert turn["source"] == "kitchen" and turn["area"] == "kitchen"
    assert turn["stages_ms"] == {"wake": 6.0, "vad": 1290.0, "stt": 280.0, "understand": 10.0,
                                 "act": 6.0, "tts": 180.0, "end_to_action": 315.0,
                                 "end_to_reply": 316.0}
    assert turn["turn_id"] == "t1" and turn["errors"] == []
    assert turn["actions"] == ["light.turn_on light.kitchen"] and not tracker.in_turn("kitchen")
    text = metrics.render().decode()
    assert 'hearth_wake_detections_total{source="kitchen",wake_word="hey_jarvis"} 1.0' in text
    assert 'hearth_turns_total{path="local",source="kitchen"} 1.0' in text
    assert 'hearth_stage_latency_seconds_count{stage="end_to_action"} 1.0' in text
    assert 'hearth_stage_latency_seconds_bucket{le="0.5",stage="end_to_action"} 1.0' in text


def test_in_turn_from_wake_to_spoken_reply() -> None:
    hub = EventHub(100)
    tracker = TurnTracker(hub)
    tracker.source_speaks("mic", True)
    emit = hub.emitter("mic", None)
    emit(StageStarted(t_wall_ms=1, stage=Stage.WAKE, turn_id="a"))
    assert tracker.in_turn("mic")
    emit(WakeDetected(t_audio_ms=1, t_wall_ms=1, wake_word="alexa", score=0.8))
    emit(Reply(t_audio_ms=1, t_wall_ms=2, text="Sorry", handled_by="unhandled"))
    assert tracker.in_turn("mic")  # the spoken reply is part of the turn
    emit(StageStarted(t_wall_ms=2, stage=Stage.TTS, turn_id="a"))
    emit(TtsStarted(t_audio_ms=1, t_wall_ms=3, text="Sorry"))
    assert tracker.in_turn("mic")  # until it has all been said
    emit(StageEnded(t_wall_ms=4, stage=Stage.TTS, turn_id="a", duration_ms=2))
    assert not tracker.in_turn("mic")
    _stage(emit, Stage.WAKE, 5, 5, turn_id="b")
    emit(StageStarted(t_wall_ms=5, stage=Stage.VAD, turn_id="b"))
    emit(SpeechEnded(t_audio_ms=9, t_wall_ms=9, reason="no_speech"))
    emit(StageEnded(t_wall_ms=9, stage=Stage.VAD, turn_id="b", duration_ms=4, ok=False,
                    error="no_speech"))
    assert not tracker.in_turn("mic") and tracker.turns()[-1]["errors"] == ["no_speech"]


def test_a_failed_stage_ends_the_turn_once_its_other_stages_have_ended() -> None:
    hub = EventHub(100)
    tracker = TurnTracker(hub)
    emit = hub.emitter("sat", "kitchen")
    emit(StageStarted(t_wall_ms=0, stage=Stage.VAD, turn_id="c"))
    _stage(emit, Stage.STT, 10, 30, error="stt_failed", turn_id="c")
    assert tracker.in_turn("sat")  # its VAD stage is still open
    emit(StageEnded(t_wall_ms=31, stage=Stage.VAD, turn_id="c", duration_ms=31, ok=False,
                    error="stt_failed"))
    (turn,) = tracker.turns()
    assert turn["errors"] == ["stt_failed"] and turn["stages_ms"] == {"vad": 31.0, "stt": 20.0}
    _stage(emit, Stage.TTS, 35, 40, turn_id="c")
    assert not tracker.in_turn("sat") and len(tracker.turns()) == 1  # a late stage opens nothing


def test_a_sentence_streamed_before_the_reply_does_not_end_the_turn() -> None:
    hub = EventHub(100)
    tracker = TurnTracker(hub)
    tracker.source_speaks("sat", True)
    emit = hub.emitter("sat", "kitchen")
    emit(StageStarted(t_wall_ms=0, stage=Stage.UNDERSTAND, turn_id="d"))
    _stage(emit, Stage.TTS, 5, 9, turn_id="d")  # the cloud's first sentence, said at once
    assert tracker.in_turn("sat")
    emit(StageEnded(t_wall_ms=20, stage=Stage.UNDERSTAND, turn_id="d", duration_ms=20))
    emit(Reply(t_wall_ms=21, text="George Eliot. She wrote it in 1871.", handled_by="cloud"))
    _stage(emit, Stage.TTS, 21, 30, turn_id="d")
    assert not tracker.in_turn("sat")
    (turn,) = tracker.turns()
    assert turn["handled_by"] == "cloud" and turn["stages_ms"] == {"understand": 20.0}


def test_sse_subscribers_get_replay_live_events_and_the_end() -> None:
    async def scenario() -> list[dict[str, object] | None]:
        hub = EventHub(10)
        for i in range(5):
            hub.publish({"type": "x", "i": i})
        sub = hub.subscribe(replay=2)
        threading.Thread(target=lambda: hub.publish({"type": "y"})).start()
        got = [await asyncio.wait_for(sub.queue.get(), 5) for _ in range(3)]
        hub.close()
        got.append(await asyncio.wait_for(sub.queue.get(), 5))
        return got

    got = asyncio.run(scenario())
    assert [None if g is None else g.get("i", g["type"]) for g in got] == [3, 4, "y", None]


def test_a_slow_subscriber_loses_events_not_memory() -> None:
    async def scenario() -> tuple[int, int]:
        hub = EventHub(10)
        sub = hub.subscribe()
        for i in range(1500):
            hub.publish({"type": "x", "i": i})
        await asyncio.sleep(0.05)
        return sub.queue.qsize(), sub.dropped

    size, dropped = asyncio.run(scenario())
    assert size == 1000 and dropped == 500


# --- audio feed, stop gate -----------------------------------------------------------------


def test_audio_feed_reframes_packets_into_80ms_chunks() -> None:
    feed = AudioFeed()
    signal = (np.arange(16000 * 2) % 3000).astype(np.int16)
    raw = signal.astype("<i2").tobytes()
    for i in range(0, len(raw), 1000):  # odd packet sizes, even an odd byte count
        feed.push(raw[i:i + 1000])
    feed.end()
    chunks = list(feed)
    assert [len(c.samples) for c in chunks] == [1280] * 25
    assert chunks[3].t_audio_ms == 240.0
    assert np.array_equal(np.concatenate([c.samples for c in chunks])[:32000], signal)


def test_stop_gate_ends_idle_streams_now_and_busy_ones_after_the_turn() -> None:
    gate = StopGate()
    assert not gate.should_end(in_turn=False)
    gate.stop(60.0)
    assert gate.should_end(in_turn=False) and not gate.should_end(in_turn=True)
    late = StopGate()
    late.stop(0.0)
    assert late.should_end(in_turn=True)
    feed = AudioFeed(lambda: gate.should_end(in_turn=False))
    feed.push(np.zeros(1280 * 3, np.int16).tobytes())
    assert list(feed) == []


# --- state, wyoming mapping -----------------------------------------------------------------


def test_privacy_mode_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "server.json"
    state = ServerState(path, "local_only")
    assert state.privacy().source == "config" and state.privacy_mode == "local_only"
    state.set_privacy_mode("ask", "2026-01-01T00:00:00Z")
    again = ServerState(path, "local_only")
    assert again.privacy_mode == "ask" and again.privacy().source == "dashboard"
    with pytest.raises(ValueError, match="unknown privacy mode"):
        again.set_privacy_mode("everything", "now")
    path.write_text("{broken")
    assert ServerState(path, "allow").privacy_mode == "allow"


def test_hearth_events_map_to_standard_wyoming_events() -> None:
    def std(**data: object) -> tuple[str, dict[str, object]] | None:
        ev = wp.standard_event(data)
        return None if ev is None else (ev.type, ev.data)

    assert std(type="wake", wake_word="alexa", t_audio_ms=1520.0) == (
        "detection", {"name": "alexa", "timestamp": 1520})
    assert std(type="reply", text="Sorry", handled_by="unhandled") == (
        "not-handled", {"text": "Sorry"})
    assert std(type="reply", text="Ok", handled_by="local") == ("handled", {"text": "Ok"})
    assert std(type="intent") is None


def test_audio_in_any_format_becomes_16k_mono() -> None:
    stereo_48k = np.zeros((4800, 2), np.int16)
    stereo_48k[:, 0] = 1000
    stereo_48k[:, 1] = 3000
    event = wp.Event("audio-chunk", {"rate": 48000, "width": 2, "channels": 2},
                     stereo_48k.astype("<i2").tobytes())
    pcm = wp.to_pcm16k(event, wp.converter())
    samples = wp.pcm_to_samples(pcm)
    assert abs(len(samples) - 1600) <= 2 and abs(int(np.median(samples)) - 2000) <= 2
    assert json.dumps(wp.run_ended(2).data) == '{"turns": 2, "stopping": false}'


def _call_gate(token: str | None, **headers: str) -> int:
    sent: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request"}

    gate = auth.TokenGate(app, SecretStr(token) if token else None)
    asyncio.run(gate({**_scope(**headers), "method": "GET"}, receive, send))
    return int(sent[0]["status"])


def test_without_a_token_only_loopback_host_names_are_answered() -> None:
    for host in ("127.0.0.1:8740", "localhost:8740", "[::1]:8740", "localhost"):
        assert _call_gate(None, host=host) == 200, host
    for host in ("evil.example:8740", "192.168.1.10:8740", "hearth.local", ""):
        assert _call_gate(None, host=host) == 403, host  # DNS rebinding cannot reach it
    assert _call_gate("the-api-token", host="hearth.local:8740",
                      authorization="Bearer the-api-token") == 200
    assert _call_gate("the-api-token", host="hearth.local:8740") == 401


def test_called_satellites_need_an_area_and_others_a_token() -> None:
    from assistant.server.settings import SatelliteSettings

    called = SatelliteSettings(name="pi", uri="tcp://10.0.0.5:10700", area="office")
    assert called.token is None
    with pytest.raises(ValueError, match="give its area"):
        SatelliteSettings(name="pi", uri="tcp://10.0.0.5:10700")
    with pytest.raises(ValueError, match="needs a token"):
        SatelliteSettings(name="pi", area="office")
    with pytest.raises(ValueError, match="String should match pattern"):
        SatelliteSettings(name="pi", uri="http://10.0.0.5", area="office")


def _read(raw: bytes) -> object:
    async def go() -> object:
        reader = asyncio.StreamReader()
        reader.feed_data(raw)
        reader.feed_eof()
        try:
            return await wp.read_event(reader)
        except wp.BadEvent as exc:
            return exc

    return asyncio.run(go())


def test_wyoming_events_are_read_with_size_limits() -> None:
    fmt = {"rate": 16000, "width": 2, "channels": 1}
    ok = _read(b'{"type": "audio-chunk", "data": %s, "payload_length": 4}\nabcd'
               % json.dumps(fmt).encode())
    assert isinstance(ok, wp.Event) and ok.payload == b"abcd" and ok.data == fmt
    missing = _read(b'{"type": "audio-chunk", "data": {"timestamp": 0}, "payload_length": 2}\nab')
    assert isinstance(missing, wp.BadEvent) and "rate" in str(missing)
    split = _read(b'{"type": "info", "data_length": 14}\n{"token": "x"}')
    assert isinstance(split, wp.Event) and split.data == {"token": "x"}
    assert _read(b"") is None
    huge = _read(b'{"type": "audio-chunk", "payload_length": 1000000000}\n')
    assert isinstance(huge, wp.TooLarge) and "too large" in str(huge)
    assert isinstance(_read(b'{"type": "x", "data_length": -5}\n'), wp.TooLarge)
    assert isinstance(_read(b"not json\n"), wp.TooLarge)
    assert isinstance(_read(b"x" * 70000 + b"\n"), wp.TooLarge)  # over the line limit


def test_waits_are_measured_from_when_the_audio_arrived() -> None:
    feed = AudioFeed()
    feed.push(np.zeros(1280 * 2, np.int16).tobytes())
    first = feed.arrival(100.0)
    assert first is not None and feed.arrival(161.0) is None  # only 160 ms have arrived
    hub = EventHub(100)
    tracker = TurnTracker(hub)
    emit = hub.emitter("sat", "kitchen")
    emit(WakeDetected(t_audio_ms=1000, t_wall_ms=900, wake_word="hey_jarvis", score=0.9))
    emit(SpeechEnded(t_audio_ms=9000, t_wall_ms=2000, reason="early_match"))  # a loop behind
    hub.publish({"type": "action", "source": "sat", "t_wall_ms": 2100, "service": "light.turn_on",
                 "entity_id": "light.kitchen", "since_speech_end_ms": 420.0})
    hub.publish({"type": "reply", "source": "sat", "t_wall_ms": 2101, "text": "Ok",
                 "handled_by": "local", "since_speech_end_ms": 421.0})
    stages = tracker.turns()[-1]["stages_ms"]
    assert stages["end_to_action"] == 420.0 and stages["end_to_reply"] == 421.0
