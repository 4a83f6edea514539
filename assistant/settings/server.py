"""Settings for ``hearth serve``: where it listens, who may talk to it, its satellites.

Tokens are :class:`~pydantic.SecretStr`, so they never show up in a repr or a log line.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from assistant.settings.base import Frozen

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def is_loopback(host: str) -> bool:
    """Only this machine can reach a socket bound to ``host``."""
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SatelliteSettings(Frozen):
    """One satellite the server knows. Any other satellite is refused."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    """What the satellite calls itself (``hearth satellite --name``)."""
    token: SecretStr | None = None
    """The secret it must present; compared in constant time. Required unless ``uri``."""
    area: str | None = None
    """Its room; None = the area the satellite announces (which must exist in the home)."""
    wake_word: str | None = None
    """The wake model the server listens for on its behalf; None = ``wake.default``."""
    uri: str | None = Field(None, pattern=r"^tcp://[^:/]+:\d{1,5}$")
    """``tcp://HOST:PORT`` of a satellite that waits to be called, such as Home Assistant's
    ``wyoming-satellite``: the server connects to it (and reconnects), as Home Assistant
    would. The server chose the address, so no token; ``area`` is required."""

    @field_validator("token")
    @classmethod
    def _long_enough(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and len(v.get_secret_value()) < 8:
            raise ValueError("a satellite token needs at least 8 characters")
        return v

    @model_validator(mode="after")
    def _token_or_uri(self) -> SatelliteSettings:
        if self.uri is None and self.token is None:
            raise ValueError(f"satellite {self.name!r} needs a token (or a uri to call it at)")
        if self.uri is not None and self.area is None:
            raise ValueError(f"satellite {self.name!r} is called at {self.uri}: give its area")
        return self


class ServerSettings(Frozen):
    host: str = "127.0.0.1"
    """HTTP API and dashboard address. Anything but loopback requires ``token``
    (checked when the server starts)."""
    port: int = Field(8740, ge=1, le=65535)
    """HTTP API and dashboard port."""
    wyoming_host: str | None = None
    """Wyoming (satellites, Home Assistant) address; None = the same as ``host``."""
    wyoming_port: int | None = Field(10700, ge=0, le=65535)
    """Wyoming port; None or 0 = no Wyoming server."""
    token: SecretStr | None = None
    """API token. Once set, every HTTP request must carry ``Authorization: Bearer <token>``
    (the dashboard signs in once and keeps a cookie). ``$HEARTH_TOKEN`` also sets it."""
    microphone: bool = False
    """Run the voice loop on this machine's microphone (``audio.input_device``)."""
    speaker: bool = True
    """Speak the microphone loop's replies on ``audio.output_device``."""
    satellites: tuple[SatelliteSettings, ...] = ()
    """The satellites allowed to connect."""
    wyoming_trusted: tuple[str, ...] = ("127.0.0.1", "::1")
    """Peers that may use the wake, speech-to-text, handle and TTS services over Wyoming
    without a token (Home Assistant cannot send one). Others must send the API token
    first in an ``auth`` event."""
    tls_cert: Path | None = None
    """PEM certificate: serve Wyoming (and HTTP) over TLS. Absolute path."""
    tls_key: Path | None = None
    """PEM private key for ``tls_cert``. Absolute path."""
    log_format: Literal["json", "text"] = "json"
    """JSON lines for journald and log shippers; text for a terminal."""
    shutdown_timeout_s: float = Field(15.0, gt=0.0, le=300.0)
    """On SIGTERM, how long a turn in progress may take to finish before it is cancelled."""
    event_buffer: int = Field(500, ge=10, le=100_000)
    """Recent events kept for the dashboard and ``/api/events?replay=N``."""
    state_file: Path | None = None
    """Server state that survives restarts (the privacy mode); None = <data_dir>/server.json."""

    @field_validator("satellites")
    @classmethod
    def _unique_names(cls, v: tuple[SatelliteSettings, ...]) -> tuple[SatelliteSettings, ...]:
        names = [s.name for s in v]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"satellite names must be unique: {', '.join(dupes)}")
        return v

    @field_validator("tls_cert", "tls_key")
    @classmethod
    def _absolute(cls, v: Path | None) -> Path | None:
        if v is None:
            return None
        v = v.expanduser()
        if not v.is_absolute():
            raise ValueError(f"{v} must be an absolute path")
        return v

    @model_validator(mode="after")
    def _safe_binding(self) -> ServerSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        if self.token is not None and len(self.token.get_secret_value()) < 8:
            raise ValueError("the API token needs at least 8 characters")
        return self

    def unsafe_binding(self) -> str | None:
        """Why these settings must not serve, or None. Checked when ``hearth serve`` starts
        (not at load: the token may come from ``--token`` or ``$HEARTH_TOKEN``)."""
        if not is_loopback(self.host) and self.token is None:
            return (f"listening on {self.host} (not loopback) requires an API token "
                    "(--token, $HEARTH_TOKEN or server.token)")
        return None

    @property
    def wyoming_bind(self) -> str:
        return self.wyoming_host or self.host

    def satellite(self, name: str) -> SatelliteSettings | None:
        for sat in self.satellites:
            if sat.name == name:
                return sat
        return None
