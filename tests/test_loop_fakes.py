"""The loop's stage order and timing rules, with fake engines (tests/loop_fakes.py; real
ones: test_voice_real)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from assistant.audio.chunk import Samples, chunked
from assistant.config import load_settings
from assistant.events import Event, ReplySentence, discard, in_turn, to_dict
from assistant.loop import VoiceLoop
from assistant.runtime import Runtime
from tests.loop_fakes import LoudnessVad, MarkerWake, ScriptedStt, run, signal, stage_marks, types


@pytest.fixture()
def text_assistant() -> Iterator[Runtime]:
    with Runtime(load_settings()) as a:
        yield a


def test_wake_then_command(text_assistant: Runtime) -> None:
    stt = ScriptedStt({1: "turn on the", 10: "turn on the kitchen light"})
    events = run(text_assistant, stt, signal(("silence", 5), ("wake", 1), ("speech", 12), ("silence", 20)))
    events = [e for e in events if e["type"] != "transcript_partial"]
    assert types(events) == ["wake", "speech_start", "speech_end", "transcript", "intent", "action", "reply"]
    assert events[2]["reason"] == "early_match"
    assert events[5]["entity_id"] == "light.kitchen"
    # speech_end is stamped where the speech stopped, not where the loop noticed
    assert events[2]["t_audio_ms"] == pytest.approx((5 + 1 + 12) * 80, abs=80)


def test_words_are_transcribed_while_the_person_speaks(text_assistant: Runtime) -> None:
    stt = ScriptedStt({1: "turn on the", 10: "turn on the kitchen light"})
    events = run(text_assistant, stt, signal(("wake", 1), ("speech", 12), ("silence", 20)))
    partials = [e for e in events if e["type"] == "transcript_partial"]
    assert partials and partials[0]["text"] == "turn on the"
    end = next(e for e in events if e["type"] == "speech_end")
    assert all(p["t_audio_ms"] <= end["t_audio_ms"] + 160 for p in partials)  # type: ignore[operator]
    # speech went on for 960 ms: one partial after 600 ms, one when it stopped; no third
    assert stt.calls == 2


def test_an_open_ended_request_waits_for_the_long_silence(text_assistant: Runtime) -> None:
    stt = ScriptedStt({1: "what is the meaning of life"})
    events = run(text_assistant, stt, signal(("wake", 1), ("speech", 5), ("silence", 15)))
    end = next(e for e in events if e["type"] == "speech_end")
    assert end["reason"] == "silence"
    assert end["t_audio_ms"] == pytest.approx(6 * 80, abs=80)
    assert stt.calls == 1  # the transcript made when the speech stopped covered it all


def test_unfinished_words_wait_longer_and_are_not_cut_off(text_assistant: Runtime) -> None:
    # "turn on the" ... 1.2 s of thought ... "kitchen light": longer than the usual silence
    stt = ScriptedStt({1: "turn on the", 6: "turn on the kitchen light"})
    events = run(text_assistant, stt, signal(("wake", 1), ("speech", 3), ("silence", 15),
                                             ("speech", 3), ("silence", 25)))
    transcript = next(e for e in events if e["type"] == "transcript")
    assert transcript["text"] == "turn on the kitchen light"
    assert text_assistant.home.get_state("light.kitchen").state == "on"


def test_speech_resuming_after_a_pause_is_heard_whole(text_assistant: Runtime) -> None:
    stt = ScriptedStt({1: "turn", 6: "turn on the kitchen light"})
    events = run(text_assistant, stt,
                 signal(("wake", 1), ("speech", 3), ("silence", 4), ("speech", 5), ("silence", 15)))
    transcript = next(e for e in events if e["type"] == "transcript")
    assert transcript["text"] == "turn on the kitchen light"


def test_no_wake_word_no_turn(text_assistant: Runtime) -> None:
    stt = ScriptedStt({1: "turn on the kitchen light"})
    events = run(text_assistant, stt, signal(("speech", 20), ("silence", 20)))
    assert events == [] and stt.calls == 0
    assert text_assistant.home.get_state("light.kitchen").state == "off"


def test_no_speech_after_the_wake_word_times_out(text_assistant: Runtime) -> None:
    stt = ScriptedStt({})
    events = run(text_assistant, stt, signal(("wake", 1), ("silence", 80)))
    assert types(events) == ["wake", "speech_end"] and events[1]["reason"] == "no_speech"


def test_no_wake_mode_treats_input_as_a_command(text_assistant: Runtime) -> None:
    stt = ScriptedStt({1: "turn on the kitchen light"})
    events = run(text_assistant, stt, signal(("speech", 10), ("silence", 15)), wake=False)
    assert "action" in types(events)


def test_a_question_listens_for_the_answer_without_the_wake_word(text_assistant: Runtime) -> None:
    events = run(text_assistant, ScriptedStt({1: "yes", 6: "unlock the front door"}),
                 signal(("wake", 1), ("speech", 10), ("silence", 12), ("speech", 4), ("silence", 12)))
    assert types(events).count("wake") == 1
    assert [e["handled_by"] for e in events if e["type"] == "reply"] == ["confirm", "local"]
    assert text_assistant.home.get_state("lock.front_door").state == "unlocked"


def test_after_a_question_silence_ends_the_conversation(text_assistant: Runtime) -> None:
    stt = ScriptedStt({1: "unlock the front door"})
    events = run(text_assistant, stt, signal(("wake", 1), ("speech", 10), ("silence", 80)))
    assert types(events)[-1] == "speech_end" and events[-1]["reason"] == "no_speech"
    assert text_assistant.home.get_state("lock.front_door").state == "locked"


def test_each_stage_of_an_audio_turn_starts_and_ends_in_order(text_assistant: Runtime) -> None:
    stt = ScriptedStt({1: "turn on the", 10: "turn on the kitchen light"})
    events = run(text_assistant, stt, signal(("silence", 5), ("wake", 1), ("speech", 12),
                                             ("silence", 20)), stages=True)
    start, end = "stage_start", "stage_end"
    assert stage_marks(events) == [
        (start, "wake"), (end, "wake"), (start, "vad"), (end, "vad"), (start, "stt"), (end, "stt"),
        (start, "understand"), (start, "skill"), (end, "skill"), (end, "understand"),  # home_control
        (start, "home"), (end, "home")]
    assert len({e["turn_id"] for e in events if "turn_id" in e}) == 1  # one turn
    kinds = [e["type"] for e in events if e["type"] != "transcript_partial"]
    assert kinds.index("wake") == kinds.index("stage_start") + 1  # inside its stage
    ends = [e for e in events if e["type"] == "stage_end"]
    assert all(e["ok"] and e["error"] is None and e["duration_ms"] >= 0 for e in ends)
    starts = {e["stage"]: e["t_wall_ms"] for e in events if e["type"] == "stage_start"}
    for end in ends:  # a duration is the distance between its stage's two events
        assert end["duration_ms"] == pytest.approx(end["t_wall_ms"] - starts[end["stage"]], abs=0.2)


def test_a_turn_without_speech_ends_its_stage_with_the_reason(text_assistant: Runtime) -> None:
    events = run(text_assistant, ScriptedStt({}), signal(("wake", 1), ("silence", 80)), stages=True)
    assert stage_marks(events) == [("stage_start", "wake"), ("stage_end", "wake"),
                                   ("stage_start", "vad"), ("stage_end", "vad")]
    assert events[-1]["ok"] is False and events[-1]["error"] == "no_speech"


def test_a_failing_stage_is_reported_and_the_loop_goes_on(text_assistant: Runtime) -> None:
    from assistant.errors import SttError

    class Broken(ScriptedStt):
        def transcribe(self, samples: Samples) -> str:
            self.calls += 1
            if self.calls <= 2:  # the first command's partial and final transcripts
                raise SttError("the recogniser fell over")
            return "turn on the kitchen light"

    events = run(text_assistant, Broken({}),
                 signal(("wake", 1), ("speech", 8), ("silence", 30), ("wake", 1), ("speech", 8),
                        ("silence", 20)), stages=True)
    assert "error" in types(events)
    assert text_assistant.home.get_state("light.kitchen").state == "on"
    first, second = ({e["stage"]: e for e in events if e["type"] == "stage_end" and e["turn_id"] == t}
                     for t in dict.fromkeys(e["turn_id"] for e in events if "turn_id" in e))
    assert (first["stt"]["ok"], first["stt"]["error"]) == (False, "stt_failed")
    assert set(first) == {"wake", "vad", "stt"}  # the failed turn went no further
    assert all(e["ok"] for e in second.values()) and "home" in second


def test_announcements_are_spoken_between_commands_in_their_room(text_assistant: Runtime) -> None:
    from assistant.skills.announce import Announcement, Announcements

    class Recorder:
        sample_rate = 16000

        def __init__(self) -> None:
            self.said: list[str] = []

        def synthesize(self, text: str) -> list[Samples]:
            self.said.append(text)
            return [np.zeros(1600, np.int16)]

    queue = Announcements()
    queue.put(Announcement(text="Your tea timer is done.", skill="timers", area="living_room"))
    queue.put(Announcement(text="The bedroom timer is done.", skill="timers", area="bedroom"))
    tts = Recorder()
    events: list[Event] = []
    loop = VoiceLoop(load_settings(), pipeline=text_assistant.pipeline, stt=ScriptedStt({}),
                     vad=LoudnessVad(), frame_ms=80.0, wake=MarkerWake(), tts=tts, emit=events.append,
                     announcements=queue)
    loop.run(signal(("silence", 5)))
    assert tts.said == ["Your tea timer is done."]
    assert [a.text for a in queue.drain()] == ["The bedroom timer is done."]


def test_a_miss_is_transcribed_again_with_the_skills_words(text_assistant: Runtime) -> None:
    retried: list[int] = []

    def retry(samples: Samples) -> str:
        retried.append(len(samples))
        return "turn on the kitchen light"

    events: list[Event] = []
    text_assistant.pipeline.emit = events.append
    loop = VoiceLoop(load_settings(), pipeline=text_assistant.pipeline,
                     stt=ScriptedStt({1: "turn on the kitten lied"}), vad=LoudnessVad(), frame_ms=80.0,
                     wake=MarkerWake(), emit=events.append, retry_stt=retry)
    loop.run(signal(("wake", 1), ("speech", 8), ("silence", 15)))
    assert len(retried) == 1
    assert text_assistant.home.get_state("light.kitchen").state == "on"


def test_a_word_misheard_before_a_pause_is_heard_again_on_the_wide_window(
        text_assistant: Runtime) -> None:
    # "set the bedroom light to" ... 0.9 s ... "50%": the short window heard "... tube",
    # which sounds finished; the second look hears "to" and the turn waits for the rest
    wide = ScriptedStt({1: "set the bedroom light to", 6: "set the bedroom light to 50%"})
    events: list[Event] = []
    text_assistant.pipeline.emit = events.append
    loop = VoiceLoop(load_settings(), pipeline=text_assistant.pipeline,
                     stt=ScriptedStt({1: "set the bedroom light tube", 6: "set the bedroom light to 50%"}),
                     vad=LoudnessVad(), frame_ms=80.0, wake=MarkerWake(), emit=events.append,
                     wide_stt=wide.transcribe, background=False)
    loop.run(signal(("wake", 1), ("speech", 4), ("silence", 11), ("speech", 3), ("silence", 20)))
    said = [to_dict(e) for e in events if e.type == "transcript"]
    assert [e["text"] for e in said] == ["set the bedroom light to 50%"]
    assert text_assistant.home.get_state("light.bedroom").state == "on"
    assert wide.calls == 1  # only at the pause whose words were neither a command nor unfinished


def test_streamed_sentences_are_spoken_as_they_arrive_and_not_twice() -> None:
    from assistant.understand.result import Decision

    said: list[tuple[str, int]] = []

    class Recorder:
        sample_rate = 16000

        def synthesize(self, text: str) -> list[Samples]:
            said.append((text, len(arrived)))
            return [np.zeros(160, np.int16)]

    arrived: list[str] = []

    def arrives(sentence: str) -> None:  # as the cloud stage reports each sentence
        arrived.append(sentence)
        in_turn(lambda at, wall: ReplySentence(t_audio_ms=at, t_wall_ms=wall, text=sentence),
                otherwise=discard)

    class StreamingCloud:
        name = "cloud"

        def decide(self, text: str, area: str | None, previous: Decision,
                   conversation: object = None) -> Decision | None:
            for sentence in ("Paris is the capital of France.", "It has about two million people."):
                arrives(sentence)
            return Decision("cloud", " ".join(arrived), left_device=True)

    cloud = StreamingCloud()
    with Runtime(load_settings()) as assistant:
        assistant.understander.fallbacks = [cloud]
        events: list[Event] = []
        loop = VoiceLoop(load_settings(), pipeline=assistant.pipeline,
                         stt=ScriptedStt({1: "what is the capital of france"}), vad=LoudnessVad(),
                         frame_ms=80.0, wake=MarkerWake(), tts=Recorder(), emit=events.append,
                         background=False)  # inline: each sentence is made as it arrives
        loop.run(signal(("wake", 1), ("speech", 8), ("silence", 15)))
    assert said == [("Paris is the capital of France.", 1), ("It has about two million people.", 2)]
    assert [e.text for e in events if isinstance(e, ReplySentence)] == arrived  # on the spine


def test_the_command_starts_at_the_phrase_end_unless_the_second_stage_heard_it_run_on() -> None:
    from assistant.wake.base import WakeHit
    from assistant.wake.command_start import COMMAND_LEAD_MS, command_start_ms

    at_peak = 3000 - 80 - COMMAND_LEAD_MS
    assert command_start_ms(WakeHit("hey_jarvis", 0.3, 3000), 2000) == at_peak
    assert command_start_ms(WakeHit("hey_jarvis", 0.3, 3000, heard="Hey Jarvis.",
                                    t_detect_ms=2440), 2000) == at_peak
    # the score peaked inside "turn on the light": the command takes the heard window whole
    ran_on = WakeHit("hey_jarvis", 0.2, 3000, heard="Hey Jarvis, turn on the lock.", t_detect_ms=2440)
    assert command_start_ms(ran_on, 2000) == 1000


class StopSink:
    """A speaker that records when it was told to stop."""

    def __init__(self) -> None:
        self.played = 0
        self.stops = 0

    def play(self, samples: Samples, rate: int) -> None:
        self.played += len(samples)

    def finish(self) -> None:
        pass

    def stop(self) -> None:
        self.stops += 1


class LongReply:
    """Every reply lasts 2 s."""

    sample_rate = 16000

    def synthesize(self, text: str) -> list[Samples]:
        return [np.zeros(32000, np.int16)]


@pytest.mark.parametrize("barge_in", [True, False])
def test_the_wake_word_stops_the_reply_and_listens(text_assistant: Runtime, barge_in: bool) -> None:
    settings = load_settings()
    settings = settings.model_copy(update={"wake": settings.wake.model_copy(update={"barge_in": barge_in})})
    stt = ScriptedStt({1: "turn on the kitchen light"})
    sink = StopSink()
    events: list[Event] = []
    text_assistant.pipeline.emit = events.append
    loop = VoiceLoop(settings, pipeline=text_assistant.pipeline, stt=stt, vad=LoudnessVad(), frame_ms=80.0,
                     wake=MarkerWake(), tts=LongReply(), sink=sink, emit=events.append, background=False)
    # the command, its 2 s reply starts ~0.3 s later; 1.2 s into the reply the wake word again
    loop.run(signal(("wake", 1), ("speech", 8), ("silence", 18), ("wake", 1), ("speech", 8),
                    ("silence", 30)))
    kinds = types([to_dict(e) for e in events])
    if barge_in:
        assert sink.stops == 1 and kinds.count("tts_stop") == 1
        assert kinds.index("tts_stop") == kinds.index("wake", 1) + 1
        assert kinds.count("action") == 2  # the second command was heard
    else:
        assert sink.stops == 0 and "tts_stop" not in kinds and kinds.count("wake") == 1


@pytest.mark.parametrize(("hz_to", "holds", "said", "whole"), [
    (90.0, True, "turn on the light", False),   # falling: done at the pause (then more: cut off)
    (160.0, True, "turn on the light", True),   # rising: the pause at a comma, then the rest
    (160.0, True, "can you turn on the light?", False),  # asked: it rises because it asks
    (160.0, False, "turn on the light", False),  # off: a command ends at the pause anyway
])
def test_a_complete_command_said_rising_waits_for_the_pause_at_a_comma(
        text_assistant: Runtime, hz_to: float, holds: bool, said: str, whole: bool) -> None:
    from tests.test_hearing_tone import voice

    settings = load_settings()
    settings = settings.model_copy(update={"vad": settings.vad.model_copy(
        update={"rising_tone_holds_commands": holds})})
    assert settings.vad.early_silence_ms < 320 < settings.vad.continued_silence_ms
    rest = said.rstrip("?") + " in the bedroom"
    events: list[Event] = []
    text_assistant.pipeline.emit = events.append
    loop = VoiceLoop(settings, pipeline=text_assistant.pipeline,
                     stt=ScriptedStt({1: said, 20: rest}), vad=LoudnessVad(), frame_ms=80.0,
                     wake=None, emit=events.append, background=False)
    first, then = voice(120.0, hz_to, seconds=1.28), voice(120.0, 90.0, seconds=0.96)
    pause, after = np.zeros(1280 * 4, np.int16), np.zeros(1280 * 15, np.int16)  # 320 ms, then the end
    loop.run(chunked(np.concatenate([first, pause, then, after])), wake_required=False)
    heard = [to_dict(e)["text"] for e in events if e.type == "transcript"]
    assert heard[0] == (rest if whole else said)
