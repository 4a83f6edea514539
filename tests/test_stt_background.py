"""The worker that transcribes while the person speaks: which decode a pause is judged on."""

from __future__ import annotations

import threading

import numpy as np

from assistant.audio.chunk import Samples
from assistant.stt.background import BackgroundTranscriber, Heard


class Gated:
    """A transcriber that says how much audio it heard, once its gate is opened."""

    def __init__(self, word: str) -> None:
        self.word = word
        self.started = threading.Event()
        self.gate = threading.Event()

    def __call__(self, samples: Samples) -> str:
        self.started.set()
        assert self.gate.wait(10), "the test never opened the gate"
        return f"{self.word} {len(samples)}"


def audio(n: int) -> Samples:
    return np.zeros(n, np.int16)


def covering_later(heard: BackgroundTranscriber, samples: int) -> tuple[threading.Thread, list[Heard | None]]:
    out: list[Heard | None] = []
    thread = threading.Thread(target=lambda: out.append(heard.covering(samples)), daemon=True)
    thread.start()
    return thread, out


def test_a_done_decode_of_the_speech_is_taken_while_a_longer_one_runs() -> None:
    first = Gated("partial")
    first.gate.set()
    heard = BackgroundTranscriber(first)
    heard.submit(audio(1000))
    assert heard.covering(1000) is not None  # done: "partial 1000"
    slow = Gated("quiet")
    heard._transcribe = slow  # the decode asked for as the speech stopped: more audio, slow
    heard.submit(audio(1200))
    assert slow.started.wait(10)
    thread, out = covering_later(heard, 1000)
    thread.join(2)
    assert not thread.is_alive(), "waited for the longer decode though one covered the speech"
    assert out[0] is not None and out[0].text == "partial 1000"
    slow.gate.set()
    heard.wait_idle()


def test_a_second_look_running_is_waited_for() -> None:
    plain = Gated("plain")
    plain.gate.set()
    heard = BackgroundTranscriber(plain)
    heard.submit(audio(1000))
    assert heard.covering(1000) is not None
    look = Gated("retry")
    heard.submit(audio(1000), look="retry", transcribe=look)
    assert look.started.wait(10)
    thread, out = covering_later(heard, 1000)
    thread.join(0.3)
    assert thread.is_alive()  # the look is newer than the decode it looks again at
    look.gate.set()
    thread.join(10)
    assert out[0] is not None and out[0].look == "retry" and out[0].text == "retry 1000"


def test_with_no_decode_of_the_speech_yet_the_running_one_is_waited_for() -> None:
    slow = Gated("quiet")
    heard = BackgroundTranscriber(slow)
    heard.submit(audio(1200))
    assert slow.started.wait(10)
    thread, out = covering_later(heard, 1000)
    thread.join(0.3)
    assert thread.is_alive()
    slow.gate.set()
    thread.join(10)
    assert out[0] is not None and out[0].text == "quiet 1200"
    assert heard.covering(5000) is None  # nothing asked for covers that much
