"""Home Assistant's REST API and state objects, as Hearth reads them.

:class:`HassRest` turns every failure into one :class:`~assistant.errors.HomeError`
with a stable code; :func:`normalise` and :func:`features_of` turn a state object into
Hearth's terms (brightness 0-255 -> ``brightness_pct``, feature bits -> names).
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from assistant.errors import HomeError
from assistant.home.base import EntityState
from assistant.settings import HomeAssistantSettings

COLOR_MODES = frozenset({"hs", "xy", "rgb", "rgbw", "rgbww"})
# Home Assistant's supported_features bits Hearth cares about.
FAN_SET_SPEED = 1
COVER_SET_POSITION = 4
MEDIA_VOLUME_SET = 4
LIGHT_LEGACY_BRIGHTNESS = 1
LIGHT_LEGACY_COLOR = 16
WS_MAX_MESSAGE = 32 * 1024 * 1024


def features_of(entity_id: str, attributes: Mapping[str, Any]) -> frozenset[str]:
    """Hearth's feature names from a Home Assistant state's attributes."""
    domain = entity_id.split(".", 1)[0]
    bits = attributes.get("supported_features", 0)
    bits = bits if isinstance(bits, int) else 0
    out: set[str] = set()
    if domain == "light":
        modes = attributes.get("supported_color_modes") or []
        modes = set(modes) if isinstance(modes, list) else set()
        if (modes - {"onoff"}) or bits & LIGHT_LEGACY_BRIGHTNESS:
            out.add("dimmable")
        if modes & COLOR_MODES or bits & LIGHT_LEGACY_COLOR:
            out.add("color")
    elif domain == "fan" and bits & FAN_SET_SPEED:
        out.add("speed")
    elif domain == "cover" and bits & COVER_SET_POSITION:
        out.add("position")
    elif domain == "media_player" and bits & MEDIA_VOLUME_SET:
        out.add("volume")
    return frozenset(out)


def normalise(raw: Mapping[str, Any]) -> EntityState:
    """A Home Assistant state object -> EntityState (brightness 0-255 -> brightness_pct)."""
    entity_id = str(raw["entity_id"])
    attrs = dict(raw.get("attributes") or {})
    brightness = attrs.get("brightness")
    if isinstance(brightness, (int, float)) and not isinstance(brightness, bool):
        attrs["brightness_pct"] = round(brightness * 100 / 255)
    state = str(raw.get("state", "unknown"))
    return EntityState(entity_id, state, attrs, available=state != "unavailable")


def naming(state: EntityState) -> tuple[Any, ...]:
    """What an entity's name and capabilities are read from (a change rebuilds the list)."""
    a = state.attributes
    return (a.get("friendly_name"), a.get("device_class"), a.get("supported_features"),
            a.get("supported_color_modes"))


class HassRest:
    """The REST API with the token; every failure becomes one HomeError."""

    def __init__(self, settings: HomeAssistantSettings, token: str) -> None:
        self.base = settings.url
        self.timeout = settings.timeout_s
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        context: ssl.SSLContext | None = None
        if self.base.startswith("https://"):
            context = ssl.create_default_context(
                cafile=str(settings.ca_certs) if settings.ca_certs else None)
            if not settings.verify_tls:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
        self.ssl = context
        # No proxies: Home Assistant is on the home network.
        self._opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers=self._headers)
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                text = resp.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            detail = _error_message(exc)
            if exc.code in (401, 403):
                raise HomeError(f"Home Assistant at {self.base} refused the access token "
                                f"({exc.code})", code="unauthorized") from None
            if exc.code == 404:
                raise HomeError(f"Home Assistant has no {path} ({detail})",
                                code="unknown_entity") from None
            code = "invalid_value" if exc.code == 400 else "home_failed"
            raise HomeError(f"Home Assistant said {exc.code}: {detail}", code=code) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise HomeError(f"Home Assistant at {self.base} did not answer ({reason})",
                            code="unreachable") from None
        try:
            return json.loads(text) if text else None
        except ValueError:
            raise HomeError(f"Home Assistant sent something that is not JSON for {path}",
                            code="home_failed") from None


def _error_message(exc: urllib.error.HTTPError) -> str:
    try:
        body = exc.read().decode("utf-8", "replace")
        obj = json.loads(body)
        if isinstance(obj, dict) and isinstance(obj.get("message"), str):
            return str(obj["message"])
        return body[:200]
    except (ValueError, OSError):
        return str(exc.reason)
