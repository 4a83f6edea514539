"""Settings of the voice stages: audio, wake word, end of speech, speech-to-text, TTS."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from pydantic import Field

from assistant.settings.base import Frozen

WakeEngine = Literal["openwakeword", "microwakeword"]
WAKE_ENGINES: tuple[str, ...] = get_args(WakeEngine)

BUNDLED_WAKE_MODELS: dict[str, tuple[str, ...]] = {
    "openwakeword": ("hey_jarvis", "alexa", "hey_mycroft", "hey_rhasspy"),
    "microwakeword": ("hey_jarvis", "alexa", "hey_mycroft", "okay_nabu"),
}
"""The wake models each engine ships; any other needs a ``path``."""


def model_name_is_bundled(name: str, engine: str | None = None) -> bool:
    """Whether ``engine`` (any engine when None) ships a model named ``name``."""
    return any(name in names for e, names in BUNDLED_WAKE_MODELS.items() if engine in (e, None))


class AudioSettings(Frozen):
    input_device: str | int | None = None
    """Microphone: a sounddevice index or name substring; None = the system default."""
    output_device: str | int | None = None
    """Speaker: a sounddevice index or name substring; None = the system default."""
    block_ms: int = Field(80, ge=10, le=200)
    """Size of one AudioChunk; openWakeWord is tuned for 80 ms."""


class WakeModelSettings(Frozen):
    name: str
    """A bundled model name (see BUNDLED_WAKE_MODELS) or any label."""
    engine: WakeEngine | None = None
    """The engine this entry is for (its thresholds are that engine's); None = any."""
    path: Path | None = None
    """A model of your own: openWakeWord .onnx/.tflite, microWakeWord .json manifest or
    .tflite; None = the bundled one named ``name``."""
    threshold: float = Field(0.5, gt=0.0, lt=1.0)
    """Score at which the model counts as a detection."""
    patience: int = Field(1, ge=1, le=20)
    """Consecutive 80 ms frames at or above the threshold needed to wake."""
    action: Literal["listen", "stop"] = "listen"
    """What this wake word does: start listening for a command, or stop (cut the reply short)."""
    verify: bool = True
    """Confirm a detection with the second stage (when ``wake.verifier.enabled``)."""
    candidate_threshold: float | None = Field(None, gt=0.0, lt=1.0)
    """With the second stage: scores from this level up are checked. Below ``threshold``
    the second stage must hear the whole phrase; at or above it, it only vetoes the near
    miss (the phrase's last word alone: "Jarvis"). None = ``threshold``."""
    phrase: str | None = None
    """The words the second stage must hear; None = a bundled model's name ("hey jarvis").
    A custom model without a phrase is not verified."""


class WakeVerifierSettings(Frozen):
    """The second stage: Whisper transcribes the wake window and must hear the phrase."""

    enabled: bool = True
    window_s: float = Field(2.0, ge=0.5, le=10.0)
    """Audio transcribed, ending where the first stage's score peaks (the phrase's end)."""
    max_wait_ms: int = Field(640, ge=0, le=2000)
    """Longest wait after the detection for the score to peak before checking anyway."""
    retry_margin: float = Field(0.2, ge=0.0, le=1.0)
    """After a rejection, check again in the same burst only if the score rises this much
    above the rejected peak (the phrase was checked too early)."""
    min_similarity: float = Field(0.8, gt=0.0, le=1.0)
    """How closely some words of the transcript must spell the phrase (0..1)."""
    context_s: float = Field(8.0, ge=2.0, le=30.0)
    """Whisper's input: the window padded to this length (30 = Whisper's own; shorter is faster)."""


class WakeSettings(Frozen):
    engine: WakeEngine = "openwakeword"
    """The first stage: openWakeWord or microWakeWord (docs/wake.md compares them)."""
    models: tuple[WakeModelSettings, ...] = (WakeModelSettings(name="hey_jarvis"),)
    """Wake models available to the loop."""
    default: str = "hey_jarvis"
    """The model the loop listens for unless told otherwise."""
    refractory_s: float = Field(2.0, ge=0.0)
    """After a detection, ignore the model for this long (one phrase, one wake)."""
    verifier: WakeVerifierSettings = WakeVerifierSettings()
    barge_in: bool = True
    """The wake word stops a reply that is playing and listens (off: it is not heard
    until the reply has ended)."""


class VadSettings(Frozen):
    threshold: float = Field(0.5, gt=0.0, lt=1.0)
    """Silero speech probability above which a 32 ms frame counts as speech."""
    silence_ms: int = Field(700, ge=100, le=5000)
    """Silence that ends an open-ended request (Home Assistant's default)."""
    early_silence_ms: int = Field(160, ge=0, le=5000)
    """A shorter pause that ends the turn early when the transcript so far is already
    a complete command; 0 disables early ending."""
    incomplete_silence_ms: int = Field(1500, ge=100, le=10000)
    """The silence that ends the turn when the words so far sound unfinished ("turn
    off the…"): people pause mid-sentence to think."""
    rising_tone_st_s: float = Field(6.0, ge=0.0, le=100.0)
    """A voice whose pitch rises faster than this (semitones a second, over its last
    150 ms) at a pause may not be done: words that are not yet a command wait the longer
    silence; 0 = never listen to the tone."""
    rising_tone_holds_commands: bool = True
    """Also keep a complete command said rising from ending at the short pause ("turn off
    the light, … in the bedroom"): it ends after ``continued_silence_ms`` instead. Not a
    question ("May I have a latte?" rises because it asks: 13 of the 50 real coffee orders
    of the tuning half are asked, and most of those rise)."""
    continued_silence_ms: int = Field(500, ge=100, le=5000)
    """The silence that ends a complete command said rising: long enough for the pause at
    a comma, shorter than ``silence_ms``, so a rise that promised nothing costs less."""
    max_command_s: float = Field(10.0, gt=0.5, le=60.0)
    """Longest command; speech beyond this is cut off and processed."""
    no_speech_timeout_s: float = Field(4.0, gt=0.1, le=60.0)
    """Give up when nothing is said this long after the wake word."""


class SttSettings(Frozen):
    model: Path | None = None
    """A CTranslate2 Whisper model folder; None = the bundled tiny.en."""
    compute_type: str = "int8"
    beam_size: int = Field(1, ge=1, le=10)
    threads: int = Field(2, ge=1, le=64)
    language: str = "en"
    window_s: float = Field(10.0, ge=2.0, le=30.0)
    """Whisper's input window. Stock Whisper encodes 30 s whatever the length; a
    command fits in 10 s, which makes the encoder ~5x faster (longer audio widens it)."""
    partial_every_ms: int = Field(600, ge=0, le=10000)
    """While the person speaks, transcribe the audio so far after this much more of it
    (``transcript_partial`` events); 0 = only when the speech stops."""
    bias_to_home: bool = True
    """Give Whisper the home's entity and area names as an initial prompt."""
    retry_hypotheses: int = Field(5, ge=1, le=10)
    """When a transcript matches no sentence, Whisper hears the audio again with the skills'
    words and a beam search of this many hypotheses; the best one a sentence accepts wins
    (1 = one greedy retry)."""
    repair_edits: float = Field(0.15, ge=0.0, le=2.0)
    """When no hypothesis is a sentence, the skills' sentence nearest the best one is tried if
    its word edits cost at most this per word heard (a word left out or added 0.8, a misspelt
    one its character distance: "skin" for "skim" 0.25); 0 = never."""
    repair_margin: float = Field(1.0, ge=0.0, le=20.0)
    """... and kept when Whisper finds it at most this much less likely per word heard
    (natural log) than what it heard: near words pass, other speech does not."""
    slot_lead: float = Field(1.0, ge=0.0, le=20.0)
    """A repaired sentence then has each slot scored against its list's other values
    (Whisper's likelihood of the whole sentence, one value swapped): the likeliest value
    is kept when it leads the next by this many nats, else no order is taken from the
    audio ("say that again"); 0 = never."""


class TtsSettings(Frozen):
    voice: Path | None = None
    """A Piper .onnx voice (with its .onnx.json beside it); None = the bundled joe voice."""
    length_scale: float | None = Field(None, gt=0.1, lt=5.0)
    """Speaking speed: below 1 is faster."""
    cache_pieces: int = Field(128, ge=0, le=10000)
    """Pieces of replies said recently kept as audio (~100 kB each), played at once when
    said again: a home's replies repeat. 0 = make every reply anew."""
