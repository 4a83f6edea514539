"""The cloud path against misbehaving servers (a fault-injecting HTTP server on 127.0.0.1),
with the real ``openai`` client: every fault ends the turn with a local answer within its
timeout, is recorded in the audit log, and the next local command still works. Also: ask-mode
consent, streaming sentence by sentence, placeholders restored. (Tool calls, the audit log
that cannot be bypassed, the CLI: test_cloud_paths.)"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cloud_helpers import (
    FIRST_TOKEN_S,
    QUESTION,
    REDACTED,
    SLACK_S,
    Assistants,
    assert_local_still_works,
    audit_rows,
    chunk,
    fault_server,
    scripted,
    settings_for,
)

from assistant.events import Escalated, Event, ReplySentence, StageStarted
from assistant.runtime import Runtime
from assistant.stages import Stage
from assistant.understand.cloud_fallback import ASK_REPLY, DECLINED_REPLY, FAILED_REPLY
from tests.ports import free_port


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HEARTH_CLOUD_URL", "HEARTH_CLOUD_MODEL", "HEARTH_CLOUD_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def assistant_for(tmp_path: Path) -> Iterator[Callable[..., Runtime]]:
    with Assistants(tmp_path) as make:
        yield make


FAULT_CODES = {
    "refused": "cloud_refused",
    "unauthorized": "cloud_refused",
    "rate_limited": "cloud_rate_limited",
    "server_error": "cloud_server_error",
    "bad_gateway": "cloud_server_error",
    "invalid_json": "cloud_bad_response",
    "invalid_sse": "cloud_bad_response",
    "slow": "cloud_timeout",
    "headers_then_silence": "cloud_timeout",
    "drip": "cloud_timeout",
    "reset": "cloud_unreachable",
}


@pytest.mark.parametrize("fault", sorted(FAULT_CODES))
def test_each_fault_ends_the_turn_with_a_local_answer(
    fault: str, assistant_for: Callable[..., Runtime], tmp_path: Path
) -> None:
    with fault_server(fault) as server:
        a = assistant_for(server.url)
        a.ask("turn off the kitchen light")  # first-turn warm-up is not the cloud's time
        for _ in range(2):  # and again: a failed request leaves nothing stuck behind
            t0 = time.monotonic()
            result = a.ask(QUESTION)
            elapsed = time.monotonic() - t0
            trace = result.privacy
            assert result.decision.handled_by == "unhandled"
            assert result.reply == FAILED_REPLY
            assert FAULT_CODES[fault] in result.decision.reason
            assert trace is not None and trace.latency_ms is not None
            assert trace.latency_ms < (FIRST_TOKEN_S + 1.0) * 1000, f"{fault}: {trace.latency_ms} ms"
            assert elapsed < FIRST_TOKEN_S + SLACK_S, f"{fault}: the turn took {elapsed:.2f} s"
        assert_local_still_works(a)
        assert len(server.bodies) == 2  # no retries: one request, one audit row
    rows = audit_rows(tmp_path)
    assert [r.outcome for r in rows] == [FAULT_CODES[fault]] * 2
    assert all(r.text == REDACTED for r in rows)
    assert [r.payload for r in rows] == server.bodies


def test_endpoint_down(assistant_for: Callable[..., Runtime], tmp_path: Path) -> None:
    a = assistant_for(f"http://127.0.0.1:{free_port()}/v1")
    t0 = time.monotonic()
    result = a.ask(QUESTION)
    assert time.monotonic() - t0 < FIRST_TOKEN_S + SLACK_S
    assert (result.reply, result.decision.handled_by) == (FAILED_REPLY, "unhandled")
    assert "cloud_unreachable" in result.decision.reason
    assert_local_still_works(a)
    [row] = audit_rows(tmp_path)  # the attempt is on record, written before the connect
    assert row.outcome == "cloud_unreachable"


def test_a_reply_that_never_ends_is_cut_at_the_total_timeout(
    assistant_for: Callable[..., Runtime], tmp_path: Path
) -> None:
    words = [chunk("word ") for _ in range(200)]
    with fault_server(scripted(words, delays=[0.05] * 200)) as server:
        a = assistant_for(server.url)
        t0 = time.monotonic()
        result = a.ask(QUESTION)
        assert time.monotonic() - t0 < 3.0 + SLACK_S
    assert result.decision.handled_by == "cloud" and result.reply.startswith("word word")
    assert audit_rows(tmp_path)[0].outcome == "truncated"


def test_sentences_arrive_while_the_rest_is_still_streaming(tmp_path: Path) -> None:
    """Each sentence is a ``reply_sentence`` event of the turn as soon as it is whole."""
    first_heard = threading.Event()

    def behaviour(h: Any, stop: threading.Event) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.end_headers()
        for part in ("Middlemarch was written ", "by George Eliot. It came ", "out in 1871."):
            h.wfile.write(b"data: " + json.dumps(chunk(part)).encode() + b"\n\n")
            h.wfile.flush()
            if part.endswith("It came "):
                # hold the rest back until the assistant has the first sentence in hand
                assert first_heard.wait(5), "the first sentence was not delivered while streaming"
        h.wfile.write(b"data: [DONE]\n\n")

    events: list[Event] = []

    def sink(event: Event) -> None:
        events.append(event)
        if isinstance(event, ReplySentence):
            first_heard.set()

    with fault_server(behaviour) as server, Runtime(settings_for(tmp_path, server.url),
                                                    emit=sink) as a:
        result = a.ask(QUESTION)
    said = [e for e in events if isinstance(e, ReplySentence)]
    assert [e.text for e in said] == ["Middlemarch was written by George Eliot.", "It came out in 1871."]
    cloud = next(i for i, e in enumerate(events)
                 if isinstance(e, StageStarted) and e.stage is Stage.CLOUD)
    kinds = [e.type for e in events]  # the turn's own events: inside the cloud's span, before the reply
    assert cloud < kinds.index("reply_sentence") < kinds.index("reply")
    assert 0 < said[0].t_wall_ms <= said[1].t_wall_ms
    assert result.reply == "Middlemarch was written by George Eliot. It came out in 1871."
    assert result.decision.left_device and result.decision.handled_by == "cloud"


def test_placeholders_are_restored_in_the_reply(
    assistant_for: Callable[..., Runtime], tmp_path: Path
) -> None:
    reply = [chunk("I'll remind <PERSON_1> to email <EMAIL_1>."), chunk(" Done.")]
    with fault_server(scripted(reply)) as server:
        a = assistant_for(server.url, household=("Alice Smith",))
        result = a.ask("what is a nice way to remind Alice to email bob@example.org")
    sent = json.loads(server.bodies[0])["messages"][-1]["content"]
    assert sent == "what is a nice way to remind <PERSON_1> to email <EMAIL_1>"
    assert result.reply == "I'll remind Alice to email bob@example.org. Done."
    assert b"Alice" not in server.bodies[0] and b"bob@example.org" not in server.bodies[0]


def test_an_escalated_event_says_what_left_and_where(tmp_path: Path) -> None:
    events: list[Event] = []
    with (fault_server(scripted([chunk("George Eliot.")])) as server,
          Runtime(settings_for(tmp_path, server.url), emit=events.append) as a):
        a.ask("turn on the kitchen light")
        assert not [e for e in events if isinstance(e, Escalated)]
        a.ask(QUESTION)
    [sent] = [e for e in events if isinstance(e, Escalated)]
    [row] = audit_rows(tmp_path)
    assert sent.endpoint == server.url and sent.rule == row.rule
    assert sent.payload_bytes == len(server.bodies[0])
    kinds = [e.type for e in events]
    assert kinds.index("escalated") < len(kinds) - 1 and kinds[-1] == "reply"


# ------------------------------------------------------------------ ask mode -------------


def test_ask_mode_sends_only_after_a_spoken_yes(
    assistant_for: Callable[..., Runtime], tmp_path: Path
) -> None:
    with fault_server(scripted([chunk("George Eliot.")])) as server:
        a = assistant_for(server.url, mode="ask")
        first = a.ask(QUESTION)
        assert (first.decision.handled_by, first.reply) == ("confirm", ASK_REPLY)
        assert first.decision.expects_reply and not first.decision.left_device
        assert server.bodies == []
        answer = a.ask("yes")
        assert answer.decision.handled_by == "cloud" and answer.reply == "George Eliot."
        assert len(server.bodies) == 1
        # "no" sends nothing; an unrelated utterance drops the question
        assert a.ask(QUESTION).reply == ASK_REPLY
        assert a.ask("no").reply == DECLINED_REPLY
        assert a.ask(QUESTION).reply == ASK_REPLY
        assert a.ask("turn on the kitchen light").decision.handled_by == "local"
        assert a.ask("yes").decision.handled_by == "unhandled"  # nothing waiting any more
        assert len(server.bodies) == 1
    [row] = audit_rows(tmp_path)
    assert (row.consent, row.mode, row.text) == ("spoken_yes", "ask", REDACTED)


def test_denied_topics_and_local_only_never_connect(
    assistant_for: Callable[..., Runtime], tmp_path: Path
) -> None:
    with fault_server(scripted([chunk("nope")])) as server:
        a = assistant_for(server.url)
        health = a.ask("what medication helps a migraine")
        assert health.decision.handled_by == "refused" and "health" in health.reply
        money = a.ask("what is a good savings account")
        assert money.decision.handled_by == "refused"
        b = assistant_for(server.url, mode="local_only")
        local = b.ask(QUESTION)
        assert local.decision.handled_by == "unhandled" and not local.decision.left_device
        assert "local_only" in local.decision.reason
        assert server.bodies == []
    assert not (tmp_path / "audit.sqlite").exists()


