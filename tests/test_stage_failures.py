"""A stage that breaks costs its own part of the turn, not the turn: a bug on the cloud path
answers locally (and, when the request had left, the audit row says how it ended); a local
LLM that fails to load is reported once and tried again later, not on every turn."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cloud_helpers import chunk, fault_server, scripted

from assistant.config import load_settings
from assistant.errors import ModelError
from assistant.privacy.audit import AuditLog
from assistant.runtime import Runtime
from assistant.understand.cloud_fallback import INTERNAL_ERROR
from assistant.understand.ranking import LazyRanker

QUESTION = "who wrote Middlemarch?"


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HEARTH_CLOUD_URL", "HEARTH_CLOUD_MODEL", "HEARTH_CLOUD_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def _assistant(tmp_path: Path, url: str) -> Runtime:
    return Runtime(load_settings(
        data_dir=str(tmp_path), llm={"enabled": False},
        privacy={"mode": "allow", "default": "allow"},
        cloud={"url": url, "model": "m", "first_token_timeout_s": 2.0, "total_timeout_s": 5.0}))


def _boom(*_args: Any, **_kwargs: Any) -> Any:
    raise RuntimeError("a bug on the cloud path")


@pytest.fixture
def server() -> Iterator[Any]:
    with fault_server(scripted([chunk("George Eliot.")])) as s:
        yield s


def test_a_bug_before_sending_answers_locally_and_sends_nothing(
        tmp_path: Path, server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with _assistant(tmp_path, server.url) as a:
        monkeypatch.setattr(a.cloud.redactor, "redact", _boom)
        result = a.ask(QUESTION)
        trace = result.privacy
        assert result.decision.handled_by == "unhandled"
        assert result.reply == "Sorry, I didn't understand that."
        assert f"cloud failed: {INTERNAL_ERROR}" in result.decision.reason
        assert not result.decision.left_device
        assert trace is not None and trace.outcome == INTERNAL_ERROR and not trace.sent
        assert a.ask("turn on the kitchen light").decision.handled_by == "local"
    assert server.bodies == []


def test_a_bug_after_sending_answers_locally_and_is_audited(
        tmp_path: Path, server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("assistant.privacy.redact.Redaction.restore", _boom)
    with _assistant(tmp_path, server.url) as a:
        result = a.ask(QUESTION)
        assert result.decision.handled_by == "unhandled"
        assert result.decision.left_device  # it had left: the reply says so
        assert f"cloud failed: {INTERNAL_ERROR}" in result.decision.reason
    assert len(server.bodies) == 1
    with AuditLog(tmp_path / "audit.sqlite") as log:
        rows = log.entries()
    assert [r.outcome for r in rows] == [INTERNAL_ERROR]
    assert rows[0].detail is not None and "a bug on the cloud path" in rows[0].detail


def test_a_failed_model_load_is_reported_once_and_retried_on_a_schedule(
        caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    builds: list[float] = []

    def build() -> Any:
        builds.append(now[0])
        raise ModelError("the local LLM model is missing")

    ranker = LazyRanker(build, retry_s=60.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING):
        for t in (0.0, 1.0, 30.0, 59.0, 61.0, 62.0):
            now[0] = t
            with pytest.raises(ModelError):
                ranker.scores("turn on the light", [])
    assert builds == [0.0, 61.0]  # not on every turn: again only once the wait is over
    reports = [r for r in caplog.records if "local LLM" in r.getMessage()]
    assert len(reports) == 1


def test_a_missing_local_llm_leaves_the_route_working(tmp_path: Path) -> None:
    settings = load_settings(data_dir=str(tmp_path), llm={"model": str(tmp_path / "gone.gguf")})
    with Runtime(settings) as a:
        for _ in range(2):
            result = a.ask("the coffee machine should be on", dry_run=True)
            assert result.decision.handled_by == "unhandled"
            assert "the local LLM is unavailable (model_unavailable)" in result.decision.reason
        assert a.ask("turn on the kitchen light").decision.handled_by == "local"


def test_each_stage_has_one_error_type_with_a_stable_code() -> None:
    from assistant import errors
    from assistant.stages import Stage

    by_stage: dict[str, list[type[errors.HearthError]]] = {}
    for value in vars(errors).values():
        if isinstance(value, type) and issubclass(value, errors.HearthError) \
                and value is not errors.HearthError:
            by_stage.setdefault(str(value.stage), []).append(value)
    for stage in Stage:
        assert len(by_stage.get(stage, [])) == 1, stage
        assert by_stage[stage][0].code.startswith(stage.value)
    assert [s.order for s in Stage] == list(range(len(Stage)))


def test_a_bug_in_understanding_is_reported_and_the_voice_loop_listens_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.loop_fakes import ScriptedStt, run, signal

    with Runtime(load_settings(llm={"enabled": False})) as a:
        decide = a.understander.decide
        calls: list[str] = []

        def first_breaks(text: str, **kwargs: Any) -> Any:
            calls.append(text)
            if len(calls) == 1:
                raise RuntimeError("a bug in understanding")
            return decide(text, **kwargs)

        monkeypatch.setattr(a.understander, "decide", first_breaks)
        events = run(a, ScriptedStt({1: "turn on the kitchen light"}),
                     signal(("wake", 1), ("speech", 8), ("silence", 30), ("wake", 1), ("speech", 8),
                            ("silence", 20)), stages=True)
        [error] = [e for e in events if e["type"] == "error"]
        assert (error["stage"], error["code"]) == ("understand", "understand_failed")
        assert "RuntimeError: a bug in understanding" in str(error["message"])
        ends = [(e["stage"], e["error"]) for e in events if e["type"] == "stage_end"]
        assert ("understand", "understand_failed") in ends
        assert len(calls) == 2 and a.home.get_state("light.kitchen").state == "on"
