"""Hostile and unlucky text: every input bounded where it enters, a bad batch line
answered on its own (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli_batch import LineError, Utterance, parse_line
from assistant.limits import (
    BATCH_LINE_BYTES,
    CLOUD_REPLY_CHARS,
    TEXT_CHARS,
    UNDERSTAND_WORDS,
    too_long_for_text,
    too_long_to_understand,
)
from tests.conftest import run_hearth

# hassil's wildcards make this pattern superlinear: 30 KB of it took 39 s in the matcher
HOSTILE = "remind me to call mom in ten minutes " * 800


def test_limits_name_the_numbers() -> None:
    assert too_long_for_text("x" * TEXT_CHARS) is None
    assert "2001 characters" in str(too_long_for_text("x" * (TEXT_CHARS + 1)))
    assert too_long_to_understand("turn on the kitchen light") is None
    assert f"{UNDERSTAND_WORDS + 1} words" in str(too_long_to_understand("a " * (UNDERSTAND_WORDS + 1)))


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ('{"text": "turn off the kitchen light", "area": ["kitchen"]}', "area", "got list"),
        ('{"text": "turn off the kitchen light", "area": 7}', "area", "got int"),
        ('{"text": 5}', "text", "got int"),
        ('{"area": "kitchen"}', "text", "required"),
        ('{"text": ""}', "text", "at least 1 character"),
        ('{"text": "on", "area": null, "extra": 1}', None, None),  # labels beside the text are fine
        ('{"text": "%s"}' % ("a" * (TEXT_CHARS + 1)), "text", "at most"),
        ("{not json", None, "not valid JSON"),
        ('{"text": "x"} trailing', None, "not valid JSON"),
    ],
)
def test_a_bad_batch_line_names_its_field(line: str, field: str | None, message: str | None) -> None:
    got = parse_line(3, line.encode())
    if message is None:
        assert isinstance(got, Utterance) and got.text == "on"
        return
    assert isinstance(got, LineError), got
    assert (got.line, got.field) == (3, field)
    assert message in got.message
    assert str(got).startswith("line 3")


def test_batch_lines_that_are_not_text() -> None:
    assert parse_line(1, b"   \n") is None
    assert isinstance(parse_line(1, b"\xff\xfe on\n"), LineError)
    assert isinstance(parse_line(1, None), LineError)  # over BATCH_LINE_BYTES
    assert isinstance(parse_line(1, b"x" * (TEXT_CHARS + 1)), LineError)
    assert parse_line(2, b"turn on the light\n") == Utterance(2, "turn on the light", None)


def test_cli_batch_answers_every_good_line_around_bad_ones() -> None:
    lines = [
        "turn on the kitchen light",
        json.dumps({"text": "turn off the kitchen light", "area": ["kitchen"]}),
        json.dumps({"text": "turn off the kitchen light", "area": 7}),
        "{broken",
        json.dumps({"text": "turn on the light", "area": "Narnia"}),
        "x" * (BATCH_LINE_BYTES + 10),
        HOSTILE[:TEXT_CHARS],  # within the text limit, over understanding's: answered "too long"
        json.dumps({"text": "turn on the light", "area": "Bedroom"}),
    ]
    proc = run_hearth("ask", "--batch", "-", "--json", "--dry-run",
                      input=("\n".join(lines) + "\n").encode(), timeout=120)
    assert proc.returncode == 2  # some lines were bad
    assert b"Traceback" not in proc.stderr and b"unexpected" not in proc.stderr
    outs = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert len(outs) == len(lines)
    errors = {o["line"]: o for o in outs if "error" in o}
    assert sorted(errors) == [2, 3, 4, 5, 6]
    assert errors[2]["field"] == errors[3]["field"] == errors[5]["field"] == "area"
    assert errors[5]["error"] == "unknown_area"
    answered = [o for o in outs if "error" not in o]
    assert answered[0]["actions"][0]["entity_id"] == "light.kitchen"
    assert answered[1]["handled_by"] == "unhandled" and "too long" in answered[1]["reason"]
    assert answered[2]["actions"][0]["entity_id"] == "light.bedroom"
    assert proc.stderr.decode().count("hearth: line ") == 5


def test_cli_refuses_a_huge_text_in_one_line() -> None:
    proc = run_hearth("ask", HOSTILE, "--json", timeout=60)
    assert proc.returncode == 2
    err = proc.stderr.decode().strip()
    assert err.startswith("hearth: the text is too long") and "\n" not in err


def test_understanding_answers_a_long_text_without_matching_it() -> None:
    from assistant.config import load_settings
    from assistant.runtime import Runtime

    with Runtime(load_settings()) as a:
        result = a.ask(HOSTILE[:1500], dry_run=True)
        assert result.decision.handled_by == "unhandled"
        assert "too long to understand" in result.decision.reason
        assert result.decision.actions == ()
        # and the turn after it is understood as usual
        assert a.ask("turn on the kitchen light", dry_run=True).decision.intent == "HassTurnOn"


def test_a_cloud_reply_that_ignores_max_tokens_is_cut(tmp_path: Path) -> None:
    from cloud_helpers import chunk, fault_server, scripted

    from assistant.config import load_settings
    from assistant.privacy.audit import AuditLog
    from assistant.runtime import Runtime

    base = load_settings(data_dir=str(tmp_path))
    settings = base.model_copy(update={
        "llm": base.llm.model_copy(update={"enabled": False}),
        "privacy": base.privacy.model_copy(update={"mode": "allow"}),
        "cloud": base.cloud.model_copy(update={"url": None, "model": "flood", "total_timeout_s": 20.0,
                                               "first_token_timeout_s": 5.0})})
    flood = [chunk("All work and no play makes Jack a dull boy. " * 20) for _ in range(200)]
    with fault_server(scripted(flood)) as server:
        settings = settings.model_copy(update={"cloud": settings.cloud.model_copy(
            update={"url": server.url})})
        with Runtime(settings) as a:
            result = a.ask("who wrote Middlemarch?")
    assert result.decision.handled_by == "cloud"
    assert 0 < len(result.reply) <= CLOUD_REPLY_CHARS
    with AuditLog(tmp_path / "audit.sqlite") as log:
        (row,) = log.entries()
    assert row.outcome == "truncated" and str(CLOUD_REPLY_CHARS) in (row.detail or "")


def test_a_turn_past_its_budget_skips_the_later_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from assistant import limits
    from assistant.config import load_settings
    from assistant.home import open_home
    from assistant.understand.context import ConversationMemory
    from assistant.understand.result import Decision
    from assistant.understand.router import Understander

    asked: list[str] = []

    class Slow:
        name = "slow"

        def decide(self, text: str, area: str | None, previous: Decision,
                   conversation: object = None) -> Decision | None:
            asked.append(self.name)
            time.sleep(0.3)  # a stage that hangs past the budget
            return Decision("unhandled", "No idea.", confidence=0.0, reason="slow passed")

    class Later(Slow):
        name = "later"

    monkeypatch.setattr(limits, "TURN_BUDGET_S", 0.2)
    home = open_home(load_settings())
    try:
        u = Understander(home, fallbacks=[Slow(), Later()], memory=ConversationMemory(None))
        decision = u.decide("sing me a song about ducks", area=None)
        assert asked == ["slow"]
        assert decision.reply == "Sorry, that took me too long."
        assert "budget of 0.2 s before later" in decision.reason
        assert u.decide("turn on the kitchen light", area=None).actions  # the next turn is fine
    finally:
        home.close()


ODD_TEXTS = [
    "", "   ", "\n\t\n", "\x00\x00turn on the light\x00", "\u202eturn on the kitchen light",
    "🙂" * 500, "a" * 599, "turn on the " + "very " * 70 + "kitchen light", "%s%s%n%x",
    "{{ 7 * 7 }} {% for x in range(10**9) %}", "'; DROP TABLE states; --", "\\", "{", "ǅ" * 300,
    "turn on the kitchen light " * 3, "TURN ON THE KITCHEN LIGHT!!!", "ｔｕｒｎ ｏｎ ｔｈｅ ｌｉｇｈｔ",
]


def test_odd_text_always_gets_an_answer_and_changes_nothing_it_should_not() -> None:
    from assistant.config import load_settings
    from assistant.runtime import Runtime

    with Runtime(load_settings()) as a:
        def states() -> dict[str, str]:
            return {e.entity_id: a.home.get_state(e.entity_id).state for e in a.home.entities()}

        for text in ODD_TEXTS:
            before = states()
            result = a.ask(text)
            assert isinstance(result.reply, str) and result.reply, repr(text)
            json.dumps(result.as_json())  # plain data all the way
            touched = {action.entity_id for action in result.applied}
            assert not any(a.home.entity(e).sensitive for e in touched), text
            after = states()
            assert {e for e in after if after[e] != before[e]} <= touched, repr(text)
