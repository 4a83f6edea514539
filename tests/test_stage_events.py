"""The typed spine: every stage a turn passes through emits ``stage_start`` then
``stage_end`` (its turn's id, its duration, ok or the error's code), and the turn's
timings, the turn records, the SSE stream and ``/metrics`` are all views of those events.
(The fake-engine audio turns: test_loop_fakes.)"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from server_helpers import Server

from assistant.audio.files import write_wav
from assistant.config import load_settings
from assistant.errors import HomeError, UnderstandError
from assistant.events import Event, StageClock, StageEnded, StageEvent, StageStarted, to_dict
from assistant.pipeline import Turn
from assistant.runtime import Runtime
from assistant.stages import Stage
from tests.conftest import run_hearth, silence
from tests.loop_fakes import stage_marks


def nested_in_order(events: list[dict[str, Any]]) -> bool:
    """Every stage that starts ends, later, and stages nest like brackets."""
    open_: list[str] = []
    for kind, stage in stage_marks(events):
        if kind == "stage_start":
            open_.append(stage)
        elif not open_ or open_.pop() != stage:
            return False
    return not open_


@pytest.fixture()
def assistant() -> Iterator[tuple[Runtime, list[Event]]]:
    events: list[Event] = []
    with Runtime(load_settings(llm={"enabled": False}), emit=events.append) as a:
        yield a, events


def test_a_text_turn_emits_each_stage_in_order_and_its_timings_are_theirs(
        assistant: tuple[Runtime, list[Event]]) -> None:
    a, events = assistant
    turn = a.ask("turn on the kitchen light")
    got = [to_dict(e) for e in events]
    assert stage_marks(got) == [("stage_start", "understand"), ("stage_start", "skill"),
                                ("stage_end", "skill"), ("stage_end", "understand"),
                                ("stage_start", "home"), ("stage_end", "home")]
    assert {e["turn_id"] for e in got if "turn_id" in e} == {turn.id}
    kinds = [e["type"] for e in got]
    assert kinds.index("intent") > kinds.index("stage_end")  # decided, then said so
    assert kinds.index("stage_start", kinds.index("intent")) < kinds.index("action")
    ends = {e.stage: e for e in events if isinstance(e, StageEnded)}
    assert all(e.ok and e.error is None for e in ends.values())
    assert turn.timings_ms == {"understand": ends[Stage.UNDERSTAND].duration_ms,
                               "skill": ends[Stage.SKILL].duration_ms,
                               "act": ends[Stage.HOME].duration_ms}
    assert turn.as_json()["timings_ms"]["understand"] > 0


def test_a_stage_that_fails_ends_with_its_error_and_the_turn_goes_on(
        assistant: tuple[Runtime, list[Event]], monkeypatch: pytest.MonkeyPatch) -> None:
    a, events = assistant

    def refuse(service: str, entity_id: str, data: dict[str, Any]) -> None:
        raise HomeError(f"{entity_id} did not answer", code="home_unreachable")

    monkeypatch.setattr(a.home, "call_service", refuse)
    turn = a.ask("turn on the kitchen light")
    got = [to_dict(e) for e in events]
    assert nested_in_order(got)
    home_end = next(e for e in got if e["type"] == "stage_end" and e["stage"] == "home")
    assert (home_end["ok"], home_end["error"]) == (False, "home_unreachable")
    assert [e["type"] for e in got][-1] == "reply" and turn.reply.startswith("Sorry, ")
    assert turn.applied == () and "act" in turn.timings_ms


def test_a_bug_in_understanding_is_the_stages_error_and_ends_it_before_it_propagates(
        assistant: tuple[Runtime, list[Event]], monkeypatch: pytest.MonkeyPatch) -> None:
    a, events = assistant

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("a bug in understanding")

    monkeypatch.setattr(a.understander, "decide", broken)
    with pytest.raises(UnderstandError, match="RuntimeError: a bug in understanding") as raised:
        a.pipeline.run(Turn(text="turn on the kitchen light"))
    assert raised.value.stage is Stage.UNDERSTAND and isinstance(raised.value.__cause__, RuntimeError)
    assert [(type(e).__name__, getattr(e, "error", None)) for e in events] == [
        ("StageStarted", None), ("StageEnded", "understand_failed")]


def test_an_exception_in_a_timed_block_ends_its_stage_as_an_internal_error() -> None:
    events: list[Event] = []
    clock = StageClock(events.append, "t1", lambda: 0.0)
    with pytest.raises(KeyError), clock.span(Stage.HOME):
        raise KeyError("light.gone")
    assert [(type(e).__name__, getattr(e, "error", None)) for e in events] == [
        ("StageStarted", None), ("StageEnded", "internal_error")]


@pytest.mark.real
def test_cli_listen_json_has_every_stage_of_the_audio_turn(tmp_path: Path, say: Any) -> None:
    wav = tmp_path / "cmd.wav"
    write_wav(wav, np.concatenate([silence(500), say("Hey Jarvis, turn on the kitchen light."),
                                   silence(300)]))
    proc = run_hearth("listen", "--input", str(wav), "--json", "--output", str(tmp_path / "r.wav"))
    assert proc.returncode == 0, proc.stderr.decode()
    events = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert nested_in_order(events)
    top = [s for kind, s in stage_marks(events) if kind == "stage_start" and s != "skill"]
    assert top == ["wake", "vad", "stt", "understand", "home", "tts"], stage_marks(events)
    assert len({e["turn_id"] for e in events if "turn_id" in e}) == 1
    ends = [e for e in events if e["type"] == "stage_end"]
    assert all(e["ok"] and e["duration_ms"] >= 0 for e in ends), ends
    stt = next(e for e in ends if e["stage"] == "stt")
    transcript = next(e for e in events if e["type"] == "transcript")
    assert stt["duration_ms"] == pytest.approx(transcript["stt_ms"], abs=0.2)
    kinds = [e["type"] for e in events]
    assert kinds.index("tts_start") < len(kinds) - 1 and events[-1]["stage"] == "tts"


def _metric_sums(text: str) -> dict[str, float]:
    return {m.group(1): float(m.group(2)) for m in re.finditer(
        r'hearth_stage_latency_seconds_sum\{stage="(\w+)"\} ([0-9.e+-]+)', text)}


@pytest.mark.real
def test_the_sse_stream_turn_records_and_metrics_agree(tmp_path: Path) -> None:
    server = Server(tmp_path).start()  # a fresh server: this is its only turn
    try:
        before = _metric_sums(server.request("GET", "/metrics")[2].decode())
        answer = server.json("POST", "/api/ask", {"text": "turn on the hallway light"})
        got: list[dict[str, Any]] = []
        for ev in server.sse("/api/events?replay=100&types=stage_start,stage_end,turn"):
            got.append(ev)
            if ev["type"] == "turn":
                break
        ends = {e["stage"]: e for e in got if e["type"] == "stage_end"}
        assert set(ends) == {"understand", "skill", "home"} and nested_in_order(got)
        (record,) = server.json("GET", "/api/turns?limit=5")
        assert record == got[-1]  # /api/turns and the SSE stream send one record
        assert record["turn_id"] == ends["home"]["turn_id"]
        want = {"understand": ends["understand"]["duration_ms"], "act": ends["home"]["duration_ms"]}
        assert record["stages_ms"] == want
        assert answer["timings_ms"]["understand"] == pytest.approx(want["understand"], abs=0.06)
        after = _metric_sums(server.request("GET", "/metrics")[2].decode())
        for stage, ms in want.items():
            assert (after[stage] - before.get(stage, 0.0)) * 1000 == pytest.approx(ms, abs=0.01)
    finally:
        assert server.stop() == 0


def test_stage_events_serialize_the_stage_by_name() -> None:
    start = StageStarted(t_wall_ms=1.04, stage=Stage.CLOUD, turn_id="x")
    end = StageEnded(t_wall_ms=2.26, stage=Stage.CLOUD, turn_id="x", duration_ms=1.22, ok=False,
                     error="cloud_unreachable")
    assert isinstance(start, StageEvent) and to_dict(start) == {
        "type": "stage_start", "t_audio_ms": None, "t_wall_ms": 1.0, "stage": "cloud",
        "turn_id": "x"}
    assert json.loads(json.dumps(to_dict(end)))["duration_ms"] == 1.2
