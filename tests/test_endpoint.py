from __future__ import annotations

from assistant.config import VadSettings
from assistant.vad.endpoint import Endpoint, Endpointer

FRAME = 32.0


def feed(ep: Endpointer, probs: list[float]) -> list[Endpoint]:
    return [e for e in (ep.feed(p) for p in probs) if e is not Endpoint.NONE]


def test_speech_then_short_pause_then_long_silence() -> None:
    ep = Endpointer(VadSettings(silence_ms=640, early_silence_ms=224), FRAME)
    events = feed(ep, [0.0] * 5 + [0.9] * 20 + [0.1] * 25)
    assert events == [Endpoint.SPEECH_START, Endpoint.QUIET, Endpoint.PAUSE, Endpoint.END]
    assert ep.speech_start_ms == 5 * FRAME
    assert ep.last_speech_end_ms == 25 * FRAME


def test_speech_resumes_after_a_pause() -> None:
    ep = Endpointer(VadSettings(silence_ms=640, early_silence_ms=224), FRAME)
    events = feed(ep, [0.9] * 10 + [0.0] * 8 + [0.9] * 5)
    assert events == [Endpoint.SPEECH_START, Endpoint.QUIET, Endpoint.PAUSE, Endpoint.RESUMED]


def test_a_click_is_not_speech_and_silence_times_out() -> None:
    ep = Endpointer(VadSettings(no_speech_timeout_s=1.0), FRAME)
    events = feed(ep, [0.9, 0.9] + [0.0] * 40)
    assert events[-1] is Endpoint.NO_SPEECH and Endpoint.SPEECH_START not in events


def test_endless_speech_is_cut_at_max_length() -> None:
    ep = Endpointer(VadSettings(max_command_s=2.0), FRAME)
    events = feed(ep, [0.9] * 100)
    assert events == [Endpoint.SPEECH_START, Endpoint.MAX_LENGTH]


def test_early_end_can_be_disabled() -> None:
    ep = Endpointer(VadSettings(early_silence_ms=0, silence_ms=320), FRAME)
    assert feed(ep, [0.9] * 10 + [0.0] * 12) == [Endpoint.SPEECH_START, Endpoint.QUIET, Endpoint.END]


def test_unfinished_words_stretch_the_silence_until_speech_resumes() -> None:
    ep = Endpointer(VadSettings(silence_ms=320, early_silence_ms=96), FRAME)
    feed(ep, [0.9] * 10 + [0.0] * 3)
    ep.end_silence_ms = 960.0  # the loop heard "turn off the"
    assert Endpoint.END not in feed(ep, [0.0] * 20)
    assert feed(ep, [0.9] * 3 + [0.0] * 10)[-1] is Endpoint.END  # back to 320 ms


def test_a_turn_just_ended_by_silence_goes_on_when_the_words_say_wait() -> None:
    ep = Endpointer(VadSettings(silence_ms=320, early_silence_ms=96), FRAME)
    assert feed(ep, [0.9] * 10 + [0.0] * 10)[-1] is Endpoint.END
    ep.wait_longer(960.0)  # a second look at the words heard "set the bedroom light to"
    assert feed(ep, [0.0] * 5 + [0.9] * 3) == [Endpoint.RESUMED]
    ep = Endpointer(VadSettings(max_command_s=1.0), FRAME)
    assert feed(ep, [0.9] * 40)[-1] is Endpoint.MAX_LENGTH
    ep.wait_longer(960.0)  # too long stays too long
    assert feed(ep, [0.9] * 3) == []


def test_whisper_saying_a_phrase_over_and_over_is_kept_once() -> None:
    from assistant.stt.whisper import drop_repeats

    assert drop_repeats("Switch on the coffee maker, coffee maker, coffee maker, coffee maker.") == \
        "Switch on the coffee maker."
    assert drop_repeats("Open the blinds. Open the blinds, open the") == "Open the blinds."
    assert drop_repeats("Turn it up, up.") == "Turn it up, up."  # twice can be meant


def test_words_that_cannot_end_a_command() -> None:
    from assistant.vad.meaning import sounds_unfinished

    assert sounds_unfinished("Turn off the") and sounds_unfinished("set the bedroom light to")
    assert sounds_unfinished("Turn on...") and sounds_unfinished("switch on the coffee maker,")
    assert not sounds_unfinished("Turn off the light.") and not sounds_unfinished("")


def test_whole_words_said_rising_end_after_the_pause_at_a_comma() -> None:
    ep = Endpointer(VadSettings(silence_ms=640, early_silence_ms=96), FRAME)
    feed(ep, [0.9] * 10 + [0.0] * 3)
    ep.end_after(320.0)  # "turn off the light," said rising: a shorter wait than 640 ms
    assert feed(ep, [0.0] * 7)[-1] is Endpoint.END
    ep = Endpointer(VadSettings(silence_ms=640, early_silence_ms=96), FRAME)
    feed(ep, [0.9] * 10 + [0.0] * 3)
    ep.end_after(320.0)
    assert feed(ep, [0.0] * 4 + [0.9] * 3) == [Endpoint.RESUMED]  # "... in the bedroom"


def test_a_question_rises_because_it_asks() -> None:
    from assistant.vad.meaning import sounds_asked

    assert sounds_asked("May I have a latte") and sounds_asked("Please can you turn on the light.")
    assert sounds_asked("Turn on the light?") and sounds_asked("Could I get a mocha with milk")
    assert not sounds_asked("Turn off the light,") and not sounds_asked("")
    assert not sounds_asked("Get me a tea.")


def test_a_retry_that_will_not_guess_is_not_overruled_by_the_wide_look() -> None:
    """The n-best retry answers "" when a repaired order's slot is too close to call; the
    full-window look after it must not then act on its own guess."""
    import numpy as np

    from assistant.stt.background import BackgroundTranscriber, Heard
    from assistant.turn_end import Command, TurnEnd

    asked: list[str] = []

    def look(name: str, words: str):  # type: ignore[no-untyped-def]
        def transcribe(_samples: object) -> str:
            asked.append(name)
            return words
        return name, transcribe

    heard = BackgroundTranscriber(lambda _s: "", threaded=False)
    ends = TurnEnd(VadSettings(), Endpointer(VadSettings(), FRAME), heard,
                   [look("retry", ""), look("wide", "brew a large dark roast")],
                   is_command=lambda text: text.startswith("brew"))
    cmd = Command(start_ms=0.0)
    cmd.add(np.zeros(1600, np.int16))
    text, _ = ends.last_looks(cmd, Heard(samples=1600, text="grew a large dork roast", stt_ms=1.0))
    assert (text, asked) == ("", ["retry"])
    # a retry that simply heard no command still lets the wide look try
    ends.looks = [look("retry", "grew a large"), look("wide", "brew a large dark roast")]
    asked.clear()
    text, _ = ends.last_looks(cmd, Heard(samples=1600, text="grew a large dork roast", stt_ms=1.0))
    assert (text, asked) == ("brew a large dark roast", ["retry", "wide"])
