"""The wake stage's decision rules and second stage, with a fake engine and a fake verifier."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pytest

from assistant.audio.chunk import CHUNK_SAMPLES, AudioChunk, Samples
from assistant.config import WakeModelSettings, WakeVerifierSettings, load_settings, wake_model
from assistant.errors import ConfigError
from assistant.wake.base import WakeDetector, WakeHit
from assistant.wake.second_stage import VerifiedWakeDetector
from assistant.wake.verify import Verdict, accept, phrase_similarity, soundex, wake_phrase


class FakeEngine(WakeDetector):
    """Scores come from a script: one dict per chunk."""

    def __init__(self, models: list[WakeModelSettings], script: Sequence[dict[str, float]],
                 refractory_s: float = 2.0) -> None:
        super().__init__(models, refractory_s=refractory_s)
        self.script = list(script)
        self.i = 0
        self.resets = 0

    def _score(self, samples: Samples) -> dict[str, float]:
        s = self.script[self.i] if self.i < len(self.script) else {}
        self.i += 1
        return s

    def _reset_engine(self) -> None:
        self.resets += 1


def chunk(i: int, value: int = 0) -> AudioChunk:
    return AudioChunk(np.full(CHUNK_SAMPLES, value, np.int16), i * 80.0)


def run(det: WakeDetector, n: int) -> list[tuple[int, WakeHit]]:
    out = []
    for i in range(n):
        hit = det.process(chunk(i, value=i))
        if hit is not None:
            out.append((i, hit))
    return out


def model(name: str = "hey_jarvis", **kw: object) -> WakeModelSettings:
    return WakeModelSettings(name=name, **kw)  # type: ignore[arg-type]


def test_threshold_is_inclusive_and_below_does_not_wake() -> None:
    det = FakeEngine([model(threshold=0.6)], [{"hey_jarvis": 0.59}, {"hey_jarvis": 0.6}])
    hits = run(det, 2)
    assert [i for i, _ in hits] == [1]
    assert hits[0][1].name == "hey_jarvis" and hits[0][1].score == pytest.approx(0.6)
    assert hits[0][1].t_audio_ms == 160.0 and hits[0][1].action == "listen"


def test_patience_needs_consecutive_frames() -> None:
    s = [0.9, 0.1, 0.9, 0.9, 0.9]
    det = FakeEngine([model(patience=2)], [{"hey_jarvis": v} for v in s])
    assert [i for i, _ in run(det, 5)] == [3]  # the broken streak at 1 starts over


def test_refractory_suppresses_then_releases() -> None:
    s = [0.9] * 40
    det = FakeEngine([model()], [{"hey_jarvis": v} for v in s], refractory_s=1.0)
    hits = [i for i, _ in run(det, 40)]
    # hit on chunk 0 (ends at 80 ms); quiet until 1080 ms, so chunk 14 (starts 1120) is next
    assert hits[:2] == [0, 14]
    assert all(b - a == 14 for a, b in itertools.pairwise(hits))


def test_reset_forgets_the_streak_and_resets_the_engine() -> None:
    det = FakeEngine([model(patience=2)], [{"hey_jarvis": 0.9}, {"hey_jarvis": 0.9}])
    assert det.process(chunk(0)) is None
    det.reset()
    assert det.resets == 1
    assert det.process(chunk(1)) is None  # one frame after the reset is not two


def test_new_stream_forgets_the_refractory_clock() -> None:
    det = FakeEngine([model()], [{"hey_jarvis": 0.9}] * 3, refractory_s=10.0)
    assert det.process(chunk(0)) is not None
    assert det.process(chunk(1)) is None
    det.new_stream()
    assert det.process(chunk(0)) is not None  # a new input's clock starts at 0 again


def test_best_of_several_models_wins_and_carries_its_action() -> None:
    det = FakeEngine([model(), model("stop_word", path="x.onnx", action="stop")],
                     [{"hey_jarvis": 0.7, "stop_word": 0.95}])
    hits = run(det, 1)
    assert hits[0][1].name == "stop_word" and hits[0][1].action == "stop"


class FakeVerifier:
    """Answers from a list (or always the same), recording each window it is given."""

    def __init__(self, accept: bool | list[bool]) -> None:
        self.answers = accept
        self.windows: list[Samples] = []

    def verify(self, model: WakeModelSettings, samples: Samples, peak: float) -> Verdict:
        self.windows.append(samples)
        ok = self.answers if isinstance(self.answers, bool) else self.answers[len(self.windows) - 1]
        return Verdict(ok, "Hey Jarvis." if ok else "Jarvis.", 1.0)


def verified(accept: bool | list[bool], script: list[dict[str, float]],
             models: list[WakeModelSettings] | None = None, max_wait_ms: int = 640,
             window_s: float = 0.8) -> tuple[VerifiedWakeDetector, FakeVerifier]:
    inner = FakeEngine(models or [model()], script)
    v = FakeVerifier(accept)
    det = VerifiedWakeDetector(inner, v, WakeVerifierSettings(max_wait_ms=max_wait_ms, window_s=window_s))
    return det, v


def jarvis(values: list[float], before: int = 0) -> list[dict[str, float]]:
    return [{"hey_jarvis": 0.0}] * before + [{"hey_jarvis": v} for v in values]


def test_second_stage_checks_when_the_score_peaks() -> None:
    det, v = verified(True, jarvis([0.6, 0.8, 0.95, 0.9, 0.2, 0.0], before=12))
    hits = run(det, 18)
    assert [i for i, _ in hits] == [15]  # fired on 12, peaked on 14, checked on 15
    hit = hits[0][1]
    assert hit.t_detect_ms == 13 * 80.0 and hit.t_audio_ms == 16 * 80.0 and hit.heard == "Hey Jarvis."
    assert hit.score == pytest.approx(0.95)  # the peak, not the score it fired at
    window = v.windows[0]
    assert len(window) == 10 * CHUNK_SAMPLES  # 0.8 s
    assert window[-1] == 15 and window[0] == 6  # chunk values mark their index: chunks 6..15
    assert det.verdicts[0].peak == pytest.approx(0.95)


def test_second_stage_checks_after_the_longest_wait() -> None:
    det, _ = verified(True, jarvis([0.6] + [0.99] * 20), max_wait_ms=240)
    assert [i for i, _ in run(det, 21)] == [3]  # 3 chunks (240 ms) after the hit on 0


def test_second_stage_rejection_drops_the_hit_and_is_recorded() -> None:
    det, _ = verified(False, jarvis([0.9, 0.5, 0.0, 0.0, 0.0]))
    assert run(det, 5) == []
    assert len(det.verdicts) == 1 and det.verdicts[0].verdict.text == "Jarvis."


def test_after_a_rejection_the_same_burst_is_checked_again_only_if_it_climbs() -> None:
    # 0.6 checked on its dip (reject); 0.7 is not 0.2 above 0.6: ignored; 0.85 is: checked
    # again on its dip and accepted (the first check came before the phrase had ended)
    det, v = verified([False, True], jarvis([0.6, 0.55, 0.7, 0.65, 0.85, 0.8, 0.0]))
    hits = run(det, 7)
    assert [i for i, _ in hits] == [5] and len(v.windows) == 2


def test_a_new_burst_after_a_rejection_is_a_new_candidate() -> None:
    det, v = verified([False, True], jarvis([0.9, 0.5, 0.1, 0.6, 0.4]))
    assert [i for i, _ in run(det, 5)] == [4]  # no 2 s refractory after a rejection
    assert len(v.windows) == 2


def test_models_that_do_not_verify_pass_straight_through() -> None:
    models = [model(), model("alexa", verify=False)]
    det, v = verified(False, [{"alexa": 0.9}], models=models)
    hits = run(det, 1)
    assert hits[0][1].name == "alexa" and hits[0][1].heard is None and v.windows == []


def test_second_stage_reset_drops_a_pending_check_and_keeps_scores() -> None:
    det, v = verified(True, jarvis([0.9, 0.2, 0.2, 0.2, 0.2]))
    assert det.process(chunk(0)) is None
    det.reset()
    assert run(det, 4) == [] and v.windows == []
    assert det.last_scores == {"hey_jarvis": 0.2}


@pytest.mark.parametrize(("text", "ok"), [
    ("Hey Jarvis.", True), ("hey, jarvis!", True), ("Hi Jarvis", True), ("heyjarvis", True),
    ("Hey Javis, turn on the light", True), ("Jarvis.", False), ("Jarvis Jarvis", False),
    ("They say Jarvis", False), ("Hey, Travis!", False), ("", False),
])
def test_phrase_matching(text: str, ok: bool) -> None:
    assert (phrase_similarity("hey jarvis", text) >= 0.8) is ok


@pytest.mark.parametrize(("text", "peak", "ok"), [
    ("Hey Jarvis.", 0.1, True),       # heard: accepted however low the first stage was
    ("Okay, Jarvis.", 0.1, False),    # not heard, first stage unsure: rejected
    ("Okay, Jarvis.", 0.7, True),     # first stage sure and it is not the near miss
    ("Jarvis.", 0.99, False),         # the near miss is vetoed however sure the first stage
    ("Jarvis Jarvis", 0.99, False),
    ("", 0.9, True),
])
def test_accept_rule(text: str, peak: float, ok: bool) -> None:
    assert accept(model(threshold=0.5), text, peak, 0.8) is ok


def test_single_word_phrases_have_no_near_miss() -> None:
    assert accept(model("alexa", threshold=0.9), "Alexa.", 0.2, 0.8)
    assert accept(model("alexa", threshold=0.9), "legs up", 0.95, 0.8)
    assert not accept(model("alexa", threshold=0.9), "legs up", 0.5, 0.8)


def test_soundex_and_phrases() -> None:
    assert soundex("hey") == soundex("hi") == "h000"
    assert soundex("jarvis") == soundex("jervis") == "j612"
    assert wake_phrase(model()) == "hey jarvis"
    assert wake_phrase(model("mine", path="m.onnx")) is None
    assert wake_phrase(model("mine", path="m.onnx", phrase="ok house")) == "ok house"


def test_wake_settings_validate(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = load_settings()
    assert s.wake.verifier.enabled and wake_model(s, "hey_jarvis").verify
    bad = tmp_path / "bad.toml"
    bad.write_text('[[wake.models]]\nname = "hey_jarvis"\naction = "dance"\n')
    with pytest.raises(ConfigError, match="action"):
        load_settings(bad)
