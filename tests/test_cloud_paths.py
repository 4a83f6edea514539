"""The cloud path's other guarantees, against the fault-injecting server on 127.0.0.1 with
the real ``openai`` client: tool calls validated (a sensitive one waits for a yes), no way
around the audit log, nothing revealed in headers, ``--explain`` sends nothing, consent
carried across processes, skills escalate through the same policy. (Faults, streaming
and ask mode: test_cloud_faults.)"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cloud_helpers import (
    QUESTION,
    REDACTED,
    Assistants,
    FaultServer,
    audit_rows,
    chunk,
    cli_config,
    fault_server,
    scripted,
    tool_call_chunks,
)

from assistant.cli import main
from assistant.errors import CloudError
from assistant.llm.cloud import AuditContext, AuditedCloud, CloudEndpoint
from assistant.privacy.audit import AuditLog
from assistant.privacy.minimise import CloudPayload
from assistant.privacy.policy import CloudRequest, evaluate
from assistant.privacy.settings import PolicyRule, PrivacySettings
from assistant.runtime import Runtime
from assistant.understand.cloud_trace import PrivacyTrace
from assistant.understand.compound import combine
from assistant.understand.result import Decision


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HEARTH_CLOUD_URL", "HEARTH_CLOUD_MODEL", "HEARTH_CLOUD_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def assistant_for(tmp_path: Path) -> Iterator[Callable[..., Runtime]]:
    with Assistants(tmp_path) as make:
        yield make


# ------------------------------------------------------------------ tool calls -----------

HOME_RULES = (PolicyRule(name="home", effect="allow", share_entity_names=True),)


def ask_tool(assistant_for: Callable[..., Runtime], calls: list[dict[str, Any]],
             **privacy: Any) -> tuple[Runtime, Any, FaultServer]:
    server = FaultServer(scripted(calls))
    a = assistant_for(server.url, rules=HOME_RULES, default="deny", **privacy)
    result = a.ask("make it cosy for a film")
    server.close()
    return a, result, server


def test_a_valid_tool_call_is_applied(assistant_for: Callable[..., Runtime]) -> None:
    a, result, server = ask_tool(
        assistant_for, tool_call_chunks("light.turn_on", "light.kitchen", {"brightness_pct": 30}))
    assert result.decision.handled_by == "cloud"
    assert [x.as_dict() for x in result.applied] == [
        {"service": "light.turn_on", "entity_id": "light.kitchen", "data": {"brightness_pct": 30}}]
    assert a.home.get_state("light.kitchen").attributes["brightness_pct"] == 30
    body = json.loads(server.bodies[0])
    assert body["tools"][0]["function"]["name"] == "home_action"
    assert "lock.front_door" not in json.dumps(body)  # not a cloud entity by default


@pytest.mark.parametrize(("service", "entity", "data", "why"), [
    ("light.turn_on", "light.garden", None, "unknown_entity"),
    ("light.turn_on", "light.kitchen", {"brightness_pct": 150}, "invalid_value"),
    ("light.turn_on", "light.desk_lamp", {"brightness_pct": 50}, "unsupported_feature"),
    ("lock.unlock", "lock.front_door", None, "unknown_entity"),  # exists, but never exposed
    ("light.explode", "light.kitchen", None, "unsupported_service"),
])
def test_invalid_tool_calls_are_refused(
    assistant_for: Callable[..., Runtime], service: str, entity: str,
    data: dict[str, Any] | None, why: str,
) -> None:
    a, result, _ = ask_tool(assistant_for, tool_call_chunks(service, entity, data))
    assert result.decision.handled_by == "refused"
    assert why in result.decision.reason
    assert result.applied == () and result.decision.pending == ()
    assert a.home.get_state("lock.front_door").state == "locked"


def test_sensitive_tool_calls_wait_for_a_yes(assistant_for: Callable[..., Runtime]) -> None:
    a, result, _ = ask_tool(assistant_for, tool_call_chunks("lock.unlock", "lock.front_door"),
                            cloud_entities=("light.*", "lock.front_door"))
    assert result.decision.handled_by == "confirm" and result.decision.expects_reply
    assert [p.entity_id for p in result.decision.pending] == ["lock.front_door"]
    assert a.home.get_state("lock.front_door").state == "locked"
    assert a.ask("yes").applied[0].service == "lock.unlock"
    assert a.home.get_state("lock.front_door").state == "unlocked"


# ------------------------------------------------------------------ no bypass ------------


def test_the_client_refuses_requests_that_are_not_audited(tmp_path: Path) -> None:
    with fault_server(scripted([chunk("hi")])) as server, AuditLog(tmp_path / "a.sqlite") as log:
        cloud = AuditedCloud(CloudEndpoint(url=server.url), log)
        client = cloud._client  # what a careless caller might dig out
        with pytest.raises(CloudError) as err:
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
        assert err.value.code == "cloud_unaudited"
        # a ticket covers exactly its own payload, once
        payload = CloudPayload(({"role": "user", "content": "hello"},))
        stream = cloud.stream(payload, AuditContext("rule:x", "allow", "policy"))
        assert list(stream) == ["hi"]
        with pytest.raises(CloudError) as err:
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
        assert err.value.code == "cloud_unaudited"
        cloud.close()
        assert len(server.bodies) == 1
        [row] = log.entries()
        assert row.payload == server.bodies[0] and row.outcome == "ok"


def test_headers_reveal_nothing_about_the_platform(tmp_path: Path) -> None:
    seen: list[dict[str, str]] = []

    def behaviour(h: Any, stop: threading.Event) -> None:
        seen.append({k.lower(): v for k, v in h.headers.items()})
        scripted([chunk("ok")])(h, stop)

    with fault_server(behaviour) as server, AuditLog(tmp_path / "a.sqlite") as log:
        cloud = AuditedCloud(CloudEndpoint(url=server.url), log)
        list(cloud.stream(CloudPayload(({"role": "user", "content": "x"},)),
                          AuditContext("r", "allow", "policy")))
        cloud.close()
    assert not [k for k in seen[0] if k.startswith("x-stainless")]
    assert seen[0]["user-agent"] == "hearth"
    assert "authorization" not in seen[0]  # no key configured: no made-up one sent either


# ------------------------------------------------------------------ explain / CLI --------


def test_explain_shows_the_exact_body_and_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HEARTH_DATA_DIR", str(tmp_path))
    with fault_server(scripted([chunk("George Eliot.")])) as server:
        monkeypatch.setenv("HEARTH_CLOUD_URL", server.url)
        cfg = cli_config(tmp_path)
        assert main(["ask", QUESTION, "--privacy", "allow", "--explain", "--json", "--config", cfg]) == 0
        explained = json.loads(capsys.readouterr().out)
        assert server.bodies == []
        assert not (tmp_path / "audit.sqlite").exists()
        assert main(["ask", QUESTION, "--privacy", "allow", "--json", "--config", cfg]) == 0
        sent = json.loads(capsys.readouterr().out)
    p = explained["privacy"]
    assert (p["verdict"], p["rule"], p["sent"]) == ("send", "rule:general-knowledge", False)
    assert p["redacted_text"] == REDACTED
    assert p["body"].encode() == server.bodies[0]  # byte for byte what was later sent
    assert p["payload_bytes"] == len(server.bodies[0])
    assert explained["left_device"] is False and sent["left_device"] is True
    assert sent["privacy"]["audit_id"] == 1 and sent["reply"] == "George Eliot."


def test_cli_local_only_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HEARTH_DATA_DIR", str(tmp_path))
    with fault_server(scripted([chunk("x")])) as server:
        monkeypatch.setenv("HEARTH_CLOUD_URL", server.url)
        cfg = cli_config(tmp_path)
        assert main(["ask", QUESTION, "--privacy", "local_only", "--json", "--config", cfg]) == 0
        out = json.loads(capsys.readouterr().out)
        assert server.bodies == []
    assert out["privacy"]["rule"] == "mode:local_only" and out["left_device"] is False


def test_a_yes_in_the_next_process_sends_the_question_asked_in_this_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """One ``hearth ask`` per turn: the question survives into the next process, once."""
    monkeypatch.setenv("HEARTH_DATA_DIR", str(tmp_path))
    with fault_server(scripted([chunk("George Eliot.")])) as server:
        monkeypatch.setenv("HEARTH_CLOUD_URL", server.url)

        cfg = cli_config(tmp_path)

        def ask(*argv: str) -> dict[str, Any]:
            assert main(["ask", *argv, "--json", "--config", cfg]) == 0
            return json.loads(capsys.readouterr().out)

        assert ask(QUESTION, "--privacy", "ask")["handled_by"] == "confirm"
        assert server.bodies == []
        # under local_only the yes is answered locally: the policy is decided again at send time
        refused = ask("yes", "--privacy", "local_only")
        assert refused["handled_by"] == "refused" and server.bodies == []
        assert ask(QUESTION, "--privacy", "ask")["handled_by"] == "confirm"
        sent = ask("yes", "--privacy", "ask")
        assert sent["handled_by"] == "cloud" and sent["reply"] == "George Eliot."
        assert len(server.bodies) == 1
        assert ask("yes", "--privacy", "ask")["handled_by"] != "cloud"  # answered only once
        # anything else in between drops the question
        assert ask(QUESTION, "--privacy", "ask")["handled_by"] == "confirm"
        assert ask("turn on the kitchen light")["handled_by"] == "local"
        assert ask("yes", "--privacy", "ask")["handled_by"] != "cloud"
        assert len(server.bodies) == 1
    [row] = audit_rows(tmp_path)
    assert row.consent == "spoken_yes"


def test_skills_escalate_through_the_same_policy_and_audit(
    assistant_for: Callable[..., Runtime], tmp_path: Path
) -> None:
    rules = (PolicyRule(name="weather-skill", skills=("weather",), effect="allow"),)
    with fault_server(scripted([chunk("Rain at noon.")])) as server:
        a = assistant_for(server.url, rules=rules, default="deny")
        ok = a.cloud.escalate("will it rain in Leeds", skill="weather")
        assert (ok.handled_by, ok.reply, ok.left_device) == ("cloud", "Rain at noon.", True)
        no = a.cloud.escalate("will it rain in Leeds", skill="radio")
        assert no.handled_by == "refused" and not no.left_device
        assert len(server.bodies) == 1
    [row] = audit_rows(tmp_path)
    assert row.rule == "rule:weather-skill"


def test_the_cloud_gets_the_words_as_said_so_names_that_are_words_are_found(
    assistant_for: Callable[..., Runtime],
) -> None:
    with fault_server(scripted([chunk("A kite for <PERSON_1>.")])) as server:
        a = assistant_for(server.url, household=("Will Turner",))
        result = a.ask("What is a good present for Will, who will be nine")
    sent = json.loads(server.bodies[0])["messages"][-1]["content"]
    assert sent == "What is a good present for <PERSON_1>, who will be nine"
    assert result.reply == "A kite for Will."


# ------------------------------------------------------------------ the trace -----------


def test_the_privacy_trace_is_the_decisions_own(assistant_for: Callable[..., Runtime]) -> None:
    """What the privacy path did travels on the decision, room by room, onto the turn: no
    conversation keeps it for a reader to fetch afterwards."""
    with fault_server(scripted([chunk("George Eliot.")])) as server:
        a = assistant_for(server.url)
        kitchen = a.understander.decide(QUESTION, area=None, room="kitchen")
        hall = a.understander.decide("turn on the kitchen light", area=None, room="hall")
        assert kitchen.privacy is not None and kitchen.privacy.sent
        assert kitchen.privacy.redacted == REDACTED and hall.privacy is None
        assert not hasattr(a.understander.conversations.get("kitchen"), "privacy")
        turn = a.ask(QUESTION)
        assert turn.privacy is turn.decision.privacy and turn.privacy is not None
        assert turn.privacy.sent and turn.privacy.audit_id == kitchen.privacy.audit_id + 1
        asked = a.ask("turn on the kitchen light and who wrote Middlemarch")  # rule: ask first
        assert asked.decision.handled_by == "confirm" and asked.privacy is not None
        assert not asked.privacy.sent
        yes = a.ask("yes")  # the answer's turn carries the trace of what the yes sent
        assert yes.privacy is not None and yes.privacy is not asked.privacy and yes.privacy.sent
        assert a.ask("turn off the kitchen light").privacy is None


def test_several_commands_keep_the_trace_of_the_part_that_consulted_it() -> None:
    trace = PrivacyTrace(text="who wrote Middlemarch", policy=evaluate(
        CloudRequest(text="who wrote Middlemarch"), PrivacySettings()))
    parts = [Decision("local", "Done."), Decision("cloud", "George Eliot.", privacy=trace)]
    assert combine(["turn on the light", "who wrote Middlemarch"], parts).privacy is trace
