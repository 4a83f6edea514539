"""Replies said piece by piece on their own thread, and paused, resumed or stopped by the
wake word's check (fakes for the voice and the sink; the real ones: test_voice_real)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.chunk import Samples
from assistant.audio.sinks import DrainingSink, PausableSink, StoppableSink, WavSink
from assistant.config import WakeModelSettings, WakeVerifierSettings, load_settings
from assistant.errors import HearthError
from assistant.events import Event, to_dict
from assistant.loop import VoiceLoop
from assistant.runtime import Runtime
from assistant.tts.playback import ReplyPlayback, spoken_pieces
from assistant.wake.second_stage import VerifiedWakeDetector
from assistant.wake.verify import Verdict
from tests.loop_fakes import LoudnessVad, MarkerWake, ScriptedStt, signal, types


def test_a_reply_is_said_by_sentence_and_a_long_sentence_by_clause() -> None:
    assert spoken_pieces("Turned on the Kitchen Light.") == ["Turned on the Kitchen Light."]
    assert spoken_pieces("Your pasta timer is done. It has been ringing for a while, so the water "
                         "may be boiling over.") == [
        "Your pasta timer is done.", "It has been ringing for a while,", "so the water may be boiling over."]
    # a short sentence keeps its commas; a clause too short to say alone goes with the next
    assert spoken_pieces("Yes, it is on.") == ["Yes, it is on."]
    assert spoken_pieces("Yes, it is, as you asked, on at eighty percent in the kitchen and the hall.") == [
        "Yes, it is,", "as you asked,", "on at eighty percent in the kitchen and the hall."]
    assert spoken_pieces("Dr. Smith called at 3.5 past. No message") == ["Dr. Smith called at 3.5 past.",
                                                                        "No message"]


class Sink:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.played = threading.Event()

    def play(self, samples: Samples, rate: int) -> None:
        self.calls.append(f"play {len(samples)}")
        self.played.set()

    def finish(self) -> None:
        self.calls.append("finish")

    def pause(self) -> None:
        self.calls.append("pause")

    def resume(self) -> None:
        self.calls.append("resume")

    def stop(self) -> None:
        self.calls.append("stop")


class OnePiecePerSecond:
    """A voice whose second piece waits until the first one is playing."""

    sample_rate = 16000

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.made: list[str] = []

    def synthesize(self, text: str) -> list[Samples]:
        if self.made:
            assert self.sink.played.wait(5), "the first piece was not played before the next was made"
        self.made.append(text)
        return [np.zeros(16000, np.int16)]


def playback(sink: Sink, voice: object, events: list[Event], now: list[float],
             *, threaded: bool = True) -> ReplyPlayback:
    def fail(exc: HearthError, at_ms: float) -> None:
        raise AssertionError(exc)

    return ReplyPlayback(voice, sink, send=events.append, fail=fail,  # type: ignore[arg-type]
                         wall_ms=lambda: 0.0, now_ms=lambda: now[0], threaded=threaded)


def test_the_first_piece_plays_while_the_next_is_made_and_the_loop_is_free() -> None:
    sink = Sink()
    voice = OnePiecePerSecond(sink)
    events: list[Event] = []
    now = [1000.0]
    reply = playback(sink, voice, events, now)
    reply.say("One piece. Then another.", at_ms=900.0)
    assert reply.busy(1000.0)  # made in the background: say() did not wait for it
    reply.drain()
    assert voice.made == ["One piece.", "Then another."]
    assert sink.calls == ["play 16000", "play 16000", "finish"]
    assert [e.type for e in events] == ["tts_start"]
    assert reply.until_ms == 3000.0 and reply.busy(2999.0) and not reply.busy(3000.0)


def test_pause_holds_the_rest_and_resume_plays_it_later() -> None:
    sink = Sink()
    events: list[Event] = []
    now = [0.0]
    reply = playback(sink, OnePiecePerSecond(sink), events, now, threaded=False)
    reply.say("One piece.", at_ms=0.0)
    reply.pause(400.0, "wake_check")
    assert reply.paused and not reply.audible(500.0) and reply.busy(5000.0)
    reply.resume(700.0, "no_wake_word")
    assert reply.until_ms == 1300.0  # 300 ms paused: it ends 300 ms later
    reply.stop(800.0, "wake_word")
    assert not reply.busy(900.0)
    assert sink.calls == ["play 16000", "finish", "pause", "resume", "stop"]
    assert [e.type for e in events] == ["tts_start", "tts_pause", "tts_resume", "tts_stop"]


class StopOnly(Sink):
    """A sink that can stop a reply but not pause it (as a satellite's)."""

    pause = resume = None  # type: ignore[assignment]


def test_what_a_sink_can_do_is_its_type_and_one_that_cannot_pause_plays_on(tmp_path: Path) -> None:
    assert isinstance(Sink(), PausableSink) and isinstance(StopOnly(), StoppableSink)
    assert not isinstance(StopOnly(), PausableSink)
    assert not isinstance(WavSink(tmp_path / "r.wav"), StoppableSink | DrainingSink)
    sink = StopOnly()
    events: list[Event] = []
    reply = playback(sink, OnePiecePerSecond(sink), events, [0.0], threaded=False)
    reply.say("One piece.", at_ms=0.0)
    reply.pause(400.0, "wake_check")
    assert not reply.paused and reply.audible(500.0)  # it plays on through the check
    reply.stop(800.0, "wake_word")
    assert sink.calls == ["play 16000", "finish", "stop"]
    assert [e.type for e in events] == ["tts_start", "tts_stop"]


class LongReply:
    sample_rate = 16000

    def synthesize(self, text: str) -> list[Samples]:
        return [np.zeros(32000, np.int16)]


class Judge:
    """The second stage's verdicts, in order."""

    def __init__(self, *verdicts: bool) -> None:
        self.verdicts = list(verdicts)

    def verify(self, model: WakeModelSettings, samples: Samples, peak: float) -> Verdict:
        return Verdict(self.verdicts.pop(0), "hey jarvis")


@pytest.mark.parametrize("second_is_the_wake_word", [False, True])
def test_the_reply_goes_silent_while_the_wake_word_is_checked(second_is_the_wake_word: bool) -> None:
    sink = Sink()
    events: list[Event] = []
    with Runtime(load_settings()) as text_assistant:
        text_assistant.pipeline.emit = events.append
        inner = MarkerWake()
        wake = VerifiedWakeDetector(inner, Judge(True, second_is_the_wake_word), WakeVerifierSettings(),
                                    models=list(inner.models.values()))
        loop = VoiceLoop(load_settings(), pipeline=text_assistant.pipeline,
                         stt=ScriptedStt({1: "turn on the kitchen light"}), vad=LoudnessVad(), frame_ms=80.0,
                         wake=wake, tts=LongReply(), sink=sink, emit=events.append, background=False)
        # the command; 1.2 s into its 2 s reply, a candidate the check accepts or rejects
        loop.run(signal(("wake", 1), ("speech", 8), ("silence", 18), ("wake", 1), ("speech", 8),
                        ("silence", 30)))
    kinds = types([to_dict(e) for e in events])
    assert kinds.count("tts_pause") == 1
    if second_is_the_wake_word:
        assert kinds[kinds.index("tts_pause") + 1:kinds.index("tts_pause") + 3] == ["wake", "tts_stop"]
        assert kinds.count("action") == 2 and "tts_resume" not in kinds
        assert sink.calls.count("stop") == 1
    else:
        assert kinds[kinds.index("tts_pause") + 1] == "tts_resume"
        assert kinds.count("wake") == 1 and "tts_stop" not in kinds
        assert sink.calls.count("stop") == 0


def test_a_turns_reply_is_made_on_its_thread_and_timed_as_its_tts_stage() -> None:
    events: list[Event] = []
    with Runtime(load_settings()) as text_assistant:
        text_assistant.pipeline.emit = events.append
        loop = VoiceLoop(load_settings(), pipeline=text_assistant.pipeline,
                         stt=ScriptedStt({1: "turn on the kitchen light"}), vad=LoudnessVad(), frame_ms=80.0,
                         wake=MarkerWake(), tts=LongReply(), sink=Sink(), emit=events.append)
        loop.run(signal(("wake", 1), ("speech", 8), ("silence", 18)))
    dicts = [to_dict(e) for e in events]
    turn = next(e["turn_id"] for e in dicts if e["type"] == "stage_start")
    tts = [e for e in dicts if e["type"] == "stage_end" and e["stage"] == "tts"]
    assert len(tts) == 1 and tts[0]["turn_id"] == turn and tts[0]["ok"]
    kinds = [e["type"] for e in dicts]
    assert kinds.index("reply") < kinds.index("tts_start")


SPEAKER_SCRIPT = """
import time, numpy as np
from assistant.audio.sinks import SpeakerSink
sink = SpeakerSink()
t0 = time.monotonic()
sink.play(np.full(9600, 3000, np.int16), 16000)      # 0.6 s
sink.pause()
time.sleep(0.5)                                       # held, not dropped: 0.5 s later it plays on
sink.resume()
sink.drain()
held = time.monotonic() - t0
sink.play(np.full(48000, 3000, np.int16), 16000)     # 3 s, stopped at once
sink.stop()
t1 = time.monotonic()
sink.drain()
print(round(held, 2), round(time.monotonic() - t1, 2))
"""


@pytest.mark.real
def test_the_speaker_pauses_resumes_and_stops_a_reply(pulse: dict[str, str]) -> None:
    """Through sounddevice and PortAudio into PulseAudio's null sink."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", SPEAKER_SCRIPT], env=pulse, capture_output=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr.decode()[-500:]
    held, stopped = map(float, proc.stdout.split())
    assert held >= 1.05  # 0.6 s of audio and 0.5 s paused
    assert stopped < 1.0  # not the 3 s queued


def test_over_a_reply_the_near_miss_is_looked_for_past_the_replys_own_words() -> None:
    from assistant.wake.verify import accept_over_reply, without_own_words

    model = WakeModelSettings(name="hey_jarvis", candidate_threshold=0.05)
    reply = "Your pasta timer is done. It has been ringing for a while."
    assert without_own_words("Your pasta timer is Jarvis, turn", reply) == "jarvis turn"
    # "Jarvis" alone after the reply's words: the near miss, however sure the first stage
    assert not accept_over_reply(model, "Your pasta timer is Jarvis, turn", reply, 0.99, 0.8)
    # the phrase heard anywhere wakes it, even when the reply says "hey" too
    assert accept_over_reply(model, "Hey Jarvis.", "Hey, the door is open.", 0.99, 0.8)
    assert accept_over_reply(model, "your pasta time. Hey Jarvis.", reply, 0.4, 0.8)
    # a sure first stage and no near miss: as without a reply
    assert accept_over_reply(model, "Your potty jar must.", reply, 0.99, 0.8)


def test_the_piece_cache_keeps_the_most_recently_said() -> None:
    from assistant.tts.cache import PieceCache

    cache = PieceCache(2)
    for text in ("a", "b"):
        cache.put(text, (np.full(3, ord(text), np.int16),))
    assert cache.get("a") is not None  # "a" is now the most recent
    cache.put("c", (np.zeros(3, np.int16),))
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    audio = cache.get("a")
    assert audio is not None and not audio[0].flags.writeable  # shared by every later hit
    off = PieceCache(0)
    off.put("a", (np.zeros(3, np.int16),))
    assert off.get("a") is None


def test_piper_says_a_reply_heard_before_from_its_cache_and_keeps_no_reply_cut_short() -> None:
    from assistant.tts.piper import PiperTts

    tts = PiperTts(load_settings().tts)
    first = list(tts.synthesize("Turned on the kitchen light."))
    again = list(tts.synthesize("Turned on the kitchen light."))
    assert tts.cache.hits == 1 and len(first) == len(again) == 1
    assert np.array_equal(first[0], again[0]) and len(first[0]) > tts.sample_rate // 2
    pieces = tts.synthesize("Your pasta timer is done. It has been ringing for a while.")
    next(pieces)
    pieces.close()  # stopped after its first sentence (barge-in)
    assert tts.cache.get("Your pasta timer is done. It has been ringing for a while.") is None
