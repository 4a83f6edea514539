"""Audio in: every common format is converted; bad files are one clear error."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from assistant.audio.chunk import CHUNK_SAMPLES, SAMPLE_RATE, chunked
from assistant.audio.files import read_audio
from assistant.audio.sources import file_source, stdin_source
from assistant.errors import AudioError
from tests.conftest import run_hearth


def tone(rate: int, seconds: float = 1.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    mono = 0.5 * np.sin(2 * np.pi * 440 * t)
    return np.stack([mono] * channels, axis=1) if channels > 1 else mono


@pytest.mark.parametrize(
    ("rate", "channels", "subtype", "fmt", "suffix"),
    [
        (16000, 1, "PCM_16", "WAV", ".wav"),
        (8000, 1, "PCM_U8", "WAV", ".wav"),
        (22050, 1, "PCM_24", "WAV", ".wav"),
        (44100, 2, "PCM_16", "WAV", ".wav"),
        (48000, 2, "FLOAT", "WAV", ".wav"),
        (48000, 1, "PCM_32", "WAV", ".wav"),
        (44100, 2, "PCM_16", "FLAC", ".flac"),
        (22050, 1, "VORBIS", "OGG", ".ogg"),
    ],
)
def test_formats_are_converted(tmp_path: Path, rate: int, channels: int, subtype: str, fmt: str,
                               suffix: str) -> None:
    path = tmp_path / f"a{suffix}"
    sf.write(str(path), tone(rate, 1.0, channels), rate, subtype=subtype, format=fmt)
    audio = read_audio(path)
    assert audio.dtype == np.int16 and audio.ndim == 1
    assert abs(len(audio) - SAMPLE_RATE) <= 32
    # the 440 Hz tone survives resampling at about its level
    assert 0.3 < np.abs(audio).max() / 32768 < 0.6


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="not found"):
        read_audio(tmp_path / "nope.wav")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.wav").write_bytes(b"")
    with pytest.raises(AudioError, match="empty"):
        read_audio(tmp_path / "e.wav")


def test_not_audio(tmp_path: Path) -> None:
    (tmp_path / "n.wav").write_text("this is not a sound\n" * 50)
    with pytest.raises(AudioError, match="not a readable audio file"):
        read_audio(tmp_path / "n.wav")


def test_truncated_wav(tmp_path: Path) -> None:
    buf = io.BytesIO()
    sf.write(buf, tone(16000, 2.0), 16000, subtype="PCM_16", format="WAV")
    (tmp_path / "t.wav").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(AudioError, match="truncated"):
        read_audio(tmp_path / "t.wav")


def test_header_only_wav_holds_no_audio(tmp_path: Path) -> None:
    buf = io.BytesIO()
    sf.write(buf, np.zeros(0), 16000, subtype="PCM_16", format="WAV")
    (tmp_path / "h.wav").write_bytes(buf.getvalue())
    with pytest.raises(AudioError, match="no audio"):
        read_audio(tmp_path / "h.wav")


def test_chunks_are_80_ms_and_stamped() -> None:
    chunks = list(chunked(np.ones(CHUNK_SAMPLES * 2 + 100, np.int16)))
    assert [c.t_audio_ms for c in chunks] == [0.0, 80.0, 160.0]
    assert all(len(c.samples) == CHUNK_SAMPLES for c in chunks)


def test_file_source_adds_room_silence(tmp_path: Path) -> None:
    sf.write(str(tmp_path / "a.wav"), tone(16000, 0.8), 16000)
    chunks = list(file_source(tmp_path / "a.wav", tail_silence_ms=800))
    assert len(chunks) == 20


def test_stdin_source_reads_raw_pcm() -> None:
    raw = (np.arange(CHUNK_SAMPLES * 3 + 10) % 100).astype("<i2").tobytes()
    chunks = list(stdin_source(io.BytesIO(raw)))
    assert len(chunks) == 4 and chunks[3].t_audio_ms == 240.0
    assert int(chunks[1].samples[0]) == CHUNK_SAMPLES % 100


@pytest.mark.parametrize("case", ["missing", "not_audio", "empty", "truncated", "folder"])
def test_cli_listen_bad_input_is_one_line(tmp_path: Path, case: str) -> None:
    path = tmp_path / "in.wav"
    if case == "not_audio":
        path.write_text("hello")
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "truncated":
        buf = io.BytesIO()
        sf.write(buf, tone(16000, 1.0), 16000, subtype="PCM_16", format="WAV")
        path.write_bytes(buf.getvalue()[:5000])
    elif case == "folder":
        path = tmp_path
    proc = run_hearth("listen", "--input", str(path), "--json")
    assert proc.returncode != 0
    err = proc.stderr.decode().strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("hearth: ") and "Traceback" not in err
    assert proc.stdout == b""


def test_listen_without_portaudio_is_not_needed_for_files(tmp_path: Path) -> None:
    """The package imports and reads files with no sounddevice import at all."""
    code = ("import sys; import assistant.audio.sources as s, assistant.audio.files; "
            "import assistant.cli, assistant.runtime; assert 'sounddevice' not in sys.modules")
    subprocess.run([str(Path(__import__('sys').executable)), "-c", code], check=True)


def test_microphone_without_portaudio_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from assistant.audio import sources

    real_import = builtins.__import__

    def no_portaudio(name: str, *args: object, **kwargs: object) -> object:
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_portaudio)
    with pytest.raises(AudioError, match="PortAudio") as err:
        sources.microphone_source()
    assert err.value.code == "portaudio_missing"


def test_hearth_devices_runs() -> None:
    proc = run_hearth("devices", "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    for line in proc.stdout.decode().splitlines():
        assert {"index", "name", "inputs", "outputs"} <= set(__import__("json").loads(line))


def test_a_microphone_that_stops_delivering_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import queue

    from assistant.audio import sources

    frames: queue.Queue[np.ndarray] = queue.Queue()
    frames.put(np.zeros(1280, np.int16))
    assert len(sources._next_block(frames)) == 1280
    monkeypatch.setattr(sources, "MIC_STALL_S", 0.5)
    with pytest.raises(AudioError, match="no audio for"):
        sources._next_block(frames)


def test_reframer_makes_whole_chunks_from_pieces_of_any_size() -> None:
    from assistant.audio.chunk import CHUNK_SAMPLES, Reframer

    signal = np.arange(3 * CHUNK_SAMPLES + 100, dtype=np.int16)
    reframe = Reframer()
    chunks = [c for piece in np.array_split(signal, 7) for c in reframe.push(piece)]
    last = reframe.flush()
    assert [len(c.samples) for c in chunks] == [CHUNK_SAMPLES] * 3
    assert [c.t_audio_ms for c in chunks] == [0.0, 80.0, 160.0]
    assert last is not None and last.t_audio_ms == 240.0 and len(last.samples) == CHUNK_SAMPLES
    assert np.array_equal(np.concatenate([*(c.samples for c in chunks), last.samples])[: len(signal)], signal)
    assert reframe.flush() is None
