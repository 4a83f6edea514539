"""Settings: one TOML (or YAML) file -> frozen, validated models, passed in, never global.

A bad config fails at load with one clear line (:class:`ConfigError`), never mid-turn.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.errors import ConfigError
from assistant.home.settings import HomeAssistantSettings, MqttSettings
from assistant.privacy.settings import CloudSettings, PrivacySettings, merge_policy_file
from assistant.server.settings import ServerSettings
from assistant.skills.settings import SkillsSettings

PACKAGE_DIR = Path(__file__).resolve().parent


def project_dir(name: str, marker: str) -> Path:
    """A top-level data folder (``configs/``, ``models/``): the repo's own in an editable
    install, or the copy packaged as ``assistant/_<name>``."""
    for candidate in (PACKAGE_DIR.parent / name, PACKAGE_DIR / f"_{name}"):
        if (candidate / marker).is_file():
            return candidate
    raise ConfigError(f"the packaged {name}/ folder is missing; reinstall Hearth")


def configs_dir() -> Path:
    return project_dir("configs", "default.toml")


def packaged_config_text() -> str:
    """configs/default.toml as a user copies it elsewhere to edit: its relative paths (the
    privacy policy file) made absolute, so the copy loads from any folder."""
    folder = configs_dir()
    return re.sub(r'(?m)^(policy\s*=\s*")([^"/][^"]*)"',
                  lambda m: f'{m.group(1)}{folder / m.group(2)}"',
                  (folder / "default.toml").read_text(encoding="utf-8"))


def default_data_dir() -> Path:
    """Where state lives: ``$HEARTH_DATA_DIR`` or ``~/.local/share/hearth``."""
    env = os.environ.get("HEARTH_DATA_DIR")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".local" / "share" / "hearth"


class Frozen(BaseModel):
    """Base for every settings section: immutable, unknown keys are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class AudioSettings(Frozen):
    input_device: str | int | None = None
    """Microphone: a sounddevice index or name substring; None = the system default."""
    output_device: str | int | None = None
    """Speaker: a sounddevice index or name substring; None = the system default."""
    block_ms: int = Field(80, ge=10, le=200)
    """Size of one AudioChunk; openWakeWord is tuned for 80 ms."""


class WakeModelSettings(Frozen):
    name: str
    """A bundled model name (hey_jarvis, alexa, hey_mycroft, hey_rhasspy) or any label."""
    path: Path | None = None
    """A custom .onnx/.tflite openWakeWord model; None = the bundled one named ``name``."""
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
    models: tuple[WakeModelSettings, ...] = (WakeModelSettings(name="hey_jarvis"),)
    """Wake models available to the loop."""
    default: str = "hey_jarvis"
    """The model the loop listens for unless told otherwise."""
    refractory_s: float = Field(2.0, ge=0.0)
    """After a detection, ignore the model for this long (one phrase, one wake)."""
    verifier: WakeVerifierSettings = WakeVerifierSettings()


class VadSettings(Frozen):
    threshold: float = Field(0.5, gt=0.0, lt=1.0)
    """Silero speech probability above which a 32 ms frame counts as speech."""
    silence_ms: int = Field(700, ge=100, le=5000)
    """Silence that ends an open-ended request (Home Assistant's default)."""
    early_silence_ms: int = Field(240, ge=0, le=5000)
    """A shorter pause that ends the turn early when the transcript so far is already
    a complete command; 0 disables early ending."""
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
    window_s: float = Field(10.0, ge=5.0, le=30.0)
    """Whisper's input window. Stock Whisper encodes 30 s whatever the length; a
    command fits in 10 s, which makes the encoder ~5x faster (longer audio widens it)."""
    bias_to_home: bool = True
    """Give Whisper the home's entity and area names as an initial prompt."""


class TtsSettings(Frozen):
    voice: Path | None = None
    """A Piper .onnx voice (with its .onnx.json beside it); None = the bundled joe voice."""
    length_scale: float | None = Field(None, gt=0.1, lt=5.0)
    """Speaking speed: below 1 is faster."""


class LocalLlmSettings(Frozen):
    enabled: bool = True
    model: Path | None = None
    """A GGUF file; None = the bundled SmolLM2-135M-Instruct."""
    threads: int = Field(2, ge=1, le=64)
    context: int = Field(2048, ge=256, le=32768)
    min_confidence: float = Field(0.7, ge=0.0, le=1.0)
    """Below this the local LLM's proposal is not acted on (SLURP devel: 0.7 halved the wrong
    actions of 0.5 at the same number of right ones; 0.3 added one right and four wrong)."""
    scoring: Literal["sum", "mean", "pmi", "pmi_mean"] = "pmi_mean"
    """How a command phrase is scored: its total log-probability, the mean per token, the
    pointwise mutual information with the request (minus the phrase's prior), or that per
    token (best on SLURP devel: bench/bench_slurp.py --split devel --scoring ...)."""
    few_shot: bool = True
    """Show the model worked examples drawn from the sentence templates (cached once)."""
    lexical_weight: float = Field(1.0, ge=0.0, le=10.0)
    """Add this much of the word overlap between request and command to the model's score
    (0: the model alone). On SLURP devel the 135M model alone and the overlap alone were
    within three utterances of each other; together they keep the model's "none"."""


