"""Where the cloud is, and the small records a request carries (why it may leave, a
tool call it proposed): shared by the client, the privacy path and the tests."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from assistant.errors import CloudError
from assistant.settings.privacy import CloudSettings

ENV_URL = "HEARTH_CLOUD_URL"
ENV_MODEL = "HEARTH_CLOUD_MODEL"
ENV_API_KEY = "HEARTH_CLOUD_API_KEY"
DEFAULT_MODEL = "default"

ERROR_CODES = (
    "cloud_unreachable",
    "cloud_timeout",
    "cloud_refused",
    "cloud_rate_limited",
    "cloud_server_error",
    "cloud_bad_response",
    "cloud_unaudited",
    "cloud_unavailable",
)
"""Every code a :class:`CloudError` from this module can carry."""


@dataclass(frozen=True)
class CloudEndpoint:
    """Where the cloud is and how long to wait for it (settings, filled in from the env)."""

    url: str
    model: str = DEFAULT_MODEL
    api_key: str | None = field(default=None, repr=False)
    connect_timeout_s: float = 2.0
    first_token_timeout_s: float = 4.0
    total_timeout_s: float = 20.0
    max_tokens: int = 200
    temperature: float = 0.3


def resolve_endpoint(
    settings: CloudSettings, env: Mapping[str, str] | None = None
) -> CloudEndpoint | None:
    """The configured endpoint, or None when neither the config nor the env names one.

    Values in the config win; ``HEARTH_CLOUD_URL``/``_MODEL``/``_API_KEY`` fill in the gaps.
    """
    env = os.environ if env is None else env
    url = settings.url or env.get(ENV_URL) or None
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise CloudError(
            f"{ENV_URL} must start with http:// or https://, not {url!r}", code="cloud_unavailable"
        )
    key = settings.api_key.get_secret_value() if settings.api_key else env.get(ENV_API_KEY)
    return CloudEndpoint(
        url=url.rstrip("/"),
        model=settings.model or env.get(ENV_MODEL) or DEFAULT_MODEL,
        api_key=key or None,
        connect_timeout_s=settings.connect_timeout_s,
        first_token_timeout_s=settings.first_token_timeout_s,
        total_timeout_s=settings.total_timeout_s,
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
    )


@dataclass(frozen=True)
class AuditContext:
    """Why a request may leave: recorded with it."""

    rule: str
    mode: str
    consent: str
    """``policy`` (mode allow) or ``spoken_yes`` (mode ask, the user said yes)."""


@dataclass
class ToolCall:
    """A home action the cloud proposed (validated locally before anything happens)."""

    id: str = ""
    name: str = ""
    arguments: str = ""
