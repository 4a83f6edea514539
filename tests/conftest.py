"""Shared fixtures: a private data dir per test, eval-data, and models loaded once."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.models import quiet_openmp

REPO = Path(__file__).resolve().parents[1]
pytest_plugins = ["tests.mqtt_fixtures"]  # the broker and fleet of the MQTT test modules
quiet_openmp()  # before any model runtime loads
# The built-in skills are installed (editable) beside Hearth, which is how they are found;
# this checkout's copy of their code is the one under test, here and in the `hearth` the
# tests start (the venv may be shared with another checkout, as a git worktree's is).
_SKILL_DIRS = [str(p) for p in sorted((REPO / "skills").glob("*/")) if (p / "pyproject.toml").is_file()]
sys.path[:0] = [d for d in _SKILL_DIRS if d not in sys.path]
os.environ["PYTHONPATH"] = os.pathsep.join(
    [*_SKILL_DIRS, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))])
# `hearth` without --config reads the packaged config in tests, whatever ~/.config/hearth or
# /etc/hearth hold on the machine (tests of the search path set HEARTH_CONFIG themselves).
os.environ["HEARTH_CONFIG"] = str(REPO / "assistant" / "configs" / "default.toml")


def eval_data_dir() -> Path:
    return Path(os.environ.get("HEARTH_EVAL_DATA", REPO.parent / "shared" / "eval-data"))


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own home state, audit log and lists."""
    data = tmp_path / "hearth-data"
    monkeypatch.setenv("HEARTH_DATA_DIR", str(data))
    return data


@pytest.fixture(scope="session")
def eval_data() -> Path:
    path = eval_data_dir()
    if not path.is_dir():
        pytest.skip(f"eval data not found at {path} (set HEARTH_EVAL_DATA); these tests use real "
                    "recordings that are not part of the repository")
    return path


def run_hearth(*args: str, input: bytes | None = None, env: dict[str, str] | None = None,
               timeout: float = 300) -> subprocess.CompletedProcess[bytes]:
    """Run the real `hearth` command as a user would."""
    hearth = Path(sys.executable).with_name("hearth")
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([str(hearth), *args], input=input, capture_output=True, env=full_env,
                          timeout=timeout, check=False)


@pytest.fixture(scope="session")
def session_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("session-data")


@pytest.fixture(scope="session")
def settings(session_data_dir: Path):  # type: ignore[no-untyped-def]
    from assistant.config import load_settings

    return load_settings(data_dir=str(session_data_dir))


@pytest.fixture(scope="session")
def piper(settings):  # type: ignore[no-untyped-def]
    from assistant.tts.piper import PiperTts

    # test speech is made anew each time (a test that says it again hears another take)
    return PiperTts(settings.tts.model_copy(update={"cache_pieces": 0}))


@pytest.fixture(scope="session")
def say(piper):  # type: ignore[no-untyped-def]
    """Text -> 16 kHz int16 speech with the bundled Piper voice."""
    import soxr

    from assistant.audio.chunk import SAMPLE_RATE, to_int16

    def speak(text: str) -> np.ndarray:
        audio = piper.speak_all(text).astype(np.float32) / 32768.0
        return to_int16(soxr.resample(audio, piper.sample_rate, SAMPLE_RATE))

    return speak


@pytest.fixture(scope="session")
def espeak(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Text -> 16 kHz int16 speech with espeak-ng (another voice, other speeds)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/setup.sh installs it)")
    from assistant.audio.files import read_audio

    folder = tmp_path_factory.mktemp("espeak")

    def speak(text: str, voice: str = "en-us", speed: int = 160, pitch: int = 50) -> np.ndarray:
        out = folder / f"{abs(hash((text, voice, speed, pitch)))}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(out),
                        text], check=True, capture_output=True)
        return read_audio(out)

    return speak


def silence(ms: int) -> np.ndarray:
    return np.zeros(16 * ms, np.int16)


@pytest.fixture(scope="session")
def llm() -> Iterator[object]:
    """The bundled SmolLM2-135M through llama.cpp, loaded once for the session."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (pip install 'hearth[llm]')")
    from assistant.errors import ModelError
    from assistant.llm.local import LocalLlm

    try:
        model = LocalLlm(threads=2)
    except ModelError as exc:
        pytest.skip(f"the bundled local LLM is unavailable: {exc}")
    yield model
    model.close()


@pytest.fixture(scope="session")
def voice(settings) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """The whole voice loop with real models, loaded once for the session."""
    from assistant.events import Event
    from assistant.runtime import Hearing, Runtime

    events: list[Event] = []
    assistant = Runtime(settings, emit=events.append, hearing=Hearing(speak=True))
    assistant.events = events  # type: ignore[attr-defined]
    yield assistant
    assistant.close()


@pytest.fixture(scope="module")
def pulse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A private PulseAudio daemon whose null sink's monitor is the default source: a
    microphone for the real sounddevice path (play into it with ``paplay --device=hearth_mic``)."""
    if not (shutil.which("pulseaudio") and shutil.which("paplay")):
        pytest.skip("PulseAudio is not installed (scripts/setup.sh installs it)")
    runtime = tmp_path_factory.mktemp("pulse")
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime),
           "PULSE_RUNTIME_PATH": str(runtime / "pulse")}
    start = subprocess.run(
        ["pulseaudio", "--daemonize=yes", "--exit-idle-time=-1", "--disallow-exit", "-n",
         "--load=module-native-protocol-unix", "--load=module-null-sink sink_name=hearth_mic",
         "--load=module-always-sink"], env=env, capture_output=True, check=False)
    if start.returncode != 0:
        pytest.skip(f"PulseAudio did not start: {start.stderr.decode().strip()[-200:]}")
    subprocess.run(["pactl", "set-default-source", "hearth_mic.monitor"], env=env, check=True)
    yield env
    subprocess.run(["pulseaudio", "--kill"], env=env, check=False)


def ctrl_c_works() -> None:
    """``preexec_fn`` for a child that the test stops with SIGINT, as Ctrl-C would: a
    shell without job control starts background jobs with SIGINT ignored, and children
    inherit that, so under such a CI runner the SIGINT would be lost."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
