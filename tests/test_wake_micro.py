"""microWakeWord as the wake engine: real recordings, Piper speech, custom and bad model files,
the second stage on top of it, `[wake] engine` and `--wake-engine`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.chunk import chunked
from assistant.audio.files import read_audio, write_wav
from assistant.config import WakeModelSettings, load_settings, wake_model, wake_names
from assistant.errors import ConfigError, ModelError
from assistant.wake.base import WakeDetector, WakeHit
from tests.conftest import run_hearth, silence

pytestmark = pytest.mark.real

MWW_JARVIS = WakeModelSettings(name="hey_jarvis", engine="microwakeword", threshold=0.97)
MWW_ALEXA = WakeModelSettings(name="alexa", engine="microwakeword", threshold=0.9, action="stop")


def hits(det: WakeDetector, audio: np.ndarray) -> list[WakeHit]:
    det.new_stream()
    padded = np.concatenate([silence(500), audio, silence(1000)])
    return [h for c in chunked(padded) if (h := det.process(c)) is not None]


@pytest.fixture(scope="module")
def mww() -> WakeDetector:
    from assistant.wake.microwakeword import MicroWakeWord

    return MicroWakeWord([MWW_JARVIS, MWW_ALEXA])


@pytest.fixture(scope="module")
def hey_jarvis(say) -> np.ndarray:  # type: ignore[no-untyped-def]
    audio: np.ndarray = say("Hey Jarvis, turn on the kitchen light.")
    return audio


def test_real_alexa_recordings_wake_alexa(mww, eval_data) -> None:  # type: ignore[no-untyped-def]
    for n in (0, 3, 6):
        got = hits(mww, read_audio(eval_data / "wake" / "alexa" / f"{n}.flac"))
        assert [(h.name, h.action) for h in got] == [("alexa", "stop")], n
        assert got[0].score >= 0.9


def test_real_negatives_do_not_wake(mww, eval_data) -> None:  # type: ignore[no-untyped-def]
    folder = eval_data / "wake" / "computer"
    for path in sorted(folder.glob("*.wav"))[:3]:
        assert hits(mww, read_audio(path)) == [], path.name


def test_piper_hey_jarvis_wakes_and_other_speech_does_not(mww, hey_jarvis, say, espeak) -> None:  # type: ignore[no-untyped-def]
    got = hits(mww, hey_jarvis)
    assert [h.name for h in got] == ["hey_jarvis"] and got[0].score >= 0.97
    speech = np.concatenate([say("Turn on the kitchen light and set the thermostat to twenty one."),
                             silence(300), espeak("What is the weather like in Paris tomorrow?")])
    assert hits(mww, speech) == []


def test_scores_do_not_depend_on_chunk_boundaries(mww, hey_jarvis) -> None:  # type: ignore[no-untyped-def]
    """The front end buffers 10 ms frames itself: 80 ms chunks see what 10 ms ones see."""
    from assistant.wake.microwakeword import MicroWakeWord

    audio = np.concatenate([silence(500), hey_jarvis, silence(500)])
    mww.new_stream()
    per_chunk = [mww.scores(c)["hey_jarvis"] for c in chunked(audio)]
    fine = MicroWakeWord([MWW_JARVIS])
    fine.new_stream()
    per_10ms = [fine.scores(c)["hey_jarvis"] for c in chunked(audio, 160)]
    as_chunks = [max(per_10ms[i : i + 8]) for i in range(0, len(per_10ms), 8)]
    assert np.allclose(per_chunk, as_chunks[: len(per_chunk)])
    assert max(per_chunk) >= 0.97


def test_second_stage_on_microwakeword(settings, eval_data, hey_jarvis) -> None:  # type: ignore[no-untyped-def]
    from assistant.wake.factory import build_wake_detector, with_engine
    from assistant.wake.second_stage import VerifiedWakeDetector

    det = build_wake_detector(with_engine(settings, "microwakeword"), ["hey_jarvis"])
    assert isinstance(det, VerifiedWakeDetector)
    got = hits(det, hey_jarvis)
    assert [h.name for h in got] == ["hey_jarvis"] and "jarvis" in (got[0].heard or "").lower()
    # a real "Jarvis" alone that microWakeWord itself takes for "Hey Jarvis"
    jarvis = read_audio(eval_data / "wake" / "jarvis" / "00c476c2-9e01-40df-96c8-a5153db5b157.wav")
    assert [h.name for h in hits(det.inner, jarvis)] == ["hey_jarvis"]
    assert hits(det, jarvis) == []


def test_custom_model_by_manifest_or_bare_tflite(tmp_path: Path, hey_jarvis) -> None:  # type: ignore[no-untyped-def]
    from assistant.models import package_dir
    from assistant.wake.microwakeword import MicroWakeWord

    bundled = package_dir("pymicro_wakeword") / "models"
    shutil.copy(bundled / "hey_jarvis.tflite", tmp_path / "house.tflite")
    manifest = json.loads((bundled / "hey_jarvis.json").read_text())
    (tmp_path / "mine.json").write_text(json.dumps({**manifest, "model": "house.tflite"}))
    for path in (tmp_path / "mine.json", tmp_path / "house.tflite"):
        det = MicroWakeWord([WakeModelSettings(name="house", path=path, threshold=0.9)])
        assert [h.name for h in hits(det, hey_jarvis)] == ["house"], path.name


def test_custom_model_in_a_config_file(tmp_path: Path, hey_jarvis) -> None:  # type: ignore[no-untyped-def]
    from assistant.models import package_dir
    from assistant.wake.factory import build_wake_detector

    shutil.copy(package_dir("pymicro_wakeword") / "models" / "hey_jarvis.tflite", tmp_path / "house.tflite")
    cfg = tmp_path / "hearth.toml"
    cfg.write_text('[wake]\nengine = "microwakeword"\ndefault = "house"\n'
                   '[[wake.models]]\nname = "house"\npath = "house.tflite"\nthreshold = 0.9\n')
    det = build_wake_detector(load_settings(cfg))  # no phrase for a custom model: no second stage
    assert [h.name for h in hits(det, hey_jarvis)] == ["house"]


@pytest.mark.parametrize(("content", "suffix", "code"), [
    (None, ".tflite", "model_missing"),
    (b"this is not a tflite model", ".tflite", "model_corrupt"),
    (b"", ".tflite", "model_corrupt"),
    (b"{not json", ".json", "model_invalid"),
    (b'{"model": "gone.tflite", "micro": {}}', ".json", "model_missing"),
    (b"RIFF", ".wav", "model_invalid"),
])
def test_bad_model_files_are_one_clear_error(tmp_path: Path, content: bytes | None, suffix: str,
                                             code: str) -> None:
    """A bad file would crash TensorFlow Lite inside pymicro-wakeword; Hearth checks first."""
    from assistant.wake.microwakeword import MicroWakeWord

    path = tmp_path / f"word{suffix}"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelError) as err:
        MicroWakeWord([WakeModelSettings(name="word", path=path)])
    assert err.value.code == code and str(tmp_path) in str(err.value)


def test_an_openwakeword_model_is_refused_clearly(tmp_path: Path) -> None:
    from assistant.wake.microwakeword import MicroWakeWord

    with pytest.raises(ModelError) as err:
        MicroWakeWord([WakeModelSettings(name="hey_rhasspy")])
    assert err.value.code == "model_missing" and "not bundled with microWakeWord" in str(err.value)


def test_engine_setting_picks_each_engines_entry(tmp_path: Path) -> None:
    settings = load_settings()
    assert wake_model(settings, "hey_jarvis").engine == settings.wake.engine
    from assistant.wake.factory import with_engine

    mww = with_engine(settings, "microwakeword")
    assert wake_model(mww, "hey_jarvis").threshold == 0.97
    assert "okay_nabu" in wake_names(mww) and "hey_rhasspy" not in wake_names(mww)
    with pytest.raises(ConfigError, match="unknown wake word 'hey_rhasspy' for microwakeword"):
        wake_model(mww, "hey_rhasspy")
    bad = tmp_path / "bad.toml"
    bad.write_text('[wake]\nengine = "porcupine"\n')
    with pytest.raises(ConfigError, match=r"wake\.engine"):
        load_settings(bad)


def test_wake_test_and_listen_take_the_engine_flag(tmp_path: Path, hey_jarvis) -> None:  # type: ignore[no-untyped-def]
    wav = tmp_path / "hj.wav"
    write_wav(wav, np.concatenate([silence(500), hey_jarvis, silence(500)]))
    proc = run_hearth("wake", "test", str(wav), "--wake-engine", "microwakeword", "--no-second-stage",
                      "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    lines = [json.loads(x) for x in proc.stdout.decode().splitlines()]
    assert [x["wake_word"] for x in lines if x["type"] == "wake"] == ["hey_jarvis"]
    assert lines[-1]["thresholds"] == {"hey_jarvis": 0.97}
    wrong = run_hearth("listen", "--input", str(wav), "--wake-engine", "porcupine")
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr.decode()
    proc = run_hearth("listen", "--input", str(wav), "--wake-engine", "microwakeword", "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    events = [json.loads(x) for x in proc.stdout.decode().splitlines()]
    assert [e["wake_word"] for e in events if e["type"] == "wake"] == ["hey_jarvis"]


@pytest.mark.parametrize(("engine", "package"), [("microwakeword", "pymicro_wakeword"),
                                                 ("openwakeword", "openwakeword")])
def test_a_missing_engine_package_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, engine: str,
                                                     package: str) -> None:
    import importlib.util

    from assistant.wake.factory import ENGINES

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == package else real(name, *a))
    with pytest.raises(ModelError) as err:
        ENGINES[engine]([WakeModelSettings(name="hey_jarvis")], 2.0)
    assert err.value.code == "model_missing" and package in str(err.value)
