"""Settings for the privacy policy and the cloud endpoint (``[privacy]``, ``[cloud]``).

The policy itself is usually kept in its own file (``configs/privacy.toml``), named by
``[privacy] policy = "privacy.toml"`` in the main config; the loader
(:func:`assistant.config.merge_policy_file`) folds it in at load time, so a broken
policy fails at start with one line naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from assistant.settings.base import Frozen

PrivacyMode = Literal["local_only", "ask", "allow"]
Effect = Literal["allow", "ask", "deny"]
RedactKind = Literal[
    "person", "email", "phone", "address", "card", "iban", "account", "time", "place"
]

REDACT_KINDS: tuple[RedactKind, ...] = (
    "person",
    "email",
    "phone",
    "address",
    "card",
    "iban",
    "account",
    "time",
    "place",
)
DEFAULT_REDACT: tuple[RedactKind, ...] = (
    "person",
    "email",
    "phone",
    "address",
    "card",
    "iban",
    "account",
)
"""Always redacted unless the policy says otherwise; precise times and places are
redacted only where a rule asks for them."""


class PolicyRule(Frozen):
    """One rule. It matches when every criterion it names matches (an empty criterion
    matches anything); the first matching rule decides."""

    name: str = Field(min_length=1)
    """Shown in ``--explain``, the audit log and ``hearth audit``."""
    skills: tuple[str, ...] = ()
    """The skill asking to escalate (``*`` = any skill; a plain fallback has none)."""
    intents: tuple[str, ...] = ()
    """The intent understanding guessed, if any (``HassTurnOn``, ...)."""
    topics: tuple[str, ...] = ()
    """Topics from ``[topics]``; the rule matches when any of them is detected."""
    effect: Effect
    """allow: may be sent (mode permitting); ask: only after a spoken yes; deny: never."""
    share_entity_names: bool = False
    """Tell the cloud the names of the exposed devices (and let it propose actions)."""
    share_home_state: bool = False
    """Also tell it their current states (on/off, temperature...). Needs entity names."""
    redact: tuple[RedactKind, ...] = ()
    """Kinds redacted in addition to ``privacy.redact`` (e.g. ``time``, ``place``)."""
    reply: str | None = None
    """What the assistant says when this rule denies (default: ``privacy.denied_reply``)."""

    @model_validator(mode="after")
    def _state_needs_names(self) -> PolicyRule:
        if self.share_home_state and not self.share_entity_names:
            raise ValueError(f"rule {self.name!r}: share_home_state needs share_entity_names")
        return self


class PrivacySettings(Frozen):
    """What may leave the device, and how it is minimised before it does."""

    policy: Path | None = None
    """The policy file this section was read from (``configs/privacy.toml``); keys set
    inline in the main config override the file's."""
    mode: PrivacyMode = "local_only"
    """local_only: nothing ever leaves; ask: a spoken yes per query; allow: as the rules say.
    ``hearth ask --privacy MODE`` overrides it for one run."""
    default: Effect = "deny"
    """The effect for a request no rule matches."""
    rules: tuple[PolicyRule, ...] = ()
    """Checked in order; the first match decides."""
    topics: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Topic name -> keywords or phrases (case-insensitive, whole words; ``medic*`` is a prefix)."""
    household: tuple[str, ...] = ()
    """Names of the people who live here (``"Alice Smith"`` also covers "Alice" and "Smith")."""
    contacts: tuple[str, ...] = ()
    """Other people's names that must never leave (friends, the children's teacher...)."""
    names_from_context: bool = True
    """Also treat names after a title or a relation ("Dr Patel", "my friend Sam") as personal.
    Turn off when questions about famous people ("who was Dr Seuss") matter more."""
    places: tuple[str, ...] = ()
    """Names of precise places (a school, a workplace, a clinic), redacted when a rule asks
    for ``place``."""
    redact: tuple[RedactKind, ...] = DEFAULT_REDACT
    """Kinds of personal data always replaced by placeholders (``<PERSON_1>``) before sending."""
    cloud_entities: tuple[str, ...] = (
        "light.*",
        "switch.*",
        "fan.*",
        "climate.*",
        "cover.*",
        "media_player.*",
        "vacuum.*",
    )
    """Entity ids or globs the cloud may know by name and propose actions for, when a rule
    shares entity names. Sensitive entities among them always need a spoken yes."""
    denied_reply: str = "I keep questions like that on this device, and I can't answer it here."
    """Said when a rule denies and gives no reply of its own."""
    audit_db: Path | None = None
    """Where the audit log lives; None = <data_dir>/audit.sqlite."""

    @model_validator(mode="after")
    def _rules_are_consistent(self) -> PrivacySettings:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"two rules are named {rule.name!r}")
            seen.add(rule.name)
            unknown = [t for t in rule.topics if t not in self.topics]
            if unknown:
                raise ValueError(f"rule {rule.name!r} names unknown topic(s) {', '.join(unknown)}")
        for name, words in self.topics.items():
            if not words or any(not w.strip() or w.strip() == "*" for w in words):
                raise ValueError(f"topic {name!r} needs non-empty keywords")
        return self


class CloudSettings(Frozen):
    """An OpenAI-compatible chat endpoint (OpenAI, or llama.cpp / Ollama / vLLM on a LAN box).

    Each of ``url``, ``model`` and ``api_key`` may instead come from the environment
    (``HEARTH_CLOUD_URL``, ``HEARTH_CLOUD_MODEL``, ``HEARTH_CLOUD_API_KEY``), which fills
    in what this file leaves empty.
    """

    url: str | None = None
    """Base URL including the API prefix, e.g. ``http://192.168.1.20:8080/v1``."""
    model: str | None = None
    """Model name the endpoint knows; None = ``HEARTH_CLOUD_MODEL`` or ``default``."""
    api_key: SecretStr | None = None
    """Better kept in ``HEARTH_CLOUD_API_KEY`` than in a file."""
    connect_timeout_s: float = Field(2.0, gt=0.0, le=60.0)
    """Give up connecting after this long."""
    first_token_timeout_s: float = Field(4.0, gt=0.0, le=60.0)
    """Give up when no text has arrived this long after the request was sent."""
    total_timeout_s: float = Field(20.0, gt=0.0, le=600.0)
    """Give up on a reply still streaming after this long (what arrived is kept)."""
    max_tokens: int = Field(200, ge=1, le=8192)
    temperature: float = Field(0.3, ge=0.0, le=2.0)

    @model_validator(mode="after")
    def _url_scheme(self) -> CloudSettings:
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError("cloud.url must start with http:// or https://")
        return self
