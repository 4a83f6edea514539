"""Where audio comes from: a file, raw PCM on stdin, or a microphone.

Every source yields :class:`AudioChunk` s of 80 ms. Only the microphone needs
PortAudio, and it is imported only when a microphone is opened.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from assistant.audio.chunk import CHUNK_SAMPLES, SAMPLE_RATE, AudioChunk, Reframer, Samples, chunked, pcm16
from assistant.audio.files import read_audio
from assistant.errors import AudioError


def paced(chunks: Iterator[AudioChunk], *, speed: float = 1.0) -> Iterator[AudioChunk]:
    """Release each chunk no earlier than it would arrive from a microphone."""
    start = time.monotonic()
    for chunk in chunks:
        due = start + chunk.end_ms / 1000.0 / speed
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        yield chunk


def samples_source(samples: Samples, *, realtime: bool = False,
                   tail_silence_ms: int = 0) -> Iterator[AudioChunk]:
    """Chunks of an in-memory signal, optionally followed by silence (as a room would be)."""
    if tail_silence_ms:
        samples = np.concatenate([samples, np.zeros(SAMPLE_RATE * tail_silence_ms // 1000, np.int16)])
    chunks = chunked(samples)
    return paced(chunks) if realtime else chunks


def file_source(path: Path | str, *, realtime: bool = False,
                tail_silence_ms: int = 0) -> Iterator[AudioChunk]:
    """A sound file of any common format, converted to 16 kHz mono."""
    return samples_source(read_audio(path), realtime=realtime, tail_silence_ms=tail_silence_ms)


def stdin_source(stream: BinaryIO | None = None) -> Iterator[AudioChunk]:
    """Raw 16 kHz mono signed 16-bit little-endian PCM, e.g. from `arecord -f S16_LE -r 16000`."""
    src = stream if stream is not None else sys.stdin.buffer
    reframe, carry = Reframer(), b""
    while data := src.read(CHUNK_SAMPLES * 2):
        data = carry + data
        carry = data[len(data) - len(data) % 2:]  # half a sample waits for its other byte
        yield from reframe.push(pcm16(data))
    if (last := reframe.flush()) is not None:
        yield last


def import_sounddevice() -> Any:
    """sounddevice, or one clear error when PortAudio is not installed."""
    try:
        import sounddevice
    except OSError:
        raise AudioError(
            "the microphone and speaker need PortAudio: install it (Debian: apt-get install "
            "libportaudio2) or use --input FILE",
            code="portaudio_missing",
        ) from None
    return sounddevice


def find_device(sd: Any, device: str | int | None, kind: str) -> int | None:
    """A device index from an index or a part of its name."""
    if device is None or isinstance(device, int):
        return device
    if device.isdigit():
        return int(device)
    channels = "max_input_channels" if kind == "input" else "max_output_channels"
    for index, info in enumerate(sd.query_devices()):
        if device.lower() in info["name"].lower() and info[channels] > 0:
            return index
    raise AudioError(f"no {kind} device matching {device!r}; `hearth devices` lists them",
                     code="device_missing")


def microphone_source(device: str | int | None = None, *, block_ms: int = 80) -> Iterator[AudioChunk]:
    """Live audio. The PortAudio callback only enqueues, so the loop never blocks capture.

    PortAudio and the device are checked now, before any model loads; capture starts
    when the first chunk is asked for.
    """
    sd = import_sounddevice()
    index = find_device(sd, device, "input")
    blocksize = SAMPLE_RATE * block_ms // 1000
    try:
        sd.check_input_settings(device=index, channels=1, dtype="int16", samplerate=SAMPLE_RATE)
    except Exception as exc:  # sounddevice raises PortAudioError, ValueError ...
        raise AudioError(f"cannot use the microphone: {exc}", code="device_failed") from None
    return _capture(sd, index, blocksize)


def _capture(sd: Any, index: int | None, blocksize: int) -> Iterator[AudioChunk]:
    frames: queue.Queue[Samples] = queue.Queue(maxsize=500)

    def callback(indata: Any, _frames: int, _time: Any, _status: Any) -> None:
        # Dropping when the loop stalled for 40 s is better than growing without bound.
        with contextlib.suppress(queue.Full):
            frames.put_nowait(indata[:, 0].copy())

    try:
        stream = sd.InputStream(samplerate=SAMPLE_RATE, channels=1, dtype="int16",
                                blocksize=blocksize, device=index, callback=callback)
    except Exception as exc:
        raise AudioError(f"cannot open the microphone: {exc}", code="device_failed") from None
    reframe = Reframer()
    with stream:
        while True:
            yield from reframe.push(_next_block(frames))


MIC_STALL_S = 10.0
"""A microphone silent for this long (no blocks at all, not quiet audio) has gone away."""


def _next_block(frames: queue.Queue[Samples]) -> Samples:
    """The next block from the capture callback. Waits in short steps: a signal (Ctrl-C,
    SIGTERM) handled on another thread is then acted on at once, and a device that stopped
    delivering (unplugged, its server gone) is one clear error instead of a silent hang."""
    for _ in range(int(MIC_STALL_S / 0.25)):
        with contextlib.suppress(queue.Empty):
            return frames.get(timeout=0.25)
    raise AudioError(f"the microphone delivered no audio for {MIC_STALL_S:.0f} s "
                     "(unplugged, or its sound server stopped?)", code="device_failed")


def list_devices() -> list[dict[str, Any]]:
    sd = import_sounddevice()
    out = []
    for index, info in enumerate(sd.query_devices()):
        out.append({"index": index, "name": info["name"],
                    "inputs": int(info["max_input_channels"]),
                    "outputs": int(info["max_output_channels"]),
                    "default_rate": float(info["default_samplerate"])})
    return out
