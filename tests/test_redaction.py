"""Redaction: detectors, placeholders, restoring the reply, and quality on the test set."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from assistant.privacy.redact import Redactor, iban_ok, luhn_ok
from assistant.privacy.settings import DEFAULT_REDACT, REDACT_KINDS

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def r() -> Redactor:
    return Redactor(
        household=["Alice Smith", "Robert Smith | Bob", "Will Turner"],
        contacts=["Priya Patel"],
        places=["Greenfield Primary"],
    )


def kinds(r: Redactor, text: str) -> list[tuple[str, str]]:
    return [(s.kind, s.text) for s in r.find(text, REDACT_KINDS)]


def test_luhn_and_iban_checks() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("GB29 NWBK 6016 1331 9268 19") and not iban_ok("GB29 NWBK 6016 1331 9268 18")
    assert not iban_ok("GB29")


def test_a_card_number_must_pass_luhn_to_be_a_card(r: Redactor) -> None:
    assert kinds(r, "charge 4111 1111 1111 1111 please") == [("card", "4111 1111 1111 1111")]
    # 16 digits failing Luhn, no card context: still redacted, as an account-like number
    assert kinds(r, "reference 4111 1111 1111 1112 please") == [("account", "4111 1111 1111 1112")]


def test_iban_is_checked_and_trailing_words_are_not_eaten(r: Redactor) -> None:
    assert kinds(r, "pay GB29 NWBK 6016 1331 9268 19 then") == [
        ("iban", "GB29 NWBK 6016 1331 9268 19")
    ]
    assert kinds(r, "pay gb29nwbk60161331926819 now") == [("iban", "gb29nwbk60161331926819")]


@pytest.mark.parametrize(
    "phone",
    [
        "07700 900461",
        "+44 20 7946 0958",
        "(212) 555-0198",
        "555-867-5309",
        "415.555.0100",
        "+1 415 555 0132",
    ],
)
def test_phone_formats(r: Redactor, phone: str) -> None:
    assert kinds(r, f"ring {phone} later") == [("phone", phone)]


def test_account_numbers_need_context_or_length(r: Redactor) -> None:
    assert kinds(r, "sort code 40-47-84") == [("account", "40-47-84")]
    assert kinds(r, "account number 31926819") == [("account", "31926819")]
    assert kinds(r, "my NI number is QQ 12 34 56 C") == [("account", "QQ 12 34 56 C")]
    assert kinds(r, "it was 40-47-84 in the end") == []  # a score, not a sort code


@pytest.mark.parametrize(
    "text",
    [
        "will it rain tomorrow",
        "turn 2 lights on the way home",
        "what is 15 times 23",
        "set the thermostat to 21 degrees",
        "how far is 5000 metres",
        "what happened in 1969",
        "may I ask a question",
        "a lighthouse on the hill",
    ],
)
def test_ordinary_sentences_are_left_alone(r: Redactor, text: str) -> None:
    assert kinds(r, text) == []


def test_names_that_are_words_need_a_capital(r: Redactor) -> None:
    assert kinds(r, "will Will come") == [("person", "Will")]
    assert kinds(r, "tell bob and alice") == [("person", "bob"), ("person", "alice")]


def test_names_from_context_can_be_turned_off() -> None:
    plain = Redactor(names_from_context=False)
    assert plain.find("who was Dr. Seuss", REDACT_KINDS) == []
    assert [s.text for s in Redactor().find("who was Dr. Seuss", REDACT_KINDS)] == ["Dr. Seuss"]


def test_same_thing_same_placeholder_and_kinds_are_numbered(r: Redactor) -> None:
    red = r.redact(
        "Alice Smith emailed a@b.com; Alice said c@d.org and a@b.com again", DEFAULT_REDACT
    )
    assert red.text == (
        "<PERSON_1> emailed <EMAIL_1>; <PERSON_1> said <EMAIL_2> and <EMAIL_1> again"
    )
    assert red.placeholders["<PERSON_1>"] == ("person", "Alice Smith")


def test_only_the_requested_kinds_are_redacted(r: Redactor) -> None:
    text = "remind Alice at 7:30 pm to collect Will from Greenfield Primary"
    assert r.redact(text, DEFAULT_REDACT).text == (
        "remind <PERSON_1> at 7:30 pm to collect <PERSON_2> from Greenfield Primary"
    )
    assert r.redact(text, (*DEFAULT_REDACT, "time", "place")).text == (
        "remind <PERSON_1> at <TIME_1> to collect <PERSON_2> from <PLACE_1>"
    )


def test_restore_puts_names_back_but_never_reads_out_a_card(r: Redactor) -> None:
    red = r.redact("tell Bob his card 4111 1111 1111 1111 arrived at a@b.com", DEFAULT_REDACT)
    reply = "Sure: <PERSON_1>, your card <CARD_1> was sent to [EMAIL_1]. PERSON_1 will be glad."
    assert red.restore(reply) == (
        "Sure: Bob, your card the number ending in 1 1 1 1 was sent to a@b.com. Bob will be glad."
    )


def test_restore_handles_invented_placeholders(r: Redactor) -> None:
    red = r.redact("tell Bob hello", DEFAULT_REDACT)
    assert red.restore("<PERSON_1> and <PERSON_7> and <phone_2>") == (
        "Bob and someone and that number"
    )
    assert r.redact("nothing here", DEFAULT_REDACT).restore("<PERSON_1>") == "<PERSON_1>"


def test_redacted_text_never_contains_what_was_found(r: Redactor) -> None:
    text = (
        "Alice Smith lives at 42 Elm Road, call +44 20 7946 0958 or mail alice@example.com, "
        "IBAN GB29 NWBK 6016 1331 9268 19, card 4111 1111 1111 1111"
    )
    red = r.redact(text, REDACT_KINDS)
    for span in red.spans:
        assert span.text not in red.text
    assert len(red.spans) == 6


# ------------------------------------------------------------------ the test set -------


def _bench() -> ModuleType:
    if "bench_redaction" in sys.modules:
        return sys.modules["bench_redaction"]
    sys.path.insert(0, str(REPO / "bench"))
    spec = importlib.util.spec_from_file_location(
        "bench_redaction", REPO / "bench" / "bench_redaction.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_set_is_big_and_varied_enough() -> None:
    bench = _bench()
    _config, items = bench.load_set(REPO / "tests" / "data" / "redaction_set.jsonl")
    assert len(items) >= 60
    per_kind: dict[str, int] = {}
    for item in items:
        for g in item.gold:
            per_kind[g.kind] = per_kind.get(g.kind, 0) + 1
    assert set(per_kind) == set(REDACT_KINDS)
    assert min(per_kind.values()) >= 10
    assert len({i.text for i in items}) == len(items)
    assert sum(1 for i in items if not i.gold) >= 10  # sentences that must come through untouched


def test_recall_and_precision_on_the_set() -> None:
    bench = _bench()
    config, items = bench.load_set(REPO / "tests" / "data" / "redaction_set.jsonl")
    result = bench.summary(bench.evaluate(config, items))
    assert result["overall"]["recall_pct"] >= 95.0
    assert result["overall"]["precision_pct"] >= 95.0
    for kind, score in result["kinds"].items():
        assert score["recall_pct"] >= 90.0, (kind, score)
    dev = bench.summary(bench.evaluate(config, [i for i in items if i.split == "dev"]))
    for kind, score in dev["kinds"].items():
        assert score["recall_pct"] >= 95.0, (kind, score)
