"""The understanding benchmarks' own machinery, on the real evaluation data.

Home Assistant's intent test suite must keep passing for the intents Hearth supports
(templates only: seconds), and the SLURP mapping must judge outcomes the way its rules
say. Skipped when ../shared/eval-data is not there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import pytest

from assistant.config import load_settings
from assistant.home import open_home

BENCH = Path(__file__).resolve().parents[1] / "bench"
pytestmark = pytest.mark.evaldata


@pytest.fixture(autouse=True)
def _bench_on_path(eval_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARTH_EVAL_DATA", str(eval_data))
    monkeypatch.syspath_prepend(str(BENCH))


def test_home_assistant_intent_suite_passes_for_supported_intents() -> None:
    import bench_intents_ha

    args = argparse.Namespace(json=True, progress=False, failures=-1, stack="templates")
    result = bench_intents_ha.run(args)
    assert result["supported_core_sentences"] > 700
    assert result["supported_core_pct"] >= 99.5, result["failures"][:10]
    assert "HassStartTimer" in result["unsupported_intents"]


def test_slurp_mapping_on_labelled_devel_rows(tmp_path: Path) -> None:
    import slurp_mapping as sm

    home = open_home(load_settings(data_dir=str(tmp_path)))
    mapper = sm.Mapper(home, "living_room")
    rows = {}
    path = Path(os.environ["HEARTH_EVAL_DATA"]) / "slu" / "slurp" / "devel.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        rows[row["sentence"]] = sm.parse_row(row)
    state = {e.entity_id: {"brightness_pct": 50} for e in home.entities()}

    dim = mapper.expected(rows["please dim the lights in the bedroom"])
    assert dim.kind == "act"
    ok = [{"service": "light.turn_on", "entity_id": "light.bedroom", "data": {"brightness_pct": 25}}]
    brighter = [{"service": "light.turn_on", "entity_id": "light.bedroom", "data": {"brightness_pct": 75}}]
    assert sm.judge(dim, ok, asked=False, escalated=False, state=state) == "correct"
    assert sm.judge(dim, brighter, asked=False, escalated=False, state=state) == "wrong"
    assert sm.judge(dim, [], asked=False, escalated=False, state=state) == "no_action"

    later = mapper.expected(rows["at one pm today start the robot vacuum cleaner"])
    assert later.kind == "none"
    start = [{"service": "vacuum.start", "entity_id": "vacuum.robot", "data": {}}]
    assert sm.judge(later, start, asked=False, escalated=False, state=state) == "wrong"

    plug = mapper.expected(rows["turn on the wemo plug socket"])
    assert plug.kind == "clarify"
    assert sm.judge(plug, [], asked=True, escalated=False, state=state) == "clarified_ok"

    closet = mapper.expected(rows["turn off the closet light"])
    assert closet.kind == "none"
    other = next(r for r in rows.values() if r.scenario != "iot")
    assert mapper.expected(other).kind == "none"
    home.close()


def test_intent_normalisation_adds_the_missing_scenario() -> None:
    import slurp_mapping as sm

    row = {"sentence": "x", "intent": "hue_lightoff", "scenario": "iot", "action": "hue_lightoff",
           "tokens": [], "entities": []}
    assert sm.parse_row(row).intent == "iot_hue_lightoff"
    assert sys.modules["slurp_mapping"] is sm
