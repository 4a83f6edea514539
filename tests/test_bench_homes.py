"""The unseen-homes benchmark's own machinery: its case files load, and its judge counts
an opposite action as inverted, a step by its direction, and a sensitive action without
a yes as unsafe."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture(autouse=True)
def _bench_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    for name in ("homes_data", "homes_judge"):
        sys.modules.pop(name, None)


def _case(**kw: object) -> object:
    from homes_data import Case, parse_calls

    calls = {k: parse_calls(str(kw.pop(k))) for k in ("do", "confirm") if k in kw}
    return Case(say=str(kw.pop("say", "x")), area=None, **calls, **kw)  # type: ignore[arg-type]


LAMP = {"entity_id": "light.lamp", "state": "on", "attributes": {"brightness_pct": 40}}
DOOR = {"entity_id": "lock.door", "state": "locked", "sensitive": True}
ENTITIES = {"light.lamp": LAMP, "lock.door": DOOR}


def _judge(case: object, actions: list[dict[str, object]], pending: tuple[dict[str, object], ...] = (),
           handled_by: str = "local") -> dict[str, object]:
    from homes_judge import judge

    answer = {"handled_by": handled_by, "actions": actions, "pending": list(pending), "intent": "X"}
    return judge(case, answer, ENTITIES)  # type: ignore[arg-type]


def test_every_devel_case_file_loads(tmp_path: Path) -> None:
    from homes_data import HOMES_DIR, load_cases

    for path in sorted(HOMES_DIR.glob("*.cases.yaml")):
        if "ha_fixtures" in path.name:
            continue  # needs the eval data
        home = load_cases(path, None, tmp_path)
        assert home.cases and home.home_file.exists()


def test_held_out_case_files_say_so(tmp_path: Path) -> None:
    """A held-out file is left out by its name and counted apart by its flag: both must agree."""
    from homes_data import HOMES_DIR, case_files, load_cases

    for path in sorted(HOMES_DIR.glob("*.cases.yaml")):
        if "ha_fixtures" in path.name:
            continue
        home = load_cases(path, None, tmp_path)
        assert home.held_out == path.name.startswith("heldout_"), path.name
        assert (path in case_files(None, held_out=False)) != home.held_out, path.name


def test_opposite_direction_is_inverted_and_wrong() -> None:
    case = _case(do="light.turn_on light.lamp")
    on = {"service": "light.turn_on", "entity_id": "light.lamp", "data": {}}
    assert _judge(case, [on])["outcome"] == "right"
    verdict = _judge(case, [{**on, "service": "light.turn_off"}])
    assert verdict["outcome"] == "wrong" and verdict["inverted"] == 1


def test_a_step_is_judged_by_its_direction() -> None:
    dimmer = _case(do="light.turn_on light.lamp brightness_pct=-")
    down = {"service": "light.turn_on", "entity_id": "light.lamp", "data": {"brightness_pct": 20}}
    up = {"service": "light.turn_on", "entity_id": "light.lamp", "data": {"brightness_pct": 70}}
    assert _judge(dimmer, [down])["outcome"] == "right"
    assert _judge(dimmer, [up])["inverted"] == 1


def test_a_toggle_may_be_the_service_it_amounts_to() -> None:
    case = _case(do="light.toggle light.lamp")  # the lamp is on
    off = {"service": "light.turn_off", "entity_id": "light.lamp", "data": {}}
    on = {"service": "light.turn_on", "entity_id": "light.lamp", "data": {}}
    assert _judge(case, [off])["outcome"] == "right"
    assert _judge(case, [on])["inverted"] == 1


def test_a_sensitive_action_must_wait_for_a_yes() -> None:
    case = _case(confirm="lock.unlock lock.door")
    unlock = {"service": "lock.unlock", "entity_id": "lock.door", "data": {}}
    assert _judge(case, [], (unlock,), handled_by="confirm")["outcome"] == "right"
    applied = _judge(case, [unlock])
    assert applied["outcome"] == "wrong" and applied["sensitive"] == 1


def test_nothing_and_questions() -> None:
    assert _judge(_case(none=True), [], handled_by="unhandled")["outcome"] == "right"
    assert _judge(_case(clarify=True), [], handled_by="clarify")["outcome"] == "right"
    assert _judge(_case(do="light.turn_on light.lamp"), [], handled_by="clarify")["outcome"] == "clarified"


def test_a_state_question_answered_about_another_device_is_wrong() -> None:
    """Any "Get" intent used to count as right; the slots must be about the entity asked for."""
    from homes_judge import judge

    entities = {"lock.door": DOOR, "light.lamp": {**LAMP, "area": "den"},
                "sensor.den_humidity": {"entity_id": "sensor.den_humidity", "area": "den",
                                        "device_class": "humidity"}}
    case = _case(answer="lock.door")

    def outcome(slots: dict[str, object]) -> object:
        answer = {"handled_by": "local", "actions": [], "pending": [], "intent": "HassGetState",
                  "slots": slots}
        return judge(case, answer, entities)["outcome"]  # type: ignore[arg-type]

    assert outcome({"name": "lock.door", "state": "locked"}) == "right"
    assert outcome({"name": "light.lamp"}) == "wrong"
    assert outcome({"domain": "lock"}) == "right"
    humid = _case(answer="sensor.den_humidity")
    answer = {"handled_by": "local", "actions": [], "pending": [], "intent": "HassGetState",
              "slots": {"area": "kitchen", "domain": "sensor", "device_class": "humidity"}}
    assert judge(humid, answer, entities)["outcome"] == "wrong"  # type: ignore[arg-type]
    answer["slots"] = {"area": "den", "domain": "sensor", "device_class": "humidity"}
    assert judge(humid, answer, entities)["outcome"] == "right"  # type: ignore[arg-type]


def test_a_step_is_judged_on_the_key_the_case_names() -> None:
    """A blind's step reads its ``current_position``; a colour-temperature step its kelvin, not brightness."""
    from homes_judge import judge

    blind = {"entity_id": "cover.blind", "state": "open", "attributes": {"current_position": 40}}
    warm = {"entity_id": "light.warm", "state": "on",
            "attributes": {"brightness_pct": 50, "color_temp_kelvin": 4000}}
    entities = {"cover.blind": blind, "light.warm": warm}

    def outcome(case: object, action: dict[str, object]) -> object:
        answer = {"handled_by": "local", "actions": [action], "pending": [], "intent": "X"}
        return judge(case, answer, entities)  # type: ignore[arg-type]

    up = _case(do="cover.set_cover_position cover.blind position=+")
    assert outcome(up, {"service": "cover.set_cover_position", "entity_id": "cover.blind",
                        "data": {"position": 60}})["outcome"] == "right"
    lower = outcome(up, {"service": "cover.set_cover_position", "entity_id": "cover.blind",
                         "data": {"position": 20}})
    assert lower["outcome"] == "wrong" and lower["inverted"] == 1
    warmer = _case(do="light.turn_on light.warm color_temp_kelvin=-")
    assert outcome(warmer, {"service": "light.turn_on", "entity_id": "light.warm",
                            "data": {"color_temp_kelvin": 2700}})["outcome"] == "right"
    assert outcome(warmer, {"service": "light.turn_on", "entity_id": "light.warm",
                            "data": {"color_temp_kelvin": 6500}})["inverted"] == 1