class ConversationSettings(Frozen):
    """The short memory between turns, kept in SQLite (<data_dir>/conversation.sqlite) so
    that successive ``hearth ask`` processes share it."""

    follow_up_s: float = Field(20.0, ge=0.0, le=600.0)
    """How long a follow-up ("turn it off", "and the bedroom too") refers to the last turn."""
    confirm_s: float = Field(15.0, ge=1.0, le=300.0)
    """How long a question ("Do you really want me to unlock the Front Door?") waits for
    its answer."""


class HomeSettings(Frozen):
    backend: Literal["demo", "mqtt", "homeassistant"] = "demo"
    demo_home: Path | None = None
    """The demo home's definition (YAML); None = configs/demo_home.yaml."""
    state_db: Path | None = None
    """Where the demo home's state lives; None = <data_dir>/home.sqlite."""
    mqtt: MqttSettings = MqttSettings()
    """The MQTT broker (backend = "mqtt", or $HEARTH_MQTT_URL)."""
    homeassistant: HomeAssistantSettings = HomeAssistantSettings()
    """The Home Assistant server (backend = "homeassistant")."""


class Settings(Frozen):
    """Everything Hearth can be told. Sections mirror the pipeline stages."""

    device_area: str = "living_room"
    """The area of the device that listens; resolves "turn on the light"."""
    data_dir: Path = Field(default_factory=default_data_dir)
    """State: the home's SQLite database, the audit log, lists, timers."""
    audio: AudioSettings = AudioSettings()
    wake: WakeSettings = WakeSettings()
    vad: VadSettings = VadSettings()
    stt: SttSettings = SttSettings()
    tts: TtsSettings = TtsSettings()
    llm: LocalLlmSettings = LocalLlmSettings()
    conversation: ConversationSettings = ConversationSettings()
    home: HomeSettings = HomeSettings()
    privacy: PrivacySettings = PrivacySettings()
    """What may leave the device (see configs/privacy.toml and docs/privacy.md)."""
    cloud: CloudSettings = CloudSettings()
    """The OpenAI-compatible endpoint the privacy policy may escalate to."""
    server: ServerSettings = ServerSettings()
    """`hearth serve`: HTTP API, dashboard, Wyoming satellites (assistant/server/settings.py)."""
    skills: SkillsSettings = SkillsSettings()
    """Which skills load, their settings, the handler timeout (assistant/skills/settings.py)."""

    def wake_model(self, name: str) -> WakeModelSettings:
        for model in self.wake.models:
            if model.name == name:
                return model
        if model_name_is_bundled(name):
            return WakeModelSettings(name=name)
        known = ", ".join(m.name for m in self.wake.models)
        raise ConfigError(f"unknown wake word {name!r} (configured: {known})")


BUNDLED_WAKE_MODELS = ("hey_jarvis", "alexa", "hey_mycroft", "hey_rhasspy")


def model_name_is_bundled(name: str) -> bool:
    return name in BUNDLED_WAKE_MODELS


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    try:
        is_yaml = path.suffix.lower() in (".yaml", ".yml")
        data = (yaml.safe_load(text) or {}) if is_yaml else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"config file {path} is not valid: {first}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a table of settings")
    return data


def _describe(exc: ValidationError, origin: str) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(top level)"
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"config {origin}: {where}: {err['msg']}{more}"


def load_settings(path: Path | str | None = None, **overrides: Any) -> Settings:
    """Load settings from ``path`` (default: the packaged configs/default.toml).

    Relative paths inside the file are resolved against the file's folder.
    """
    source = Path(path) if path is not None else configs_dir() / "default.toml"
    data = _read(source)
    data.update({k: v for k, v in overrides.items() if v is not None})
    data = merge_policy_file(data, source.parent)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, str(source))) from None
    return _resolve_paths(settings, source.parent)


def _resolve_paths(settings: Settings, base: Path) -> Settings:
    def fix(p: Path | None) -> Path | None:
        if p is None:
            return None
        p = p.expanduser()
        return p if p.is_absolute() else (base / p).resolve()

    home = settings.home.model_copy(
        update={"demo_home": fix(settings.home.demo_home), "state_db": fix(settings.home.state_db)}
    )
    wake = settings.wake.model_copy(
        update={"models": tuple(m.model_copy(update={"path": fix(m.path)}) for m in settings.wake.models)}
    )
    return settings.model_copy(
        update={
            "home": home,
            "wake": wake,
            "stt": settings.stt.model_copy(update={"model": fix(settings.stt.model)}),
            "tts": settings.tts.model_copy(update={"voice": fix(settings.tts.voice)}),
            "llm": settings.llm.model_copy(update={"model": fix(settings.llm.model)}),
            "privacy": settings.privacy.model_copy(update={"audit_db": fix(settings.privacy.audit_db)}),
            "data_dir": settings.data_dir.expanduser(),
            "skills": settings.skills.model_copy(
                update={"paths": tuple(p for p in map(fix, settings.skills.paths) if p is not None)}),
        }
    )
