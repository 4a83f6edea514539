"""Time and date replies, with the clock pinned."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import hearth_time_date
import pytest
from hearth_time_date import skill

from assistant.skills.testing import SkillTester


@pytest.fixture(autouse=True)
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hearth_time_date, "now", lambda: dt.datetime(2025, 3, 4, 15, 25).timestamp())


def test_time_in_both_clocks(tmp_path: Path) -> None:
    with SkillTester(skill, data_dir=tmp_path) as t:
        assert t.ask("what time is it").reply == "It's 3:25 PM."
    with SkillTester(skill, data_dir=tmp_path, settings={"time_date": {"clock": "24h"}}) as t:
        assert t.ask("what's the time").reply == "It's 15:25."


def test_date_day_and_year(tmp_path: Path) -> None:
    with SkillTester(skill, data_dir=tmp_path) as t:
        assert t.ask("what's the date").reply == "Today is Tuesday, March 4th, 2025."
        assert t.ask("what day is it today").intent == "HassGetCurrentDate"
        assert t.ask("what year is it").reply == "It's 2025."


def test_a_bad_setting_fails_at_start(tmp_path: Path) -> None:
    from assistant.errors import ConfigError

    with pytest.raises(ConfigError, match=r"skills\.settings\.time_date\.clock"):
        SkillTester(skill, data_dir=tmp_path, settings={"time_date": {"clock": "13h"}})