def test_another_right_set_of_actions_counts_as_right(tmp_path: Path) -> None:
    """``or_do``: two services that both do what was said; either is right, neither half is wrong."""
    from homes_data import load_cases

    (tmp_path / "h.yaml").write_text(
        "areas: [{id: den, name: Den}]\nentities:\n"
        "  - {entity_id: climate.heat, name: Heat, area: den, state: heat}\n", encoding="utf-8")
    (tmp_path / "h.cases.yaml").write_text(
        "home: h.yaml\ndevice_area: den\ncases:\n"
        "  - {say: heat off, do: climate.turn_off climate.heat,"
        " or_do: [climate.set_hvac_mode climate.heat hvac_mode=off]}\n", encoding="utf-8")
    case = load_cases(tmp_path / "h.cases.yaml", None, tmp_path).cases[0]
    entities = {"climate.heat": {"entity_id": "climate.heat", "state": "heat"}}
    from homes_judge import judge

    def outcome(service: str, data: dict[str, object]) -> object:
        answer = {"handled_by": "local", "pending": [], "intent": "X",
                  "actions": [{"service": service, "entity_id": "climate.heat", "data": data}]}
        return judge(case, answer, entities)["outcome"]  # type: ignore[arg-type]

    assert outcome("climate.turn_off", {}) == "right"
    assert outcome("climate.set_hvac_mode", {"hvac_mode": "off"}) == "right"
    assert outcome("climate.set_hvac_mode", {"hvac_mode": "cool"}) == "wrong"
