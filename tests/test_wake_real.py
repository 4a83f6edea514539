"""The wake stage with real models: openWakeWord, a custom model file, the Whisper second
stage on real recordings, and `hearth wake test`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.chunk import chunked
from assistant.audio.files import read_audio, write_wav
from assistant.config import WakeModelSettings
from assistant.errors import ModelError
from assistant.wake.base import WakeDetector, WakeHit
from tests.conftest import run_hearth, silence

pytestmark = pytest.mark.real


def hits(det: WakeDetector, audio: np.ndarray) -> list[WakeHit]:
    det.new_stream()
    padded = np.concatenate([silence(500), audio, silence(1000)])
    return [h for c in chunked(padded) if (h := det.process(c)) is not None]


@pytest.fixture(scope="session")
def oww():  # type: ignore[no-untyped-def]
    from assistant.wake.openwakeword import OpenWakeWord

    return OpenWakeWord([WakeModelSettings(name="hey_jarvis"),
                         WakeModelSettings(name="alexa", action="stop")])


@pytest.fixture(scope="session")
def verifier(settings):  # type: ignore[no-untyped-def]
    from assistant.wake.verify import WhisperPhraseVerifier

    return WhisperPhraseVerifier(settings.stt, context_s=settings.wake.verifier.context_s)


@pytest.fixture(scope="session")
def two_stage(settings, verifier):  # type: ignore[no-untyped-def]
    from assistant.wake.factory import build_wake_detector

    return build_wake_detector(settings, ["hey_jarvis"], verifier=verifier)


@pytest.fixture(scope="session")
def hey_jarvis(say) -> np.ndarray:  # type: ignore[no-untyped-def]
    return say("Hey Jarvis, turn on the kitchen light.")


def test_hey_jarvis_fires_on_piper_speech(oww, hey_jarvis) -> None:  # type: ignore[no-untyped-def]
    got = hits(oww, hey_jarvis)
    assert [h.name for h in got] == ["hey_jarvis"]
    assert got[0].score >= 0.5 and got[0].action == "listen"


def test_other_speech_does_not_wake(oww, say, espeak) -> None:  # type: ignore[no-untyped-def]
    speech = np.concatenate([say("Turn on the kitchen light and set the thermostat to twenty one."),
                             silence(300), espeak("What is the weather like in Paris tomorrow?"),
                             silence(300), say("Play some jazz in the living room, please.")])
    assert hits(oww, speech) == []


def test_several_wake_words_each_with_its_action(oww, eval_data) -> None:  # type: ignore[no-untyped-def]
    alexa = read_audio(eval_data / "wake" / "alexa" / "0.flac")
    got = hits(oww, alexa)
    assert [(h.name, h.action) for h in got] == [("alexa", "stop")]


def test_custom_model_by_path(tmp_path: Path, hey_jarvis) -> None:  # type: ignore[no-untyped-def]
    from assistant.models import bundled_path
    from assistant.wake.openwakeword import OpenWakeWord

    mine = tmp_path / "ok_house.onnx"
    shutil.copy(bundled_path("hey_jarvis"), mine)
    det = OpenWakeWord([WakeModelSettings(name="ok_house", path=mine, threshold=0.6)])
    got = hits(det, hey_jarvis)
    assert [h.name for h in got] == ["ok_house"]


def test_custom_model_in_a_config_file(tmp_path: Path, hey_jarvis) -> None:  # type: ignore[no-untyped-def]
    from assistant.config import load_settings
    from assistant.models import bundled_path
    from assistant.wake.factory import build_wake_detector

    shutil.copy(bundled_path("hey_jarvis"), tmp_path / "house.onnx")
    cfg = tmp_path / "hearth.toml"
    cfg.write_text('[wake]\ndefault = "house"\n[[wake.models]]\nname = "house"\npath = "house.onnx"\n')
    settings = load_settings(cfg)
    det = build_wake_detector(settings)  # no phrase for a custom model: no second stage
    assert [h.name for h in hits(det, hey_jarvis)] == ["house"]


@pytest.mark.parametrize(("content", "suffix", "code"), [
    (None, ".onnx", "model_missing"),
    (b"this is not an onnx model", ".onnx", "model_corrupt"),
    (b"", ".onnx", "model_corrupt"),
    (b"RIFF", ".wav", "model_invalid"),
])
def test_bad_model_files_are_one_clear_error(tmp_path: Path, content: bytes | None, suffix: str,
                                             code: str) -> None:
    from assistant.wake.openwakeword import OpenWakeWord

    path = tmp_path / f"word{suffix}"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelError) as err:
        OpenWakeWord([WakeModelSettings(name="word", path=path)])
    assert err.value.code == code and str(path) in str(err.value)


def test_second_stage_accepts_hey_jarvis(two_stage, hey_jarvis) -> None:  # type: ignore[no-untyped-def]
    got = hits(two_stage, hey_jarvis)
    assert [h.name for h in got] == ["hey_jarvis"]
    assert got[0].heard is not None and "jarvis" in got[0].heard.lower()


def test_second_stage_rejects_real_jarvis_alone(two_stage, oww, eval_data) -> None:  # type: ignore[no-untyped-def]
    # real recordings of "Jarvis" alone that the first stage scores above 0.95
    folder = eval_data / "wake" / "jarvis"
    clips = [read_audio(folder / n) for n in (
        "03cbb7ba-8e69-4f6a-b289-32ed4b686417.wav", "00c476c2-9e01-40df-96c8-a5153db5b157.wav")]
    for audio in clips:
        assert [h.name for h in hits(oww, audio)] == ["hey_jarvis"]  # the first stage is fooled
        assert hits(two_stage, audio) == []
    assert "jarvis" in two_stage.verdicts[-1].verdict.text.lower()


def test_hearth_wake_test_json(tmp_path: Path, hey_jarvis) -> None:  # type: ignore[no-untyped-def]
    wav = tmp_path / "hj.wav"
    write_wav(wav, np.concatenate([silence(500), hey_jarvis, silence(500)]))
    proc = run_hearth("wake", "test", str(wav), "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    lines = [json.loads(x) for x in proc.stdout.decode().splitlines()]
    scores = [x for x in lines if x["type"] == "scores"]
    assert len(scores) >= 40 and all(0.0 <= x["scores"]["hey_jarvis"] <= 1.0 for x in scores)
    wakes = [x for x in lines if x["type"] == "wake"]
    assert len(wakes) == 1 and wakes[0]["wake_word"] == "hey_jarvis" and wakes[0]["heard"]
    assert lines[-1]["type"] == "summary" and lines[-1]["peak"]["hey_jarvis"]["score"] > 0.9


def test_hearth_wake_test_text_and_bad_input(tmp_path: Path, hey_jarvis) -> None:  # type: ignore[no-untyped-def]
    wav = tmp_path / "hj.wav"
    write_wav(wav, hey_jarvis)
    proc = run_hearth("wake", "test", str(wav), "--wake-word", "alexa", "--no-second-stage")
    assert proc.returncode == 0, proc.stderr.decode()
    assert "peak alexa" in proc.stdout.decode() and "wakes: 0" in proc.stdout.decode()
    missing = run_hearth("wake", "test", str(tmp_path / "nope.wav"))
    assert missing.returncode == 2
    assert missing.stderr.decode().count("\n") == 1 and "not found" in missing.stderr.decode()
    unknown = run_hearth("wake", "test", str(wav), "--wake-word", "nobody")
    assert unknown.returncode == 2 and "unknown wake word" in unknown.stderr.decode()
