"""Settings for the home backends (``[home]``): the demo home, MQTT, Home Assistant,
and which entities each exposes."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from assistant.settings.base import Frozen


class ExposureSettings(Frozen):
    """Which entities the assistant may see and control, and which need a spoken yes.

    Patterns are entity ids or shell-style globs (``lock.*``, ``cover.garage_*``).
    """

    expose_defaults: bool = True
    """Expose everyday domains as Home Assistant does (lights, switches, fans, climate,
    media players, covers other than garage doors and gates, vacuums, sensors)."""
    expose: tuple[str, ...] = ()
    """Also expose these (e.g. ``lock.front_door``); locks, garage doors and alarm
    panels are exposed only when named here, and are then sensitive."""
    hide: tuple[str, ...] = ()
    """Never expose these; wins over ``expose``."""
    sensitive: tuple[str, ...] = ()
    """Also ask for a spoken yes before changing these."""
    areas: dict[str, str] = Field(default_factory=dict)
    """Put an entity in an area by name: ``{"light.shelly_1" = "Kitchen"}``."""
    aliases: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Other names an entity answers to: ``{"light.shelly_1" = ["Worktop Light"]}``."""


class MqttSettings(Frozen):
    """An MQTT broker with devices announced by Home Assistant MQTT discovery."""

    url: str = "mqtt://127.0.0.1:1883"
    """``mqtt://[user:pass@]host[:port]`` or ``mqtts://`` for TLS (port 8883).
    ``$HEARTH_MQTT_URL`` overrides it and selects the MQTT backend."""
    username: str | None = None
    """Overrides a user name in the URL."""
    password: str | None = None
    """Overrides a password in the URL."""
    client_id: str | None = None
    """None = ``hearth-<random>``."""
    tls: bool | None = None
    """None = TLS when the URL is ``mqtts://``."""
    ca_certs: Path | None = None
    """CA bundle to verify the broker; None = the system's."""
    certfile: Path | None = None
    """Client certificate, for brokers that want one."""
    keyfile: Path | None = None
    tls_insecure: bool = False
    """Skip the broker's host name check (self-signed test brokers only)."""
    discovery_prefix: str = "homeassistant"
    """Where devices announce themselves: ``<prefix>/<component>/[node/]object/config``."""
    connect_timeout_s: float = Field(5.0, gt=0.0, le=120.0)
    """How long start-up waits for the broker before giving up with one clear line."""
    discovery_wait_s: float = Field(3.0, ge=0.0, le=60.0)
    """At most this long at start to read retained discovery and state messages
    (start-up ends as soon as the broker has gone quiet)."""
    command_timeout_s: float = Field(5.0, gt=0.0, le=300.0)
    """A command not acknowledged by the broker within this is reported as not delivered;
    if it is still queued it is dropped, never sent late."""
    confirm_timeout_s: float = Field(0.5, ge=0.0, le=30.0)
    """After a command, wait at most this long for the device to report its new
    state; without a report the expected state is assumed (not an error)."""
    queue_size: int = Field(100, ge=1, le=100_000)
    """Commands held while the broker is unreachable; beyond this a command is refused."""
    reconnect_min_s: float = Field(0.5, gt=0.0, le=60.0)
    """First reconnection delay; doubles after each failure up to ``reconnect_max_s``."""
    reconnect_max_s: float = Field(30.0, gt=0.0, le=3600.0)
    keepalive_s: int = Field(30, ge=5, le=3600)
    exposure: ExposureSettings = ExposureSettings()

    @field_validator("url")
    @classmethod
    def _url_scheme(cls, value: str) -> str:
        if not value.startswith(("mqtt://", "mqtts://", "tcp://", "ssl://")):
            raise ValueError("must start with mqtt:// or mqtts://")
        return value


class HomeAssistantSettings(Frozen):
    """A Home Assistant server, through its REST and WebSocket APIs."""

    url: str = "http://127.0.0.1:8123"
    """Base URL of Home Assistant; ``$HEARTH_HASS_URL`` overrides it and selects the
    Home Assistant backend."""
    token: str | None = None
    """A long-lived access token (profile page in Home Assistant); ``$HEARTH_HASS_TOKEN``
    overrides it, and is the better place for it."""
    verify_tls: bool = True
    ca_certs: Path | None = None
    """CA bundle for an https:// server with a private certificate."""
    timeout_s: float = Field(5.0, gt=0.0, le=120.0)
    """Per request; a service call slower than this is reported as not delivered."""
    websocket: bool = True
    """Follow state changes over the WebSocket API (otherwise states are read per turn)."""
    reconnect_min_s: float = Field(0.5, gt=0.0, le=60.0)
    reconnect_max_s: float = Field(30.0, gt=0.0, le=3600.0)
    exposure: ExposureSettings = ExposureSettings()

    @field_validator("url")
    @classmethod
    def _url_scheme(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class HomeSettings(Frozen):
    backend: Literal["demo", "mqtt", "homeassistant"] = "demo"
    demo_home: Path | None = None
    """The demo home's definition (YAML); None = configs/demo_home.yaml."""
    state_db: Path | None = None
    """Where the demo home's state lives; None = <data_dir>/home.sqlite."""
    mqtt: MqttSettings = MqttSettings()
    """The MQTT broker (backend = "mqtt", or $HEARTH_MQTT_URL)."""
    homeassistant: HomeAssistantSettings = HomeAssistantSettings()
    """The Home Assistant server (backend = "homeassistant", or $HEARTH_HASS_URL)."""
